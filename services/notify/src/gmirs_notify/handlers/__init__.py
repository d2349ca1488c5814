"""Use cases of the notify service: one module per command or consumed event."""

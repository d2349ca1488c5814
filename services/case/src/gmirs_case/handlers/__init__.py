"""Use cases of the case service: one module per command or consumed event."""

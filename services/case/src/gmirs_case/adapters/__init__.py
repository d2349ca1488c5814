"""Storage and messaging adapters for the case service."""

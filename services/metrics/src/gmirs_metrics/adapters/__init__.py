"""Storage adapters for the metrics service."""

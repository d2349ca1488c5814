"""Storage, HTTP and payload adapters for the notify service."""

"""Cross-service tests for GMIRS Connect (end-to-end, fault and the fakes they talk to)."""

"""How the outside reaches the case service: its HTTP API and its event consumers."""

"""The whole GMIRS Connect platform on one machine, on embedded defaults (development and tests)."""

"""Test support for services built on the runtime: real PostgreSQL, a real broker, span capture."""

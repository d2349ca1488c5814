"""Local infrastructure for development and tests: real PostgreSQL and a Kafka-API broker as child processes."""

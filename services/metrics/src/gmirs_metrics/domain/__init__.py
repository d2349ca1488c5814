"""KPI rules (reporting months, borough names), free of frameworks and storage."""

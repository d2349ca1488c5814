"""Published payload shapes of GMIRS Connect: events (one module per context) and webhooks.

Import the model you produce or consume (e.g. `gmirs_contracts.case.AttendanceRecorded`) and look
up topics and schema ids in `gmirs_contracts.registry`. `gmirs_contracts.validation` is for tests
only (it needs the dev dependency jsonschema).
"""

"""The commissioners' and lead provider's KPI API."""

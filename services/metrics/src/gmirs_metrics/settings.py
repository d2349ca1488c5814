"""The metrics service's settings: environment variables prefixed METRICS_."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gmirs_runtime.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    service_name: str = "metrics"
    database_schema: str = "metrics"
    http_port: int = 8103
    auth_audience: str = "gmirs-metrics"

    # metricsdash: Appendix A
    indicator_first_contact_working_days: int = 2
    """Appendix A indicator 8's "agreed time" for first contact, in working days after the
    referral was sent: the specification leaves it to the contract, so it is a setting."""
    # metricspack: small-number suppression in the pack's breakdowns
    suppression_threshold: int = Field(default=5, ge=1, le=100)
    """Counts from 1 to this minus one are hidden (`*`); METRICS_SUPPRESSION_THRESHOLD."""

    # --- projection and rebuild (metricscore) ---
    projection_batch_records: int = 5000
    """The most events one projection transaction applies."""
    projection_poll_seconds: float = 1.0
    """How often the live projection checks whether a rebuild switched generations."""
    rebuild_schema: str = "metrics_rebuild"
    """Where a rebuild builds its tables (deployments create it for the service's role)."""
    rebuild_timeout_seconds: float = 3600.0
    """A rebuild not caught up with the topics by then gives up (the live tables stay)."""

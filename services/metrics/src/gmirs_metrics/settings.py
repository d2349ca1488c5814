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

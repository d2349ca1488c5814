"""The metrics service's settings: environment variables prefixed METRICS_."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gmirs_metrics.domain.kpi_readings import KpiReadings
from gmirs_metrics.domain.kpi_targets import ds1_default_targets
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
    # --- KPI readings (metricskpi): where the specification allows two readings, these choose.
    # Each is explained in services/metrics/MEASURES.md.
    kpi_mitigation: Literal["counts-as-met", "excluded"] = "counts-as-met"
    """"Inclusive of mitigation" (DS2, KP6): a late case with a recorded mitigation counts as
    met, or leaves the denominator."""
    kpi_ds3_plan_milestone: Literal["shared", "agreed"] = "shared"
    """DS3's "action plan written up": submitted to the PP (R&M), or agreed with the PoP."""
    kpi_ds4_starts_at: Literal["initial-assessment", "intervention-commenced"] = (
        "initial-assessment"
    )
    """DS4's ten working days count from the assessment (its target) or the start (its title)."""
    kpi_kp2_shared_within_window: bool = True
    """KP2: the plan must also be shared with the PP within the one business day."""
    kpi_kp6_starts_at: Literal["initial-assessment", "action-plan-approved"] = "initial-assessment"
    """KP6's ten working days count from the assessment or from the PP's approval of the plan."""
    kpi_ds5_counts_partial: bool = False
    """DS5: a partially achieved outcome counts as achieving an outcome."""
    kpi_distance_score: Literal["self", "staff", "mean"] = "self"
    """Distance travelled: the PoP's own score, the worker's, or their mean."""
    kpi_ds1_monthly_targets: dict[str, int] = Field(default_factory=ds1_default_targets)
    """DS1: referrals expected per hub per month (default: the demand table, see MEASURES.md)."""

    def kpi_readings(self) -> KpiReadings:
        return KpiReadings(
            mitigation=self.kpi_mitigation,
            ds3_plan_milestone=self.kpi_ds3_plan_milestone,
            ds4_starts_at=self.kpi_ds4_starts_at,
            kp2_shared_within_window=self.kpi_kp2_shared_within_window,
            kp6_starts_at=self.kpi_kp6_starts_at,
            ds5_counts_partial=self.kpi_ds5_counts_partial,
            distance_score=self.kpi_distance_score,
            ds1_monthly_targets=dict(self.kpi_ds1_monthly_targets),
        )

    # --- projection and rebuild (metricscore) ---
    projection_batch_records: int = 5000
    """The most events one projection transaction applies."""
    projection_poll_seconds: float = 1.0
    """How often the live projection checks whether a rebuild switched generations."""
    rebuild_schema: str = "metrics_rebuild"
    """Where a rebuild builds its tables (deployments create it for the service's role)."""
    rebuild_timeout_seconds: float = 3600.0
    """A rebuild not caught up with the topics by then gives up (the live tables stay)."""

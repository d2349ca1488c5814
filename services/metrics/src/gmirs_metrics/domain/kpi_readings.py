"""The readings chosen where the specification allows two (services/metrics/MEASURES.md).

Settings (`METRICS_KPI_...`) fill one of these; the KPI queries read only this, so a test can
compute the same month under both readings without restarting anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from gmirs_metrics.domain.kpi_targets import ds1_default_targets

Mitigation = Literal["counts-as-met", "excluded"]
PlanMilestone = Literal["shared", "agreed"]
Ds4Start = Literal["initial-assessment", "intervention-commenced"]
Kp6Start = Literal["initial-assessment", "action-plan-approved"]
DistanceScore = Literal["self", "staff", "mean"]


@dataclass(frozen=True)
class KpiReadings:
    mitigation: Mitigation = "counts-as-met"
    ds3_plan_milestone: PlanMilestone = "shared"
    ds4_starts_at: Ds4Start = "initial-assessment"
    kp2_shared_within_window: bool = True
    kp6_starts_at: Kp6Start = "initial-assessment"
    ds5_counts_partial: bool = False
    distance_score: DistanceScore = "self"
    ds1_monthly_targets: Mapping[str, int] = field(default_factory=ds1_default_targets)

    def ds1_target(self, area: str) -> int:
        """The month's DS1 target of one hub, or of every hub (`all`: their sum)."""
        if area in self.ds1_monthly_targets:
            return self.ds1_monthly_targets[area]
        if area == "all":
            return sum(self.ds1_monthly_targets.values())
        return 0

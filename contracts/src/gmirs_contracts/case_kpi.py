"""Facts on `case.case-events.v1` that the KPIs need beyond the lifecycle's own times.

- **Outcomes achieved** (DS5: "PoP on programme who achieve an outcome against the referral's
  actions"): how many of the referral's desired outcomes were achieved, partly achieved or not,
  from R&M's end of service report or as the hub recorded them at the end of sessions. Counts
  only: the outcomes' words stay in R&M.
- **Mitigation** (DS2 and KP6 are "inclusive of mitigation"): the hub's recorded reason why a
  measured step could not happen in time. A reason code, never the worker's note.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import HubId

OutcomeCount = Annotated[int, Field(ge=0, le=50)]
MitigatedMeasure = Literal["DS2", "KP6"]
"""The measures the specification counts "inclusive of mitigation"."""
MitigationReason = Literal[
    "pop-unwell",
    "pop-in-custody",
    "pop-requested-later-date",
    "pop-unreachable-despite-attempts",
    "awaiting-probation-practitioner",
    "other",
]


class OutcomeAchievement(ContractModel):
    """How far the referral's desired outcomes were achieved (R&M's end of service report)."""

    achieved: OutcomeCount
    partially_achieved: OutcomeCount
    not_achieved: OutcomeCount
    achievement_score: Annotated[float, Field(ge=0)] = Field(
        description="R&M's score: 1 per achieved and 0.5 per partially achieved outcome."
    )


class MitigationRecorded(ContractModel):
    """`gmirs.case.mitigation-recorded.v1`: why a measured step was late, as the hub recorded it."""

    mitigation_id: UUID
    case_id: UUID
    referral_id: UUID
    hub_id: HubId
    measure: MitigatedMeasure
    reason: MitigationReason
    occurred_at: AwareDatetime = Field(description="When the mitigating circumstance arose.")
    recorded_at: AwareDatetime = Field(description="When case recorded it.")

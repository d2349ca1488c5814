"""Request and response shapes of the lifecycle routes, and the lifecycle as a case shows it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from gmirs_case.adapters.lifecycle_events import achievement_of
from gmirs_case.domain.lifecycle import CaseState, Lifecycle
from gmirs_contracts.case_kpi import OutcomeAchievement
from gmirs_contracts.case_lifecycle import CaseState as StateName
from gmirs_contracts.case_lifecycle import ClosureReason as ClosureReasonName
from gmirs_contracts.common import HubId, Moment
from gmirs_contracts.common import Source as SourceName
from gmirs_contracts.intake_progress import DeliveryState


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Happened(_Strict):
    """When it happened in the world (it may be recorded later; never in the future)."""

    occurred_at: Moment


Count = Annotated[StrictInt, Field(ge=0, le=50)]


class OutcomeCounts(_Strict):
    """How many of the referral's desired outcomes were achieved, partly or not (DS5)."""

    achieved: Count
    partially_achieved: Count
    not_achieved: Count


class SessionsCompletion(Happened):
    outcomes: OutcomeCounts | None = None


class ClosureCreate(Happened):
    reason: ClosureReasonName


class Reallocation(_Strict):
    hub_id: HubId


class ClosureRead(BaseModel):
    reason: ClosureReasonName
    settled: bool = Field(description="False while R&M's reason is provisional.")
    closed_by: SourceName
    rm_withdrawal_code: str | None
    rm_delivery_state: DeliveryState | None


class LifecycleRead(BaseModel):
    state: StateName
    since: AwareDatetime
    reached: dict[StateName, AwareDatetime] = Field(
        description="The first time the case reached each state it has reached."
    )
    referral_sent_at: AwareDatetime
    plan_agreed_at: AwareDatetime | None
    closure: ClosureRead | None
    outcomes: OutcomeAchievement | None = Field(
        description="The desired outcomes achieved, once recorded (R&M's report replaces the hub's)."
    )

    @classmethod
    def of(cls, lifecycle: Lifecycle) -> LifecycleRead:
        closure = None
        if lifecycle.closure_reason is not None and lifecycle.closed_by is not None:
            closure = ClosureRead(
                reason=lifecycle.closure_reason.value,
                settled=lifecycle.closure_settled,
                closed_by=lifecycle.closed_by.value,
                rm_withdrawal_code=lifecycle.rm_withdrawal_code,
                rm_delivery_state=lifecycle.rm_delivery_state.value
                if lifecycle.rm_delivery_state
                else None,
            )
        return cls.model_validate(
            {
                "state": lifecycle.state.value,
                "since": lifecycle.since,
                "reached": {state.value: at for state, at in lifecycle.reached.items()},
                "referral_sent_at": lifecycle.reached[CaseState.RECEIVED],
                "plan_agreed_at": lifecycle.plan_agreed_at,
                "closure": closure,
                "outcomes": achievement_of(lifecycle.outcomes),
            }
        )

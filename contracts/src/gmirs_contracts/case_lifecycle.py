"""Payloads on `case.case-events.v1` that follow a case through its lifecycle.

One event type per transition of case's state machine (services/case domain/lifecycle.py):
allocated, first contact, initial assessment booked / attended / missed, needs assessed, action
plan agreed / shared / approved, intervention commenced, sessions completed, exit survey offered,
closed, and reallocated. Every payload says which case, referral and hub, the state moved from
and to, who moved it (`source`: the hub, or Refer and Monitor through intake), when it happened
(`occurred_at`) and when case recorded it (`recorded_at`), and the referral's sent time, so
metrics can measure every KPI window from the events alone. A move reported late by R&M (a
submission processed after its approval) has `from_state` equal to `state`: it fills in when
something happened without moving the case. The action plan events also outline the version
(its id, the outcome areas its goals cover, its number of sessions and of activities), so notify
can tell the probation practitioner what was agreed and link to it. No names, CRNs or free
text: notify and metrics need none of them, and the case id leads to the record for anyone
entitled to it.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.case_kpi import OutcomeAchievement
from gmirs_contracts.common import HubId, OutcomeArea, Source
from gmirs_contracts.intake_progress import DeliveryState

CaseState = Literal[
    "received",
    "allocated",
    "contacted",
    "initial-assessment-missed",
    "initial-assessment-booked",
    "initial-assessment-attended",
    "needs-assessed",
    "action-plan-agreed",
    "action-plan-shared",
    "action-plan-approved",
    "in-sessions",
    "sessions-completed",
    "exit-survey-offered",
    "closed",
]
ClosureReason = Literal[
    "completed",
    "disengaged",
    "declined",
    "inappropriate",
    "signposted-elsewhere",
    "withdrawn",
    "ended-in-rm",
]
PlanVersion = Annotated[int, Field(ge=1)]


class _LifecycleMoved(ContractModel):
    case_id: UUID
    referral_id: UUID
    hub_id: HubId
    from_state: CaseState
    state: CaseState = Field(description="The state the case is in after this event.")
    source: Source
    occurred_at: AwareDatetime = Field(description="When it happened (R&M's time for R&M facts).")
    recorded_at: AwareDatetime = Field(description="When case recorded it.")
    referral_sent_at: AwareDatetime = Field(description="When the PP sent the referral.")


class CaseAllocated(_LifecycleMoved):
    """`gmirs.case.case-allocated.v1`: the case is with the hub `hub_id` (R&M: assigned)."""


class CaseReallocated(_LifecycleMoved):
    """`gmirs.case.case-reallocated.v1`: the case moved from `previous_hub_id` to `hub_id`."""

    previous_hub_id: HubId


class FirstContactMade(_LifecycleMoved):
    """`gmirs.case.first-contact-made.v1`: the hub first reached the person on probation."""


class InitialAssessmentBooked(_LifecycleMoved):
    """`gmirs.case.initial-assessment-booked.v1`: booked, or rebooked after a missed one."""

    appointment_id: UUID
    starts_at: AwareDatetime


class InitialAssessmentAttended(_LifecycleMoved):
    """`gmirs.case.initial-assessment-attended.v1`: DS2 is `occurred_at` - `referral_sent_at`."""

    appointment_id: UUID | None = Field(description="Null when reported by R&M.")


class InitialAssessmentMissed(_LifecycleMoved):
    """`gmirs.case.initial-assessment-missed.v1`: the case waits for a rebooking."""

    appointment_id: UUID | None = Field(description="Null when reported by R&M.")


class _AfterAssessment(_LifecycleMoved):
    initial_assessment_attended_at: AwareDatetime | None = Field(
        description="The start of the DS3 / DS4 / KP6 windows; null if never recorded."
    )


class NeedsAssessed(_AfterAssessment):
    """`gmirs.case.needs-assessed.v1`: needs assessed against the outcome areas."""


Sessions = Annotated[int, Field(ge=1)]


class _PlanOutlined(_AfterAssessment):
    """What a notification of the plan needs, without its free text (goals, activities).

    Optional, added in place (version 1 kept): null when R&M reported the move, or when the
    event came before case stored plan content. The plan itself is
    `GET /cases/{case_id}/action-plans/{version}` on the case API, for those entitled to it.
    """

    action_plan_id: UUID | None = Field(
        default=None, description="The plan version's id in case; null when reported by R&M."
    )
    outcome_areas: Annotated[list[OutcomeArea], Field(max_length=12)] | None = Field(
        default=None, description="The outcome areas the version's goals cover, in order."
    )
    activity_count: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="How many activities the version has."
    )


class ActionPlanAgreed(_PlanOutlined):
    """`gmirs.case.action-plan-agreed.v1`: a version agreed with the person (versions are kept)."""

    version: PlanVersion
    number_of_sessions: Sessions | None


class ActionPlanShared(_PlanOutlined):
    """`gmirs.case.action-plan-shared.v1`: shared with the PP (R&M: submitted); KP2, DS3."""

    version: PlanVersion | None = Field(description="Null when reported by R&M.")
    agreed_at: AwareDatetime | None
    number_of_sessions: Sessions | None = Field(
        default=None, description="The shared version's; null when reported by R&M."
    )


class ActionPlanApproved(_PlanOutlined):
    """`gmirs.case.action-plan-approved.v1`: the PP approved the shared plan."""

    version: PlanVersion | None = Field(description="Null when reported by R&M.")
    shared_at: AwareDatetime | None
    number_of_sessions: Sessions | None = Field(
        default=None, description="The approved version's; null when reported by R&M."
    )


class InterventionCommenced(_AfterAssessment):
    """`gmirs.case.intervention-commenced.v1`: the first session attended after the plan (KP6)."""

    appointment_id: UUID | None = Field(description="Null when reported by R&M.")


class SessionsCompleted(_LifecycleMoved):
    """`gmirs.case.sessions-completed.v1`: delivery finished (R&M: end of service report)."""

    outcomes: OutcomeAchievement | None = Field(
        default=None, description="The desired outcomes achieved, when recorded (DS5)."
    )


class ExitSurveyOffered(_LifecycleMoved):
    """`gmirs.case.exit-survey-offered.v1`: KP5 is `occurred_at` - `sessions_completed_at`."""

    sessions_completed_at: AwareDatetime | None


class CaseClosed(_LifecycleMoved):
    """`gmirs.case.case-closed.v1`: closed with a reason.

    A reason from a bare R&M delivery state is provisional (`reason_settled` false): a second
    case-closed event for the same case may refine it when R&M's withdrawal code arrives.
    """

    closure_reason: ClosureReason
    reason_settled: bool
    rm_withdrawal_code: Annotated[str, Field(max_length=20)] | None
    rm_delivery_state: DeliveryState | None
    sessions_completed_at: AwareDatetime | None
    exit_survey_offered_at: AwareDatetime | None
    outcomes: OutcomeAchievement | None = Field(
        default=None, description="The desired outcomes achieved, when recorded (DS5)."
    )

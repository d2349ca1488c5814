"""Payloads on `intake.referral-events.v1` that follow a referral's progress in Refer and Monitor.

Produced by referral-intake from R&M's domain events, keyed by OUR referral id (so each
referral's events stay in order on one partition), each naming the R&M referral too. R&M
publishes without ordering guarantees, so consumers must accept these in any order (feedback
before attendance, an action plan's approval before its submission) and judge by the times
they carry. Values use our vocabulary (lower-case, hyphenated), not R&M's enum spellings.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import (
    AppointmentKind,
    Attended,
    Crn,
    NoSessionReason,
    ReferenceNumber,
)

DeliveryState = Literal["cancelled", "prematurely-ended", "completed"]
"""How R&M ended a referral: no plan or no attended session / some sessions / all sessions."""
AchievementLevel = Literal["achieved", "partially-achieved", "not-achieved"]
Text = Annotated[str, Field(max_length=10_000)]
Username = Annotated[str, Field(min_length=1, max_length=200)]
SessionNumber = Annotated[int, Field(ge=1)]


class _RmProgress(ContractModel):
    referral_id: UUID
    rm_referral_id: UUID


class ReferralAssigned(_RmProgress):
    """`gmirs.intake.referral-assigned.v1`: a provider caseworker was (re)assigned in R&M."""

    assigned_at: AwareDatetime
    assigned_to: Username = Field(description="The caseworker's HMPPS Auth username.")


class _ActionPlan(_RmProgress):
    action_plan_id: UUID
    submitted_at: AwareDatetime | None
    number_of_sessions: SessionNumber | None
    activities: list[Text]


class ActionPlanSubmitted(_ActionPlan):
    """`gmirs.intake.action-plan-submitted.v1`: the provider submitted an action plan to the PP."""


class ActionPlanApproved(_ActionPlan):
    """`gmirs.intake.action-plan-approved.v1`: the PP approved it (sessions 1..N now exist)."""

    approved_at: AwareDatetime


class _Appointment(_RmProgress):
    crn: Crn
    reference_number: ReferenceNumber | None
    appointment_kind: AppointmentKind
    session_number: SessionNumber | None = Field(description="Null for the initial assessment.")
    rm_appointment_id: UUID
    appointment_starts_at: AwareDatetime
    appointment_ends_at: AwareDatetime
    attended: Attended
    session_happened: bool
    no_session_reason: NoSessionReason | None
    notify_pp_of_concerns: bool


class AttendanceRecorded(_Appointment):
    """`gmirs.intake.attendance-recorded.v1`: the provider submitted attendance in R&M.

    From R&M's `…appointment.attended` / `…appointment.missed`. `non_attendance` (attended no,
    or no session for a reason of the person's) starts the 24-hour clock; `report_due_by` is
    the appointment's end plus 24 hours, as in `gmirs.case.attendance-recorded.v1`.
    """

    non_attendance: bool
    recorded_at: AwareDatetime
    report_due_by: AwareDatetime


class SessionFeedbackSubmitted(_Appointment):
    """`gmirs.intake.session-feedback-submitted.v1`: the provider's feedback on an appointment."""

    submitted_at: AwareDatetime
    delius_appointment_id: Annotated[str, Field(max_length=100)] | None
    late: bool | None
    late_reason: Text | None
    session_summary: Text | None
    session_response: Text | None
    session_concerns: Text | None
    session_behaviour: Text | None
    no_attendance_information: Text | None
    future_session_plans: Text | None
    notify_pp_of_behaviour: bool


class Outcome(ContractModel):
    """How far one desired outcome was achieved."""

    desired_outcome_id: UUID
    desired_outcome: str | None
    achievement_level: AchievementLevel
    progression_comments: Text | None
    additional_task_comments: Text | None


class EndOfServiceReportSubmitted(_RmProgress):
    """`gmirs.intake.end-of-service-report-submitted.v1`: the provider's closing report.

    `achievement_score` sums 1 per achieved and 0.5 per partially achieved outcome (R&M's score).
    """

    end_of_service_report_id: UUID
    submitted_at: AwareDatetime
    further_information: Text | None
    outcomes: list[Outcome]
    achievement_score: Annotated[float, Field(ge=0)]


class ReferralEnded(_RmProgress):
    """`gmirs.intake.referral-ended.v1`: the referral was withdrawn or its end was requested."""

    ended_at: AwareDatetime
    delivery_state: DeliveryState | None
    withdrawal_code: Annotated[str, Field(max_length=20)] | None
    end_requested_at: AwareDatetime | None


class ReferralConcluded(_RmProgress):
    """`gmirs.intake.referral-concluded.v1`: R&M needs no more work on the referral."""

    concluded_at: AwareDatetime
    delivery_state: DeliveryState

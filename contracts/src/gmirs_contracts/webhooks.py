"""Webhook bodies sent to probation systems (Standard Webhooks: type, timestamp, data)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.case_lifecycle import ClosureReason
from gmirs_contracts.common import (
    AppointmentKind,
    Attended,
    Crn,
    HubId,
    NoSessionReason,
    ReferenceNumber,
)

NON_ATTENDANCE_RECORDED = "non-attendance.recorded"


class AlertAppointment(ContractModel):
    """The appointment the person missed."""

    appointment_id: UUID
    kind: AppointmentKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class ProbationAlertData(ContractModel):
    """What the probation practitioner's system needs to act on a non-attendance, and no more:
    the CRN (the practitioner's key), never a name, date of birth or contact details."""

    case_id: UUID
    referral_id: UUID
    rm_referral_id: UUID | None
    reference_number: ReferenceNumber | None
    crn: Crn
    hub_id: HubId
    appointment: AlertAppointment
    attended: Attended
    session_happened: bool
    no_session_reason: NoSessionReason | None
    notify_pp_of_concerns: bool
    recorded_at: AwareDatetime
    report_due_by: AwareDatetime
    session_number: int | None = Field(
        default=None, ge=1, description="The session's number in the plan; null if not known."
    )
    rm_url: str | None = Field(
        default=None,
        max_length=2048,
        description="The referral's progress page in Refer and Monitor, where the session is "
        "listed; null when the referral did not come through R&M.",
    )


class ProbationAlert(ContractModel):
    """`probation-alert.v1`: the body of a non-attendance webhook.

    The body is signed as sent; `timestamp` is when the alert was first created, constant across
    retries (the `webhook-timestamp` header carries each attempt's time).
    """

    type: Literal["non-attendance.recorded"]
    timestamp: AwareDatetime
    data: ProbationAlertData


ACTION_PLAN_AGREED = "action-plan.agreed"
CASE_CLOSED = "case.closed"


class CaseProgressData(ContractModel):
    """Which case moved, and when; shared only where the person consented to share progress
    with the endpoint's organisation. The CRN is null if notify never saw the case open."""

    case_id: UUID
    referral_id: UUID
    crn: Crn | None
    reference_number: ReferenceNumber | None
    hub_id: HubId
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime


class ActionPlanAgreedData(CaseProgressData):
    version: int = Field(ge=1)
    number_of_sessions: int | None = Field(ge=1)


class ActionPlanAgreedAlert(ContractModel):
    """`action-plan-agreed.v1`: the person agreed an action plan (version) with the hub."""

    type: Literal["action-plan.agreed"]
    timestamp: AwareDatetime
    data: ActionPlanAgreedData


class CaseClosedData(CaseProgressData):
    closure_reason: ClosureReason
    reason_settled: bool = Field(description="False: a later case.closed may refine the reason.")


class CaseClosedAlert(ContractModel):
    """`case-closed.v1`: the hub's work with the person ended, with the reason."""

    type: Literal["case.closed"]
    timestamp: AwareDatetime
    data: CaseClosedData


PING = "ping"


class PingData(ContractModel):
    """Which endpoint was pinged; nothing about anyone."""

    subscription_id: UUID


class WebhookPing(ContractModel):
    """`ping.v1`: a test delivery an operator or the subscriber asks for; answer it with a 2xx.

    Signed exactly like a report, so it proves the URL, the TLS set-up and the secret together.
    """

    type: Literal["ping"]
    timestamp: AwareDatetime
    data: PingData

"""Webhook bodies sent to probation systems (Standard Webhooks: type, timestamp, data)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime

from gmirs_contracts.base import ContractModel
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
    """What the probation practitioner's system needs to act on a non-attendance."""

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


class ProbationAlert(ContractModel):
    """`probation-alert.v1`: the body of a non-attendance webhook.

    The body is signed as sent; `timestamp` is when the alert was first created, constant across
    retries (the `webhook-timestamp` header carries each attempt's time).
    """

    type: Literal["non-attendance.recorded"]
    timestamp: AwareDatetime
    data: ProbationAlertData

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

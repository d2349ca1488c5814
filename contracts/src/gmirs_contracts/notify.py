"""Payloads on `notify.delivery-events.v1`, produced by notify: per webhook delivery acknowledged,
per statutory report acknowledged, escalated or breached (the 24-hour KPI), and per appointment
whose attendance nobody recorded in time (the attendance watchdog)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import AppointmentKind, HubId

TOPIC = "notify.delivery-events.v1"


class NonAttendanceReported(ContractModel):
    """`gmirs.notify.non-attendance-reported.v1`: a probation endpoint acknowledged a report (2xx).

    `within_deadline` is judged against `report_due_by`, which feeds the 24-hour KPI.
    """

    report_id: UUID
    case_id: UUID
    appointment_id: UUID
    subscription_id: UUID
    webhook_id: Annotated[str, Field(min_length=1)]
    acknowledged_at: AwareDatetime
    report_due_by: AwareDatetime
    within_deadline: bool
    attempts: Annotated[int, Field(ge=1)]


ReportChannel = Literal["webhook", "rm_writeback", "manual_entry", "notify_email", "rm_recorded"]
"""How a report reached the probation practitioner (`rm_recorded`: recorded in R&M itself)."""
ReportOrigin = Literal["hub", "refer-and-monitor"]
ReportCause = Literal["not-attempted", "failing", "refused", "awaiting-acknowledgement"]
"""Why a report is not through: no attempt yet on a channel that completes it, its attempts are
failing, one was refused for good, or it was sent and not yet acknowledged."""


class _ReportEvent(ContractModel):
    report_id: UUID
    case_id: UUID
    referral_id: UUID
    appointment_id: UUID
    hub_id: HubId
    origin: ReportOrigin
    appointment_ends_at: AwareDatetime
    report_due_by: AwareDatetime


class ReportAcknowledged(_ReportEvent):
    """`gmirs.notify.report-acknowledged.v1`: the statutory report of a non-attendance is through.

    One per report, on the channel that completed it; `seconds_taken` runs from the appointment's
    end (the 24-hour KPI), `within_deadline` compares `acknowledged_at` with `report_due_by`.
    """

    channel: ReportChannel
    acknowledged_at: AwareDatetime
    seconds_taken: Annotated[int, Field(ge=0)]
    within_deadline: bool
    attempts: Annotated[int, Field(ge=0)]


class ReportEscalated(_ReportEvent):
    """`gmirs.notify.report-escalated.v1`: a report at risk was handed to named people.

    At most once per report: 20 hours after the end by default, or at once on a refusal.
    """

    escalated_at: AwareDatetime
    cause: ReportCause
    detail: Annotated[str, Field(max_length=1000)]
    """Per channel: last result, status code or error class, attempt count (no personal data)."""


class ReportBreached(_ReportEvent):
    """`gmirs.notify.report-breached.v1`: the deadline passed with no acknowledgement."""

    breached_at: AwareDatetime
    cause: ReportCause
    detail: Annotated[str, Field(max_length=1000)]


class AttendanceWatchdogWarned(ContractModel):
    """`gmirs.notify.attendance-watchdog-warned.v1`: nobody recorded an appointment's attendance
    `warned_after_seconds` after its end (2 hours by default), so the hub was warned while a
    non-attendance could still be reported within 24 hours of the end.

    Once per appointment time (a rescheduled appointment is watched again at its new end).
    Ids, hub and times only.
    """

    case_id: UUID
    referral_id: UUID
    appointment_id: UUID
    hub_id: HubId
    appointment_kind: AppointmentKind
    appointment_ends_at: AwareDatetime
    warned_at: AwareDatetime
    warned_after_seconds: Annotated[int, Field(ge=0)]

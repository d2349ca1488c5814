"""Payload shapes notify produces: the webhook body (probation-alert.v1) and the delivery events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gmirs_contracts import notify as contract
from gmirs_contracts.case import AttendanceRecorded
from gmirs_contracts.registry import EVENTS, EventContract, contract_for
from gmirs_contracts.webhooks import AlertAppointment, ProbationAlert, ProbationAlertData
from gmirs_notify.adapters.deliveries import ClaimedDelivery
from gmirs_notify.domain.delivery import within_deadline
from gmirs_notify.domain.report import Acknowledged, Change, Escalated, Report
from gmirs_notify.domain.rm_links import RmPages, rm_progress_url
from gmirs_notify.domain.subscription import NON_ATTENDANCE_RECORDED

ATTENDANCE_RECORDED = contract_for(AttendanceRecorded)
NON_ATTENDANCE_REPORTED = EVENTS["gmirs.notify.non-attendance-reported.v1"]
REPORT_ACKNOWLEDGED = EVENTS["gmirs.notify.report-acknowledged.v1"]
REPORT_ESCALATED = EVENTS["gmirs.notify.report-escalated.v1"]
REPORT_BREACHED = EVENTS["gmirs.notify.report-breached.v1"]
AGGREGATE = "case"


def probation_alert(
    attendance: AttendanceRecorded,
    *,
    created_at: datetime,
    session_number: int | None = None,
    rm_ui_base_url: str,
) -> ProbationAlert:
    """The webhook body, built once per event so every retry sends the same bytes."""
    return ProbationAlert(
        type=NON_ATTENDANCE_RECORDED,
        timestamp=created_at,
        data=ProbationAlertData(
            case_id=attendance.case_id,
            referral_id=attendance.referral_id,
            rm_referral_id=attendance.rm_referral_id,
            reference_number=attendance.reference_number,
            crn=attendance.crn,
            hub_id=attendance.hub_id,
            appointment=AlertAppointment(
                appointment_id=attendance.appointment_id,
                kind=attendance.appointment_kind,
                starts_at=attendance.appointment_starts_at,
                ends_at=attendance.appointment_ends_at,
            ),
            attended=attendance.attended,
            session_happened=attendance.session_happened,
            no_session_reason=attendance.no_session_reason,
            notify_pp_of_concerns=attendance.notify_pp_of_concerns,
            recorded_at=attendance.recorded_at,
            report_due_by=attendance.report_due_by,
            session_number=session_number,
            rm_url=rm_progress_url(
                rm_ui_base_url, attendance.rm_referral_id, RmPages.PROBATION_PRACTITIONER
            ),
        ),
    )


def non_attendance_reported(
    claimed: ClaimedDelivery, *, acknowledged_at: datetime
) -> contract.NonAttendanceReported:
    return contract.NonAttendanceReported(
        report_id=claimed.id,
        case_id=claimed.case_id,
        appointment_id=claimed.appointment_id,
        subscription_id=claimed.subscription_id,
        webhook_id=claimed.webhook_id,
        acknowledged_at=acknowledged_at,
        report_due_by=claimed.due_at,
        within_deadline=bool(within_deadline(acknowledged_at, claimed.due_at)),
        attempts=claimed.attempts,
    )


def report_event(
    report: Report, change: Change
) -> tuple[
    EventContract[Any],
    contract.ReportAcknowledged | contract.ReportEscalated | contract.ReportBreached,
]:
    """The delivery event that states one change of a report (keyed by its case)."""
    common: dict[str, Any] = {
        "report_id": report.id,
        "case_id": report.case_id,
        "referral_id": report.referral_id,
        "appointment_id": report.appointment_id,
        "hub_id": report.hub_id,
        "origin": report.origin.value,
        "appointment_ends_at": report.appointment_ends_at,
        "report_due_by": report.due_at,
    }
    if isinstance(change, Acknowledged):
        taken = max(0, int((change.at - report.appointment_ends_at).total_seconds()))
        return REPORT_ACKNOWLEDGED, contract.ReportAcknowledged(
            **common,
            channel=change.channel.value,
            acknowledged_at=change.at,
            seconds_taken=taken,
            within_deadline=change.at <= report.due_at,
            attempts=len(report.attempts),
        )
    if isinstance(change, Escalated):
        return REPORT_ESCALATED, contract.ReportEscalated(
            **common, escalated_at=change.at, cause=change.cause.value, detail=change.detail[:1000]
        )
    return REPORT_BREACHED, contract.ReportBreached(
        **common, breached_at=change.at, cause=change.cause.value, detail=change.detail[:1000]
    )

"""Domain objects to published case events (the contract shapes in gmirs_contracts.case)."""

from __future__ import annotations

from gmirs_case.domain.model import Appointment, Case
from gmirs_contracts import case as contract
from gmirs_contracts.registry import EVENTS

CASE_OPENED = EVENTS["gmirs.case.case-opened.v1"]
APPOINTMENT_BOOKED = EVENTS["gmirs.case.appointment-booked.v1"]
ATTENDANCE_RECORDED = EVENTS["gmirs.case.attendance-recorded.v1"]
AGGREGATE = "case"


def case_opened(case: Case) -> contract.CaseOpened:
    return contract.CaseOpened(
        case_id=case.id,
        referral_id=case.referral_id,
        hub_id=case.hub_id,
        probation_delivery_unit=case.probation_delivery_unit,
        crn=case.crn,
        reference_number=case.reference_number,
        opened_at=case.opened_at,
    )


def appointment_booked(case: Case, appointment: Appointment) -> contract.AppointmentBooked:
    return contract.AppointmentBooked(
        case_id=case.id,
        referral_id=case.referral_id,
        hub_id=case.hub_id,
        appointment_id=appointment.id,
        kind=appointment.kind.value,
        session_number=appointment.session_number,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        delivery_type=appointment.delivery_type.value,
        booked_at=appointment.booked_at,
    )


def attendance_recorded(case: Case, appointment: Appointment) -> contract.AttendanceRecorded:
    attendance = appointment.attendance
    if attendance is None:
        raise ValueError("attendance_recorded needs an appointment with attendance")
    reason = attendance.no_session_reason
    return contract.AttendanceRecorded(
        case_id=case.id,
        referral_id=case.referral_id,
        rm_referral_id=case.rm_referral_id,
        hub_id=case.hub_id,
        crn=case.crn,
        reference_number=case.reference_number,
        appointment_id=appointment.id,
        appointment_kind=appointment.kind.value,
        appointment_starts_at=appointment.starts_at,
        appointment_ends_at=appointment.ends_at,
        attended=attendance.attended.value,
        session_happened=attendance.session_happened,
        no_session_reason=reason.value if reason else None,
        non_attendance=attendance.is_non_attendance,
        notify_pp_of_concerns=attendance.notify_pp_of_concerns,
        recorded_at=attendance.recorded_at,
        report_due_by=appointment.report_due_by,
    )

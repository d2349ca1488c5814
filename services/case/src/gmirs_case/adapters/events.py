"""Domain objects to published case events (the contract shapes in gmirs_contracts.case)."""

from __future__ import annotations

from typing import Any

from gmirs_case.adapters import records
from gmirs_case.domain.model import Appointment, Case
from gmirs_contracts import case as contract
from gmirs_contracts.common import Source
from gmirs_contracts.registry import EVENTS
from gmirs_runtime.db import EventQueue

CASE_OPENED = EVENTS["gmirs.case.case-opened.v1"]
APPOINTMENT_BOOKED = EVENTS["gmirs.case.appointment-booked.v1"]
ATTENDANCE_RECORDED = EVENTS["gmirs.case.attendance-recorded.v1"]
AGGREGATE = "case"


APPOINTMENT_FIELDS = {"id": "appointment_id"}
ATTENDED_APPOINTMENT_FIELDS = {
    "id": "appointment_id",
    "kind": "appointment_kind",
    "starts_at": "appointment_starts_at",
    "ends_at": "appointment_ends_at",
}
"""Names an event gives the appointment's fields where they differ from the domain's."""


def case_opened(case: Case) -> contract.CaseOpened:
    return records.contract(contract.CaseOpened, _case_fields(case))


def appointment_booked(case: Case, appointment: Appointment) -> contract.AppointmentBooked:
    appointment_fields = records.record_of(appointment, rename=APPOINTMENT_FIELDS)
    return records.contract(contract.AppointmentBooked, _case_fields(case) | appointment_fields)


def attendance_recorded(
    case: Case, appointment: Appointment, *, source: Source = "hub", recorded_by: str | None = None
) -> contract.AttendanceRecorded:
    """`source` refer-and-monitor: the provider recorded it in R&M (notify starts no write-back);
    `recorded_by` the hub worker's login, on whose behalf notify writes it back to R&M."""
    attendance = appointment.attendance
    if attendance is None:
        raise ValueError("attendance_recorded needs an appointment with attendance")
    values = (
        _case_fields(case)
        | records.record_of(appointment, rename=ATTENDED_APPOINTMENT_FIELDS)
        | records.record_of(attendance)
        | {
            "non_attendance": attendance.is_non_attendance,
            "report_due_by": appointment.report_due_by,
            "source": source,
            "recorded_by": recorded_by,
        }
    )
    return records.contract(contract.AttendanceRecorded, values)


def publish_attendance_recorded(
    queue: EventQueue,
    case: Case,
    appointment: Appointment,
    *,
    source: Source = "hub",
    recorded_by: str | None = None,
) -> None:
    """Queue `attendance-recorded` for the case (`attendance_recorded` says what it carries)."""
    queue.publish(
        ATTENDANCE_RECORDED,
        attendance_recorded(case, appointment, source=source, recorded_by=recorded_by),
        aggregate_type=AGGREGATE,
        aggregate_id=case.id,
    )


def _case_fields(case: Case) -> dict[str, Any]:
    return records.record_of(case, leave_out={"appointments"}, rename={"id": "case_id"})

"""R&M's appointments (its initial assessment and sessions) as the case's own appointments.

Keyed by R&M's appointment id, which the notify write-back needs to report to the right one.
Each newly learned attendance is published as `attendance-recorded` with source
`refer-and-monitor` (a non-attendance there starts notify's report, already complete in R&M);
attendance the case already held (the hub's own, written back and echoed) publishes nothing.
R&M does not tell intake how an appointment is delivered, so its delivery type stays unknown.
"""

from __future__ import annotations

import uuid

from gmirs_case.adapters import events
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.model import (
    Appointment,
    AppointmentKind,
    Attendance,
    Case,
)
from gmirs_contracts.intake_progress import AttendanceRecorded


async def record_rm_appointment(
    uow: CaseUnitOfWork, case: Case, progress: AttendanceRecorded
) -> Appointment | None:
    """Record R&M's attendance on its appointment; None if the case already held it."""
    appointment = _by_rm_id(case, progress.rm_appointment_id)
    if appointment is not None and appointment.attendance is not None:
        return None
    attendance = Attendance.of(
        progress.attended,
        progress.session_happened,
        progress.no_session_reason,
        progress.notify_pp_of_concerns,
        recorded_at=progress.recorded_at,
    )
    if appointment is None:
        appointment = Appointment(
            id=uuid.uuid4(),
            kind=AppointmentKind(progress.appointment_kind),
            session_number=progress.session_number,
            starts_at=progress.appointment_starts_at,
            ends_at=progress.appointment_ends_at,
            delivery_type=None,
            booked_at=progress.recorded_at,
            rm_appointment_id=progress.rm_appointment_id,
        )
        case.appointments.append(appointment)
    appointment.attendance = attendance
    await uow.cases.save_appointment(case, appointment)
    uow.publish(
        events.ATTENDANCE_RECORDED,
        events.attendance_recorded(case, appointment, source="refer-and-monitor"),
        aggregate_type=events.AGGREGATE,
        aggregate_id=case.id,
    )
    return appointment


def _by_rm_id(case: Case, rm_appointment_id: uuid.UUID) -> Appointment | None:
    for appointment in case.appointments:
        if appointment.rm_appointment_id == rm_appointment_id:
            return appointment
    return None

"""R&M's appointments (its initial assessment and sessions) as the case's own appointments.

Keyed by R&M's appointment id, which the notify write-back needs to report to the right one.
An appointment the hub booked here and then entered in R&M is the same appointment: R&M's report
of one with the same kind, session number and start attaches to it (and links it) instead of
adding a second. Each newly learned attendance is published as `attendance-recorded` with source
`refer-and-monitor` (a non-attendance there starts notify's report, already complete in R&M);
attendance the case already held (the hub's own, written back and echoed) publishes nothing.
R&M does not tell intake how an appointment it booked is delivered, so such an appointment's
delivery type stays unknown.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_case.adapters import events
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.appointments import hub_booked_match
from gmirs_case.domain.model import (
    Appointment,
    AppointmentKind,
    Attendance,
    Case,
)
from gmirs_case.handlers.appointment_changes import save_link
from gmirs_contracts.intake_progress import AttendanceRecorded


async def record_rm_appointment(
    uow: CaseUnitOfWork, case: Case, progress: AttendanceRecorded, *, now: datetime
) -> Appointment | None:
    """Record R&M's attendance on its appointment; None if the case already held it."""
    appointment = _by_rm_id(case, progress.rm_appointment_id)
    if appointment is None:
        appointment = await _link_hub_booking(uow, case, progress, now=now)
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
    events.publish_attendance_recorded(uow, case, appointment, source="refer-and-monitor")
    return appointment


def _by_rm_id(case: Case, rm_appointment_id: uuid.UUID) -> Appointment | None:
    for appointment in case.appointments:
        if appointment.rm_appointment_id == rm_appointment_id:
            return appointment
    return None


async def _link_hub_booking(
    uow: CaseUnitOfWork, case: Case, progress: AttendanceRecorded, *, now: datetime
) -> Appointment | None:
    """The hub's booking R&M reports on, now linked to R&M's appointment id (None if none)."""
    appointment = hub_booked_match(
        case.appointments,
        kind=progress.appointment_kind,
        session_number=progress.session_number,
        starts_at=progress.appointment_starts_at,
    )
    if appointment is not None:
        appointment.rm_appointment_id = progress.rm_appointment_id
        await save_link(uow, case, appointment, source="refer-and-monitor", now=now)
    return appointment

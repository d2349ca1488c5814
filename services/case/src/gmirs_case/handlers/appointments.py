"""Hubs book appointments and record attendance; attendance is what the 24-hour promise watches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gmirs_case.adapters import events
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.appointments import Place
from gmirs_case.domain.model import (
    Appointment,
    AppointmentKind,
    Attendance,
    Case,
)
from gmirs_case.handlers.lifecycle import after_attendance, after_booking
from gmirs_case.handlers.locking import locked_case


@dataclass(frozen=True, slots=True)
class BookAppointment:
    case_id: uuid.UUID
    kind: AppointmentKind
    session_number: int | None
    starts_at: datetime
    ends_at: datetime
    place: Place
    group_session_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class RecordAttendance:
    case_id: uuid.UUID
    appointment_id: uuid.UUID
    attendance: Attendance
    recorded_by: str | None = None
    """The hub worker's login (notify writes the non-attendance back to R&M as them)."""


async def book_appointment(
    command: BookAppointment, *, uow: CaseUnitOfWork, hub_id: str | None, now: datetime
) -> tuple[Case, Appointment]:
    case = await locked_case(uow, command.case_id, hub_id)
    return case, await book_on_case(uow, case, command, now=now)


async def book_on_case(
    uow: CaseUnitOfWork, case: Case, command: BookAppointment, *, now: datetime
) -> Appointment:
    """Book on the (already locked) case, save it and publish the booking."""
    place = command.place
    appointment = case.book(
        appointment_id=uuid.uuid4(),
        kind=command.kind,
        session_number=command.session_number,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        delivery_type=place.delivery_type,
        now=now,
        session_type=place.session_type,
        nps_office_code=place.nps_office_code,
        address=place.address,
        group_session_id=command.group_session_id,
    )
    await uow.cases.save_appointment(case, appointment)
    await after_booking(uow, case, appointment, now=now)
    uow.publish(
        events.APPOINTMENT_BOOKED,
        events.appointment_booked(case, appointment),
        aggregate_type=events.AGGREGATE,
        aggregate_id=case.id,
    )
    return appointment


async def record_attendance(
    command: RecordAttendance, *, uow: CaseUnitOfWork, hub_id: str | None
) -> tuple[Case, Appointment]:
    case = await locked_case(uow, command.case_id, hub_id)
    appointment = case.record_attendance(command.appointment_id, command.attendance)
    await uow.cases.save_appointment(case, appointment)
    await after_attendance(uow, case, appointment, now=command.attendance.recorded_at)
    uow.publish(
        events.ATTENDANCE_RECORDED,
        events.attendance_recorded(case, appointment, recorded_by=command.recorded_by),
        aggregate_type=events.AGGREGATE,
        aggregate_id=case.id,
    )
    return case, appointment

"""Hubs book appointments and record attendance; attendance is what the 24-hour promise watches."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gmirs_case.adapters import events
from gmirs_case.adapters.attendance_write import write_attendance
from gmirs_case.adapters.case_read import read_with_one
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.appointments import Place
from gmirs_case.domain.lifecycle import decide
from gmirs_case.domain.model import (
    Appointment,
    AppointmentKind,
    Attendance,
    Case,
    CaseError,
)
from gmirs_case.handlers.lifecycle import (
    after_attendance,
    after_booking,
    attendance_move,
    publish_moves,
)
from gmirs_case.handlers.locking import CaseNotFoundError, locked_case
from gmirs_runtime.db import EventQueue


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


WRITE_ATTEMPTS = 10
"""How often attendance is read, decided and written before giving up on a case that others
keep changing in between. Each attempt lost is another write that went through, so n writes on
one case at once all succeed while n <= this; a case has one hub worker, so in practice the
first attempt does."""


class CaseBusyError(CaseError):
    """Other writes kept changing the case between reading it and writing the attendance."""


async def record_attendance_directly(
    connection: asyncpg.Connection,
    command: RecordAttendance,
    *,
    hub_id: str | None,
    check_version: Callable[[int], None],
    new_queue: Callable[[], EventQueue],
    audit_row: Mapping[str, Any],
) -> tuple[Appointment, int]:
    """Record attendance decided exactly as `record_attendance` decides it, as one statement
    written only if the case is still as read (`write_attendance`); else read and decide again.

    `check_version` refuses a version the caller did not expect (If-Match). The appointment
    recorded and the case's new version; CaseNotFoundError if `hub_id` may not see the case."""
    for _ in range(WRITE_ATTEMPTS):
        found = await read_with_one(
            connection, command.case_id, command.appointment_id, hub_id=hub_id
        )
        if found is None:
            raise CaseNotFoundError(str(command.case_id))
        check_version(found.version)
        case, queue, now = found.case, new_queue(), command.attendance.recorded_at
        appointment = case.record_attendance(command.appointment_id, command.attendance)
        moved = None
        move = attendance_move(found.lifecycle, appointment)
        if move is not None:
            moved, event = decide(found.lifecycle, move, now=now)
            publish_moves(queue, case, [event])
        events.publish_attendance_recorded(
            queue, case, appointment, recorded_by=command.recorded_by
        )
        version = await write_attendance(
            connection,
            appointment,
            case_id=case.id,
            read_version=found.version,
            moved=moved,
            outbox_rows=queue.outbox_rows(),
            audit_row=audit_row,
        )
        if version is not None:
            return appointment, version
    raise CaseBusyError("the case kept changing while attendance was recorded; try again")


async def record_attendance(
    command: RecordAttendance, *, uow: CaseUnitOfWork, hub_id: str | None
) -> tuple[Case, Appointment]:
    """Through the unit of work, for a write that does more in its transaction (a register)."""
    case = await locked_case(uow, command.case_id, hub_id)
    appointment = case.record_attendance(command.appointment_id, command.attendance)
    await uow.cases.save_appointment(case, appointment)
    await after_attendance(uow, case, appointment, now=command.attendance.recorded_at)
    events.publish_attendance_recorded(uow, case, appointment, recorded_by=command.recorded_by)
    return case, appointment

"""A hub's group and family sessions: plan one with its register, add a person, move or cancel
the whole session, cancel one person's place, record each person's attendance.

Every case on a register must be the session's hub's: another hub's case is refused exactly as a
missing one (CaseNotFoundError), and the whole command with it, so nothing is half-written.
Cases are locked in id order after the session row, so two commands on overlapping registers
wait for each other instead of deadlocking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain import group_sessions as rules
from gmirs_case.domain.appointment_values import Rescheduled
from gmirs_case.domain.appointments import AppointmentChangeRefused, Place
from gmirs_case.domain.group_sessions import GroupSession
from gmirs_case.domain.model import Appointment, AppointmentKind, Attendance, Case
from gmirs_case.handlers.appointment_changes import (
    Cancel,
    Move,
    call_off_appointment,
    move_appointment,
)
from gmirs_case.handlers.appointments import (
    BookAppointment,
    RecordAttendance,
    book_on_case,
    record_attendance,
)
from gmirs_case.handlers.locking import CaseNotFoundError, locked_case

Place_ = tuple[Case, Appointment]


class GroupSessionNotFoundError(LookupError):
    """No group session with that id is visible to the caller."""


class AlreadyOnRegister(AppointmentChangeRefused):
    pass


@dataclass(frozen=True, slots=True)
class Participant:
    case_id: uuid.UUID
    session_number: int | None


@dataclass(frozen=True, slots=True)
class PlanSession:
    hub_id: str
    place: Place
    starts_at: datetime
    ends_at: datetime
    participants: tuple[Participant, ...]


async def plan(uow: CaseUnitOfWork, command: PlanSession, *, now: datetime) -> GroupSession:
    session = rules.plan_session(
        session_id=uuid.uuid4(),
        hub_id=command.hub_id,
        place=command.place,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        now=now,
    )
    rules.check_register_room(0, len(command.participants))
    await uow.group_sessions.add(session)
    for participant in sorted(command.participants, key=lambda p: p.case_id):
        await _add_place(uow, session, participant, now=now)
    return session


async def add_participant(
    uow: CaseUnitOfWork,
    session_id: uuid.UUID,
    participant: Participant,
    *,
    hub_id: str | None,
    now: datetime,
) -> Appointment:
    session = await _session(uow, session_id, hub_id, for_update=True)
    rules.check_open(session)
    register = await uow.group_sessions.register(session.id, hub_id=session.hub_id)
    rules.check_register_room(len(register), 1)
    return await _add_place(uow, session, participant, now=now)


async def reschedule_session(
    uow: CaseUnitOfWork, session_id: uuid.UUID, move: Move, *, hub_id: str | None, now: datetime
) -> GroupSession:
    """Move the session and every place on its register, each keeping its earlier time."""
    session = await _session(uow, session_id, hub_id, for_update=True)
    places = await _locked_places(uow, session)
    earlier = Rescheduled(session.starts_at, session.ends_at, now, move.requested_by, move.reason)
    rules.move_session(
        session, [a for _, a in places], earlier, starts_at=move.starts_at, ends_at=move.ends_at
    )
    await uow.group_sessions.save(session)
    await uow.group_sessions.add_reschedule(session.id, earlier)
    for case, appointment in places:
        await move_appointment(uow, case, appointment, move, now=now)
    return session


async def cancel_session(
    uow: CaseUnitOfWork, session_id: uuid.UUID, cancel: Cancel, *, hub_id: str | None, now: datetime
) -> GroupSession:
    """Cancel the session and every place on its register, with one reason."""
    session = await _session(uow, session_id, hub_id, for_update=True)
    places = await _locked_places(uow, session)
    rules.cancel_session(
        session, [a for _, a in places], reason=cancel.reason, note=cancel.note, now=now
    )
    await uow.group_sessions.save(session)
    for case, appointment in places:
        await call_off_appointment(uow, case, appointment, cancel, now=now)
    return session


async def cancel_place(
    uow: CaseUnitOfWork,
    session_id: uuid.UUID,
    case_id: uuid.UUID,
    cancel: Cancel,
    *,
    hub_id: str | None,
    now: datetime,
) -> Appointment:
    """One person drops out: their place is cancelled with its reason; the session goes on."""
    session = await _session(uow, session_id, hub_id, for_update=True)
    register = dict(await uow.group_sessions.register(session.id, hub_id=session.hub_id))
    if case_id not in register:
        raise CaseNotFoundError(str(case_id))
    case = await locked_case(uow, case_id, session.hub_id)
    appointment = case.appointment(register[case_id])
    await call_off_appointment(uow, case, appointment, cancel, now=now)
    return appointment


async def record_place_attendance(
    uow: CaseUnitOfWork,
    session_id: uuid.UUID,
    case_id: uuid.UUID,
    attendance: Attendance,
    *,
    hub_id: str | None,
) -> Appointment:
    """One person's attendance, recorded (and published) on their own case's appointment."""
    session = await _session(uow, session_id, hub_id)
    register = dict(await uow.group_sessions.register(session.id, hub_id=session.hub_id))
    if case_id not in register:
        raise CaseNotFoundError(str(case_id))
    command = RecordAttendance(case_id, register[case_id], attendance)
    _, appointment = await record_attendance(command, uow=uow, hub_id=session.hub_id)
    return appointment


async def session_with_register(
    uow: CaseUnitOfWork, session_id: uuid.UUID, *, hub_id: str | None
) -> tuple[GroupSession, list[Place_]]:
    """The session and each place on its register (read only)."""
    session = await _session(uow, session_id, hub_id)
    places: list[Place_] = []
    for case_id, appointment_id in await uow.group_sessions.register(
        session.id, hub_id=session.hub_id
    ):
        case = await uow.cases.get(case_id, hub_id=session.hub_id)
        if case is not None:
            places.append((case, case.appointment(appointment_id)))
    return session, places


async def _session(
    uow: CaseUnitOfWork, session_id: uuid.UUID, hub_id: str | None, *, for_update: bool = False
) -> GroupSession:
    session = await uow.group_sessions.get(session_id, hub_id=hub_id, for_update=for_update)
    if session is None:
        raise GroupSessionNotFoundError(str(session_id))
    return session


async def _locked_places(uow: CaseUnitOfWork, session: GroupSession) -> list[Place_]:
    """Each place on the register with its case locked, in case id order."""
    places: list[Place_] = []
    for case_id, appointment_id in await uow.group_sessions.register(
        session.id, hub_id=session.hub_id
    ):
        case = await locked_case(uow, case_id, session.hub_id)
        places.append((case, case.appointment(appointment_id)))
    return places


async def _add_place(
    uow: CaseUnitOfWork, session: GroupSession, participant: Participant, *, now: datetime
) -> Appointment:
    """Book the person's place: a session appointment on their case, linked to the session."""
    case = await locked_case(uow, participant.case_id, session.hub_id)
    if any(a.group_session_id == session.id for a in case.appointments):
        raise AlreadyOnRegister("the case is already on the register")
    command = BookAppointment(
        case_id=case.id,
        kind=AppointmentKind.SESSION,
        session_number=participant.session_number,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        place=session.place,
        group_session_id=session.id,
    )
    return await book_on_case(uow, case, command, now=now)

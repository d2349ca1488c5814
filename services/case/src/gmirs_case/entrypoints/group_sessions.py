"""A hub's group and family sessions over HTTP: plan one with its register, read it, add a
person, move or cancel it, record each person's attendance.

A hub plans sessions for itself; the lead provider names the hub. Another hub's session, or a
case on a register that is not the session's hub's, answers 404 exactly like a missing one.
Reading or changing a register is audited on each case it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Query, Response, status

from gmirs_case.domain.appointment_values import CancellationReason, RequestedBy
from gmirs_case.entrypoints.access import utc_now
from gmirs_case.entrypoints.appointment_schemas import CancellationBody, RescheduleBody
from gmirs_case.entrypoints.appointments import appointment_problems, attendance_problems
from gmirs_case.entrypoints.case_problems import audited
from gmirs_case.entrypoints.deps import HUB, CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.group_session_schemas import (
    GroupSessionCreate,
    GroupSessionPage,
    GroupSessionRead,
    ParticipantBody,
)
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.entrypoints.schemas import AppointmentRead, AttendanceCreate
from gmirs_case.handlers import group_sessions as handlers
from gmirs_case.handlers.appointment_changes import Cancel, Move
from gmirs_case.handlers.group_sessions import GroupSessionNotFoundError, Participant, PlanSession
from gmirs_contracts.common import Moment
from gmirs_runtime.auth import Principal
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/group-sessions", tags=["group sessions"])
ONE = "/{session_id}"


@contextmanager
def session_problems() -> Iterator[None]:
    try:
        with appointment_problems():
            yield
    except GroupSessionNotFoundError:
        raise Problem(404, detail="No such group session.") from None


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=problem_responses(404, 409, 413, 422)
)
async def create_group_session(
    body: GroupSessionCreate, principal: CaseWorker, uow: UoW, response: Response
) -> GroupSessionRead:
    """Plan a group or family session with its register; each person gets an appointment."""
    command = PlanSession(
        hub_id=_owning_hub(principal, body.hub_id),
        place=body.place(body.session_type),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        participants=tuple(Participant(p.case_id, p.session_number) for p in body.participants),
    )
    with session_problems():
        session = await handlers.plan(uow, command, now=utc_now())
    response.headers["Location"] = f"/group-sessions/{session.id}"
    return await _answer(uow, principal, session.id, "case.group-session-planned")


@router.get("", responses=problem_responses(422))
async def list_group_sessions(
    principal: CaseWorker,
    uow: UoW,
    starts_from: Annotated[Moment | None, Query(description="Only sessions from then.")] = None,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> GroupSessionPage:
    """The caller's hub's sessions (every hub's for the lead provider), soonest first."""
    rows = await uow.group_sessions.page(
        hub_id=hub_scope(principal), starts_from=starts_from, limit=limit, offset=offset
    )
    return GroupSessionPage.of(rows, limit, offset)


@router.get(ONE, responses=problem_responses(404, 422))
async def get_group_session(
    session_id: uuid.UUID, principal: CaseWorker, uow: UoW
) -> GroupSessionRead:
    """The session, its earlier times and its register with each person's attendance."""
    return await _answer(uow, principal, session_id, "case.group-session-viewed")


@router.post(
    f"{ONE}/participants",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 413, 422),
)
async def add_to_register(
    session_id: uuid.UUID, body: ParticipantBody, principal: CaseWorker, uow: UoW
) -> AppointmentRead:
    """Add a case of the session's hub to the register (its appointment is booked)."""
    participant = Participant(body.case_id, body.session_number)
    with session_problems():
        appointment = await handlers.add_participant(
            uow, session_id, participant, hub_id=hub_scope(principal), now=utc_now()
        )
    await audited(uow, principal, "case.group-session-joined", body.case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)


@router.post(f"{ONE}/reschedule", responses=problem_responses(404, 409, 413, 422))
async def reschedule_group_session(
    session_id: uuid.UUID, body: RescheduleBody, principal: CaseWorker, uow: UoW
) -> GroupSessionRead:
    """Move the session; every place on the register moves with it, keeping its history."""
    move = Move(body.starts_at, body.ends_at, RequestedBy(body.requested_by), body.reason)
    with session_problems():
        await handlers.reschedule_session(
            uow, session_id, move, hub_id=hub_scope(principal), now=utc_now()
        )
    return await _answer(uow, principal, session_id, "case.group-session-rescheduled")


@router.post(f"{ONE}/cancellation", responses=problem_responses(404, 409, 413, 422))
async def cancel_group_session(
    session_id: uuid.UUID, body: CancellationBody, principal: CaseWorker, uow: UoW
) -> GroupSessionRead:
    """Cancel the session; every place on the register is cancelled with the same reason."""
    cancel = Cancel(CancellationReason(body.reason), body.note)
    with session_problems():
        await handlers.cancel_session(
            uow, session_id, cancel, hub_id=hub_scope(principal), now=utc_now()
        )
    return await _answer(uow, principal, session_id, "case.group-session-cancelled")


@router.post(
    f"{ONE}/participants/{{case_id}}/cancellation",
    responses=problem_responses(404, 409, 412, 413, 422),
)
async def cancel_place(
    session_id: uuid.UUID,
    case_id: uuid.UUID,
    body: CancellationBody,
    principal: CaseWorker,
    uow: UoW,
) -> AppointmentRead:
    """One person's place is cancelled with a reason (they drop out); the session goes on."""
    cancel = Cancel(CancellationReason(body.reason), body.note)
    with session_problems():
        appointment = await handlers.cancel_place(
            uow, session_id, case_id, cancel, hub_id=hub_scope(principal), now=utc_now()
        )
    await audited(uow, principal, "case.group-session-place-cancelled", case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)


@router.put(
    f"{ONE}/participants/{{case_id}}/attendance",
    responses=problem_responses(404, 409, 413, 422),
)
async def record_register_attendance(
    session_id: uuid.UUID,
    case_id: uuid.UUID,
    body: AttendanceCreate,
    principal: CaseWorker,
    uow: UoW,
) -> AppointmentRead:
    """One person's attendance, on their own case (a non-attendance starts their 24 hours)."""
    attendance = body.domain(recorded_at=utc_now())
    with session_problems(), attendance_problems():
        appointment = await handlers.record_place_attendance(
            uow, session_id, case_id, attendance, hub_id=hub_scope(principal)
        )
    await audited(uow, principal, "case.attendance-recorded", case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)


def _owning_hub(principal: Principal, named: str | None) -> str:
    """A hub plans for itself; the lead provider names the hub."""
    if HUB in principal.roles:
        own = principal.tenant_id
        if named is not None and named != own:
            raise Problem(422, detail="a hub plans sessions for itself: leave hub_id out")
        assert own is not None  # a hub's token always carries its hub (the runtime checks)
        return own
    if named is None:
        raise Problem(422, detail="name the hub whose session this is (hub_id)")
    return named


async def _answer(
    uow: UoW, principal: Principal, session_id: uuid.UUID, action: str
) -> GroupSessionRead:
    """Read the session back, audit it on each case of its register, and commit."""
    with session_problems():
        session, places = await handlers.session_with_register(
            uow, session_id, hub_id=hub_scope(principal)
        )
    for case, _ in places:
        await audited(uow, principal, action, case.id)
    await uow.commit()
    return GroupSessionRead.of(session, places)

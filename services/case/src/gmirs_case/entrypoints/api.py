"""The hub providers' API: their caseload, appointments and attendance.

A hub sees only its own cases; another hub's case answers 404, exactly like a case that does not
exist, so case ids leak nothing. Every read of a case's personal data is audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial

from fastapi import Response, status

from gmirs_case.adapters.case_read import read_audited
from gmirs_case.domain.lifecycle import InvalidTransition
from gmirs_case.domain.model import (
    AppointmentKind,
    CaseError,
)
from gmirs_case.entrypoints.appointments import attendance_problems
from gmirs_case.entrypoints.case_problems import no_such_case
from gmirs_case.entrypoints.deps import CaseWorker, Direct, UoW, Writes, hub_scope
from gmirs_case.entrypoints.lifecycle import refused
from gmirs_case.entrypoints.lifecycle_schemas import LifecycleRead
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.entrypoints.schemas import (
    AppointmentCreate,
    AppointmentRead,
    AttendanceCreate,
    CaseRead,
)
from gmirs_case.entrypoints.versions import IfMatchHeader, etag_of, refuse_if_stale
from gmirs_case.handlers.appointments import (
    BookAppointment,
    RecordAttendance,
    book_appointment,
    record_attendance_directly,
)
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_runtime import audit
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["cases"])


@router.get("/{case_id}", response_model=CaseRead, responses=problem_responses(404))
async def get_case(case_id: uuid.UUID, principal: CaseWorker, reads: Direct) -> Response:
    """One case with its appointments, its version as `ETag` (the read is audited)."""
    # One statement, without a transaction (no BEGIN or COMMIT round trips): the case, its
    # lifecycle and appointments, and the audit row as a CTE, committed before the case is
    # answered, so no answer goes out unaudited. A case the caller may not see is not audited.
    audit_row = audit.row_values(
        actor=principal.client_id,
        action="case.viewed",
        resource_type="case",
        resource_id=str(case_id),
    )
    async with reads.connection() as connection:  # back before the answer is built and sent
        found = await read_audited(
            connection, case_id, hub_id=hub_scope(principal), audit=audit_row
        )
    if found is None:
        raise no_such_case()
    body = CaseRead.of(found.case, LifecycleRead.of(found.lifecycle)).model_dump_json()
    # Written once by the model itself: FastAPI would dump, re-validate and dump it again.
    return Response(body, media_type="application/json", headers={"ETag": etag_of(found.version)})


@router.post(
    "/{case_id}/appointments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 412, 413, 422),
)
async def create_appointment(
    case_id: uuid.UUID,
    body: AppointmentCreate,
    principal: CaseWorker,
    uow: UoW,
    response: Response,
) -> AppointmentRead:
    """Book an appointment on a case (`Idempotency-Key` makes a retry safe)."""
    command = BookAppointment(
        case_id=case_id,
        kind=AppointmentKind(body.kind),
        session_number=body.session_number,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        place=body.place(body.session_type),
    )
    try:
        _, appointment = await book_appointment(
            command, uow=uow, hub_id=hub_scope(principal), now=datetime.now(UTC)
        )
    except CaseNotFoundError:
        raise no_such_case() from None
    except InvalidTransition as exc:
        raise refused(exc) from None
    except CaseError as exc:
        raise Problem(409, detail=str(exc)) from None
    await uow.commit()
    response.headers["Location"] = f"/cases/{case_id}/appointments/{appointment.id}"
    return AppointmentRead.model_validate(appointment)


@router.put(
    "/{case_id}/appointments/{appointment_id}/attendance",
    response_model=AppointmentRead,
    responses=problem_responses(404, 409, 412, 413, 422),
)
async def put_attendance(
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    body: AttendanceCreate,
    principal: CaseWorker,
    writes: Writes,
    if_match: IfMatchHeader = None,
) -> Response:
    """Record whether the person attended; a non-attendance starts the 24-hour report clock.
    The write is audited; the answer carries the case's new `ETag`."""
    # Read, decided on and written in two statements sent straight through asyncpg, without a
    # transaction (`record_attendance_directly`): the write, of the attendance, the case's
    # version, any lifecycle move, the events and the audit row, is made only if the case is
    # still at the version read, else it is read again.
    attendance = body.domain(recorded_at=datetime.now(UTC))
    command = RecordAttendance(case_id, appointment_id, attendance, principal.client_id)
    audit_row = audit.row_values(
        actor=principal.client_id,
        action="case.attendance-recorded",
        resource_type="case",
        resource_id=str(case_id),
    )
    with attendance_problems():
        async with writes.connections.connection() as connection:
            appointment, version = await record_attendance_directly(
                connection,
                command,
                hub_id=hub_scope(principal),
                check_version=partial(refuse_if_stale, if_match),
                new_queue=writes.new_events,
                audit_row=audit_row,
            )
    answer = AppointmentRead.model_validate(appointment).model_dump_json()
    return Response(answer, media_type="application/json", headers={"ETag": etag_of(version)})

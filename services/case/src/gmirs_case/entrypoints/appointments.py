"""One appointment of a case after booking: read it, move it, cancel it, link it to R&M's.

A move keeps the earlier time in the appointment's history; a move or cancellation is refused
(409) once attendance is recorded, and for a place on a group or family session (change the
session instead). Each change is audited and published for notify's attendance watchdog.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from gmirs_case.domain.appointment_values import CancellationReason, RequestedBy
from gmirs_case.domain.appointments import AppointmentChangeRefused, PlaceError
from gmirs_case.domain.lifecycle import InvalidTransition
from gmirs_case.domain.model import (
    AppointmentCancelledError,
    AppointmentInFutureError,
    AppointmentNotFoundError,
    AttendanceAlreadyRecordedError,
    CaseError,
)
from gmirs_case.entrypoints.access import utc_now
from gmirs_case.entrypoints.appointment_schemas import CancellationBody, RescheduleBody, RmLinkBody
from gmirs_case.entrypoints.case_problems import audited, no_such_case, visible_case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.lifecycle import refused
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.entrypoints.schemas import AppointmentRead
from gmirs_case.handlers.appointment_changes import (
    Cancel,
    Move,
    cancel_appointment,
    link_rm_appointment,
    reschedule_appointment,
)
from gmirs_case.handlers.appointments import CaseBusyError
from gmirs_case.handlers.locking import CaseNotFoundError
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["appointments"])
ONE = "/{case_id}/appointments/{appointment_id}"


@contextmanager
def appointment_problems() -> Iterator[None]:
    """The problems every appointment route answers the same way."""
    try:
        yield
    except CaseNotFoundError:
        raise no_such_case() from None
    except AppointmentNotFoundError as exc:
        raise Problem(404, detail=str(exc)) from None
    except AppointmentChangeRefused as exc:
        raise Problem(409, detail=str(exc)) from None
    except PlaceError as exc:
        raise Problem(422, detail=str(exc)) from None


@contextmanager
def attendance_problems() -> Iterator[None]:
    """The problems recording attendance answers, on a case's route or a group's register."""
    try:
        with appointment_problems():
            yield
    except (
        AttendanceAlreadyRecordedError,
        AppointmentInFutureError,
        AppointmentCancelledError,
        CaseBusyError,
    ) as exc:
        raise Problem(409, detail=str(exc)) from None
    except InvalidTransition as exc:
        raise refused(exc) from None
    except CaseError as exc:
        raise Problem(422, detail=str(exc)) from None


@router.get(ONE, responses=problem_responses(404, 422))
async def get_appointment(
    case_id: uuid.UUID, appointment_id: uuid.UUID, principal: CaseWorker, uow: UoW
) -> AppointmentRead:
    """One appointment with its place, earlier times and cancellation (the read is audited)."""
    case = await visible_case(uow, principal, case_id)
    with appointment_problems():
        appointment = case.appointment(appointment_id)
    await audited(uow, principal, "case.appointment-viewed", case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)


@router.post(f"{ONE}/reschedule", responses=problem_responses(404, 409, 413, 422))
async def reschedule(
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    body: RescheduleBody,
    principal: CaseWorker,
    uow: UoW,
) -> AppointmentRead:
    """Move the appointment to a new time; the earlier one stays in its history."""
    move = Move(body.starts_at, body.ends_at, RequestedBy(body.requested_by), body.reason)
    with appointment_problems():
        appointment = await reschedule_appointment(
            uow, case_id, appointment_id, move, hub_id=hub_scope(principal), now=utc_now()
        )
    await audited(uow, principal, "case.appointment-rescheduled", case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)


@router.post(f"{ONE}/cancellation", responses=problem_responses(404, 409, 413, 422))
async def cancel(
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    body: CancellationBody,
    principal: CaseWorker,
    uow: UoW,
) -> AppointmentRead:
    """Cancel the appointment with a reason (and a note when the reason is 'other')."""
    command = Cancel(CancellationReason(body.reason), body.note)
    with appointment_problems():
        appointment = await cancel_appointment(
            uow, case_id, appointment_id, command, hub_id=hub_scope(principal), now=utc_now()
        )
    await audited(uow, principal, "case.appointment-cancelled", case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)


@router.put(f"{ONE}/rm-appointment", responses=problem_responses(404, 409, 413, 422))
async def link_to_rm(
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    body: RmLinkBody,
    principal: CaseWorker,
    uow: UoW,
) -> AppointmentRead:
    """Name Refer and Monitor's appointment for this one (the hub entered it in R&M too)."""
    with appointment_problems():
        appointment = await link_rm_appointment(
            uow,
            case_id,
            appointment_id,
            body.rm_appointment_id,
            hub_id=hub_scope(principal),
            now=utc_now(),
        )
    await audited(uow, principal, "case.appointment-linked", case_id)
    await uow.commit()
    return AppointmentRead.model_validate(appointment)

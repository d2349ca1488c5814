"""A hub's lifecycle commands: decided on the locked case, saved, published in one transaction.

Booking and attending appointments move the lifecycle too: booking an initial assessment books
it, attending (or missing) it is recorded as such, and the first session attended after the
plan was shared commences the intervention.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_case.adapters import events, lifecycle_events
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.commands import (
    BookInitialAssessment,
    Command,
    CommenceIntervention,
    ReallocateCase,
    RecordInitialAssessmentAttended,
    RecordInitialAssessmentMissed,
)
from gmirs_case.domain.lifecycle import CaseState, Lifecycle, LifecycleEvent, decide
from gmirs_case.domain.model import Appointment, AppointmentKind, Case, CaseError
from gmirs_case.handlers.locking import locked_case
from gmirs_runtime.db import EventQueue

PLAN_SHARED = (CaseState.ACTION_PLAN_SHARED, CaseState.ACTION_PLAN_APPROVED)


class SameHubError(CaseError):
    """A case cannot be reallocated to the hub it is already with."""


async def run_command(
    uow: CaseUnitOfWork, case_id: uuid.UUID, command: Command, *, hub_id: str | None, now: datetime
) -> Lifecycle:
    """Lock the case (404 outside the caller's hubs), then decide and record the command."""
    case = await locked_case(uow, case_id, hub_id)
    return await apply_command(uow, case, command, now=now)


async def apply_command(
    uow: CaseUnitOfWork,
    case: Case,
    command: Command,
    *,
    now: datetime,
    previous_hub_id: str | None = None,
) -> Lifecycle:
    """Decide `command` on the (already locked) case; InvalidTransition leaves it unchanged."""
    after, event = decide(await uow.lifecycles.get(case.id), command, now=now)
    await uow.lifecycles.save(case.id, after)
    publish_moves(uow, case, [event], previous_hub_id=previous_hub_id)
    return after


def publish_moves(
    uow: EventQueue,
    case: Case,
    moves: list[LifecycleEvent],
    *,
    previous_hub_id: str | None = None,
) -> None:
    for move in moves:
        uow.publish(
            lifecycle_events.contract_of(move),
            lifecycle_events.payload(move, case, previous_hub_id),
            aggregate_type=events.AGGREGATE,
            aggregate_id=case.id,
        )


async def reallocate(
    uow: CaseUnitOfWork, case_id: uuid.UUID, hub_id: str, *, now: datetime
) -> tuple[Case, Lifecycle]:
    """The lead provider moves an open case to another hub, which then owns it."""
    case = await locked_case(uow, case_id, ALL_HUBS)
    previous = case.hub_id
    if previous == hub_id:
        raise SameHubError(f"the case is already with {hub_id!r}")
    case.hub_id = hub_id
    await uow.cases.move_to_hub(case.id, hub_id)
    command = ReallocateCase(hub_id=hub_id, occurred_at=now)
    lifecycle = await apply_command(uow, case, command, now=now, previous_hub_id=previous)
    return case, lifecycle


async def after_booking(
    uow: CaseUnitOfWork, case: Case, appointment: Appointment, *, now: datetime
) -> None:
    """Booking an initial assessment is the lifecycle's booking (refused where it is not allowed)."""
    if appointment.kind is AppointmentKind.INITIAL_ASSESSMENT:
        command = BookInitialAssessment(appointment.id, appointment.starts_at, occurred_at=now)
        await apply_command(uow, case, command, now=now)


async def after_attendance(
    uow: CaseUnitOfWork, case: Case, appointment: Appointment, *, now: datetime
) -> None:
    """Move the (locked) case as the attendance just recorded on `appointment` implies."""
    command = attendance_move(await uow.lifecycles.get(case.id), appointment)
    if command is not None:
        await apply_command(uow, case, command, now=now)


def attendance_move(lifecycle: Lifecycle, appointment: Appointment) -> Command | None:
    """An initial assessment attended or missed; the first session attended after the plan."""
    attendance = appointment.attendance
    if attendance is None:
        return None
    at = appointment.starts_at
    if appointment.kind is AppointmentKind.INITIAL_ASSESSMENT:
        if attendance.is_non_attendance:
            return RecordInitialAssessmentMissed(appointment.id, at)
        return RecordInitialAssessmentAttended(appointment.id, at)
    if not attendance.is_non_attendance and lifecycle.state in PLAN_SHARED:
        return CommenceIntervention(appointment.id, at)
    return None

"""A hub moves, cancels or links one appointment of a case: decided on the locked case, saved
with its history and published in one transaction (what notify's watchdog follows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gmirs_case.adapters import appointment_events, events
from gmirs_case.adapters import appointments as stored
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain import appointments as rules
from gmirs_case.domain.appointment_values import CancellationReason, RequestedBy
from gmirs_case.domain.model import Appointment, Case
from gmirs_case.handlers.locking import locked_case
from gmirs_contracts.base import ContractModel
from gmirs_contracts.registry import EventContract


class PartOfGroupSession(rules.AppointmentChangeRefused):
    """A place on a group or family session moves or goes only with the session."""


class RmAppointmentTaken(rules.AppointmentChangeRefused):
    """Another appointment already names that R&M appointment."""


@dataclass(frozen=True, slots=True)
class Move:
    starts_at: datetime
    ends_at: datetime
    requested_by: RequestedBy
    reason: str | None


@dataclass(frozen=True, slots=True)
class Cancel:
    reason: CancellationReason
    note: str | None


async def reschedule_appointment(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    move: Move,
    *,
    hub_id: str | None,
    now: datetime,
) -> Appointment:
    case, appointment = await _own_appointment(uow, case_id, appointment_id, hub_id)
    await move_appointment(uow, case, appointment, move, now=now)
    return appointment


async def move_appointment(
    uow: CaseUnitOfWork, case: Case, appointment: Appointment, move: Move, *, now: datetime
) -> None:
    """Move one (locked) case's appointment, keep its earlier time and publish the move."""
    earlier = rules.reschedule(
        appointment,
        starts_at=move.starts_at,
        ends_at=move.ends_at,
        requested_by=move.requested_by,
        reason=move.reason,
        now=now,
    )
    await uow.cases.save_appointment(case, appointment)
    await stored.add_reschedule(uow.session, case.id, appointment.id, earlier)
    _publish(
        uow,
        case,
        appointment_events.RESCHEDULED,
        appointment_events.rescheduled(case, appointment, earlier),
    )


async def cancel_appointment(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    cancel: Cancel,
    *,
    hub_id: str | None,
    now: datetime,
) -> Appointment:
    case, appointment = await _own_appointment(uow, case_id, appointment_id, hub_id)
    await call_off_appointment(uow, case, appointment, cancel, now=now)
    return appointment


async def call_off_appointment(
    uow: CaseUnitOfWork, case: Case, appointment: Appointment, cancel: Cancel, *, now: datetime
) -> None:
    """Cancel one (locked) case's appointment with its reason and publish the cancellation."""
    cancellation = rules.cancel(appointment, reason=cancel.reason, note=cancel.note, now=now)
    await uow.cases.save_appointment(case, appointment)
    payload = appointment_events.cancelled(case, appointment, cancellation)
    _publish(uow, case, appointment_events.CANCELLED, payload)


async def link_rm_appointment(
    uow: CaseUnitOfWork,
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    rm_appointment_id: uuid.UUID,
    *,
    hub_id: str | None,
    now: datetime,
) -> Appointment:
    """The hub names R&M's appointment for its booking (the same id again changes nothing)."""
    case = await locked_case(uow, case_id, hub_id)
    appointment = case.appointment(appointment_id)
    if appointment.rm_appointment_id != rm_appointment_id and await stored.rm_appointment_taken(
        uow.session, rm_appointment_id
    ):
        raise RmAppointmentTaken(
            "another appointment is linked to that Refer and Monitor appointment"
        )
    if rules.link_rm_appointment(appointment, rm_appointment_id):
        await save_link(uow, case, appointment, source="hub", now=now)
    return appointment


async def save_link(
    uow: CaseUnitOfWork, case: Case, appointment: Appointment, *, source: str, now: datetime
) -> None:
    await uow.cases.save_appointment(case, appointment)
    payload = appointment_events.linked(case, appointment, source=source, now=now)
    _publish(uow, case, appointment_events.LINKED, payload)


async def _own_appointment(
    uow: CaseUnitOfWork, case_id: uuid.UUID, appointment_id: uuid.UUID, hub_id: str | None
) -> tuple[Case, Appointment]:
    """The case's appointment, refused if it is a place on a group or family session."""
    case = await locked_case(uow, case_id, hub_id)
    appointment = case.appointment(appointment_id)
    if appointment.group_session_id is not None:
        raise PartOfGroupSession(
            f"the appointment is a place on group session {appointment.group_session_id}; "
            "move or cancel the session"
        )
    return case, appointment


def _publish(
    uow: CaseUnitOfWork, case: Case, contract: EventContract[Any], payload: ContractModel
) -> None:
    uow.publish(contract, payload, aggregate_type=events.AGGREGATE, aggregate_id=case.id)

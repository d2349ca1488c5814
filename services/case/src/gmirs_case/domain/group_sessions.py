"""Group and family sessions: one session of a hub, a register of the people on it.

Each person on the register has an appointment on their own case, linked to the session, so
attendance is recorded per person exactly as for a one-to-one appointment (and a non-attendance
reaches that person's probation practitioner). The session moves or is cancelled as a whole:
every place on it moves or is cancelled with it, and neither is allowed once anyone's attendance
is recorded (what happened at it is then a fact).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gmirs_case.domain.appointment_values import (
    Address,
    Cancellation,
    CancellationReason,
    Rescheduled,
    SessionType,
)
from gmirs_case.domain.appointments import (
    AppointmentChangeRefused,
    Place,
    PlaceError,
    check_times,
)
from gmirs_case.domain.model import Appointment, DeliveryType

SHARED_SESSION_TYPES = frozenset({SessionType.GROUP, SessionType.FAMILY})
MAX_REGISTER = 50


@dataclass(slots=True)
class GroupSession:
    id: uuid.UUID
    hub_id: str
    session_type: SessionType
    starts_at: datetime
    ends_at: datetime
    delivery_type: DeliveryType
    nps_office_code: str | None
    address: Address | None
    created_at: datetime
    cancellation: Cancellation | None = None
    reschedules: list[Rescheduled] = field(default_factory=list)

    @property
    def place(self) -> Place:
        return Place(self.delivery_type, self.session_type, self.nps_office_code, self.address)


def plan_session(
    *,
    session_id: uuid.UUID,
    hub_id: str,
    place: Place,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> GroupSession:
    """A new session; its place follows the same rules as any appointment's."""
    if place.session_type not in SHARED_SESSION_TYPES:
        raise PlaceError("a group session is a group or family session")
    check_times(starts_at, ends_at)
    return GroupSession(
        id=session_id,
        hub_id=hub_id,
        session_type=place.session_type,
        starts_at=starts_at,
        ends_at=ends_at,
        delivery_type=place.delivery_type,
        nps_office_code=place.nps_office_code,
        address=place.address,
        created_at=now,
    )


def check_open(session: GroupSession) -> None:
    if session.cancellation is not None:
        raise AppointmentChangeRefused("the group session is cancelled")


def check_register_room(register_size: int, adding: int) -> None:
    if register_size + adding > MAX_REGISTER:
        raise PlaceError(f"a register holds at most {MAX_REGISTER} people")


def check_changeable(session: GroupSession, places: Sequence[Appointment]) -> None:
    """Refuse a move or cancellation of a cancelled session or one with attendance recorded."""
    check_open(session)
    if any(place.attendance is not None for place in places):
        raise AppointmentChangeRefused("attendance is already recorded for someone on the register")


def move_session(
    session: GroupSession,
    places: Sequence[Appointment],
    earlier: Rescheduled,
    *,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    """Move the session itself (each place moves by the appointment rules), keeping history."""
    check_changeable(session, places)
    check_times(starts_at, ends_at)
    if (starts_at, ends_at) == (session.starts_at, session.ends_at):
        raise PlaceError("the new time is the session's current time")
    session.reschedules.append(earlier)
    session.starts_at, session.ends_at = starts_at, ends_at


def cancel_session(
    session: GroupSession,
    places: Sequence[Appointment],
    *,
    reason: CancellationReason,
    note: str | None,
    now: datetime,
) -> Cancellation:
    check_changeable(session, places)
    session.cancellation = Cancellation(reason, note, now)
    return session.cancellation

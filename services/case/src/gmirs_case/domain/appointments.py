"""Where and how an appointment happens, and changing one after booking (move or cancel).

The place follows Refer and Monitor's vocabulary: a delivery type (phone, video, in person at a
probation office or elsewhere), a session type (one-to-one or group; we add family, which R&M
records as a group session) and, in person, the probation office's code or the address. A
change keeps what it replaced: each move leaves the earlier time in the appointment's history,
and a cancellation keeps its reason. Neither is allowed once attendance is recorded: what
happened then is a fact, not a plan.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gmirs_case.domain.appointment_values import (
    Address,
    Cancellation,
    CancellationReason,
    RequestedBy,
    Rescheduled,
    SessionType,
)
from gmirs_case.domain.model import Appointment, CaseError, DeliveryType


class AppointmentChangeRefused(CaseError):
    """A move or cancellation the appointment's state does not allow (answered 409)."""


class PlaceError(CaseError):
    """A place that does not fit its delivery type (answered 422)."""


@dataclass(frozen=True, slots=True)
class Place:
    delivery_type: DeliveryType
    session_type: SessionType = SessionType.ONE_TO_ONE
    nps_office_code: str | None = None
    address: Address | None = None

    def __post_init__(self) -> None:
        check_place(self)


def check_place(place: Place) -> None:
    """R&M's rules: an office code for the probation office, an address for elsewhere, else none."""
    at_office = place.delivery_type is DeliveryType.IN_PERSON_PROBATION_OFFICE
    elsewhere = place.delivery_type is DeliveryType.IN_PERSON_OTHER
    if at_office != (place.nps_office_code is not None):
        raise PlaceError("a probation office code is given exactly when meeting at the office")
    if elsewhere != (place.address is not None):
        raise PlaceError("an address is given exactly when meeting in person elsewhere")


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise PlaceError("an appointment must end after it starts")


def check_changeable(appointment: Appointment) -> None:
    """Refuse a change to an appointment already attended (or not) or already cancelled."""
    if appointment.attendance is not None:
        raise AppointmentChangeRefused("attendance is already recorded for this appointment")
    if appointment.cancellation is not None:
        raise AppointmentChangeRefused("the appointment is cancelled")


def reschedule(
    appointment: Appointment,
    *,
    starts_at: datetime,
    ends_at: datetime,
    requested_by: RequestedBy,
    reason: str | None,
    now: datetime,
) -> Rescheduled:
    """Move the appointment, keeping its earlier time in its history."""
    check_changeable(appointment)
    check_times(starts_at, ends_at)
    if (starts_at, ends_at) == (appointment.starts_at, appointment.ends_at):
        raise PlaceError("the new time is the appointment's current time")
    earlier = Rescheduled(appointment.starts_at, appointment.ends_at, now, requested_by, reason)
    appointment.reschedules.append(earlier)
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    return earlier


def cancel(
    appointment: Appointment, *, reason: CancellationReason, note: str | None, now: datetime
) -> Cancellation:
    check_changeable(appointment)
    if reason is CancellationReason.OTHER and not note:
        raise PlaceError("say why in a note when the reason is 'other'")
    appointment.cancellation = Cancellation(reason, note, now)
    return appointment.cancellation


def link_rm_appointment(appointment: Appointment, rm_appointment_id: uuid.UUID) -> bool:
    """Name R&M's appointment for a hub-booked one; False if it already named that one."""
    if appointment.rm_appointment_id == rm_appointment_id:
        return False
    if appointment.rm_appointment_id is not None:
        raise AppointmentChangeRefused(
            "the appointment is already linked to another Refer and Monitor appointment"
        )
    appointment.rm_appointment_id = rm_appointment_id
    return True


def hub_booked_match(
    appointments: list[Appointment], *, kind: str, session_number: int | None, starts_at: datetime
) -> Appointment | None:
    """The hub-booked appointment R&M's appointment is: same kind, session number and time."""
    for appointment in appointments:
        if (
            appointment.rm_appointment_id is None
            and appointment.cancellation is None
            and appointment.kind.value == kind
            and appointment.session_number == session_number
            and appointment.starts_at == starts_at
        ):
            return appointment
    return None

"""The values an appointment's place and changes are made of (R&M's vocabulary, ours spelled).

Kept apart from the rules (appointments.py) so the appointment itself (model.py) can hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SessionType(StrEnum):
    ONE_TO_ONE = "one-to-one"
    GROUP = "group"
    FAMILY = "family"


class RequestedBy(StrEnum):
    """Who asked for a move (R&M's `rescheduleRequestedBy`)."""

    PERSON_ON_PROBATION = "person-on-probation"
    SERVICE_PROVIDER = "service-provider"
    PROBATION_PRACTITIONER = "probation-practitioner"


class CancellationReason(StrEnum):
    PERSON_REQUESTED = "person-requested"
    PERSON_UNWELL = "person-unwell"
    PERSON_IN_CUSTODY = "person-in-custody"
    WORKER_UNAVAILABLE = "worker-unavailable"
    VENUE_UNAVAILABLE = "venue-unavailable"
    BOOKED_IN_ERROR = "booked-in-error"
    CASE_ENDED = "case-ended"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Address:
    """R&M's `appointmentDeliveryAddress`: first line and postcode are required."""

    first_line: str
    second_line: str | None
    town_or_city: str | None
    county: str | None
    postcode: str


@dataclass(frozen=True, slots=True)
class Rescheduled:
    """An earlier time of an appointment, kept when it moved."""

    previous_starts_at: datetime
    previous_ends_at: datetime
    rescheduled_at: datetime
    requested_by: RequestedBy
    reason: str | None


@dataclass(frozen=True, slots=True)
class Cancellation:
    reason: CancellationReason
    note: str | None
    cancelled_at: datetime

"""The attendance watchdog: an appointment whose attendance nobody recorded in time warns the hub.

A non-attendance must reach the probation practitioner within 24 hours of the appointment's end,
and that clock only starts when someone records it. So each booked appointment is watched: if
nobody has recorded its attendance `after` its end (2 hours by default), the hub hears of it
while a non-attendance could still be reported in time. The watch follows the appointment:

- booked: `watching`, until `ends_at + after`;
- rescheduled: watching again at the new end (a warning given for the old time is forgotten);
- cancelled, or any attendance recorded (by the hub or in R&M): closed for good;
- `warned` once the clock found it still unrecorded (once per appointment time).

Events may come twice or out of order: a booking never changes an existing watch (it is always
the first word on an appointment), a reschedule only replaces an older time, and attendance or
cancellation arriving first leaves a closed watch behind that a late booking cannot re-open.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gmirs_contracts.common import AppointmentKind


class WatchState(StrEnum):
    WATCHING = "watching"
    WARNED = "warned"
    RECORDED = "recorded"
    CANCELLED = "cancelled"


OPEN_STATES = (WatchState.WATCHING, WatchState.WARNED)
"""A watch in these states still waits for attendance; the others are closed for good."""


@dataclass(frozen=True, slots=True)
class WatchdogPolicy:
    after: timedelta = timedelta(hours=2)
    """Warn when attendance is still unrecorded this long after the appointment's end."""

    def warn_at(self, ends_at: datetime) -> datetime:
        return ends_at + self.after


@dataclass(frozen=True, slots=True)
class Watch:
    """One appointment's watch: ids, hub and times only (no personal data)."""

    appointment_id: uuid.UUID
    case_id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    appointment_kind: AppointmentKind
    ends_at: datetime
    changed_at: datetime
    """When the booking or reschedule that set `ends_at` was made (a stale reschedule loses)."""
    state: WatchState = WatchState.WATCHING
    warned_at: datetime | None = None
    closed_at: datetime | None = None
    email_sent_at: datetime | None = None
    reference_number: str | None = None
    """The case's reference (from case-opened), for the hub's email; None if not known."""

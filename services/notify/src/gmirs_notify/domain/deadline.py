"""The 24-hour clock: when to try a report again, when to raise the alarm, when to give up.

Standard Webhooks' example schedule runs for three days; a non-attendance must reach the probation
practitioner within 24 hours of the appointment's end, so retries are compressed, and a report
still unacknowledged close to its deadline is escalated to a person rather than left to retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

COMPRESSED_DELAYS: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (0, 5, 30, 120, 300, 900, 1800)
)
"""Wait before attempt n+1 (the first attempt is immediate), then `then_every`."""


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    delays: tuple[timedelta, ...] = COMPRESSED_DELAYS
    then_every: timedelta = timedelta(hours=1)
    max_retry_after: timedelta = timedelta(hours=1)

    def delay_after(self, attempts: int, retry_after: timedelta | None = None) -> timedelta:
        """How long to wait after `attempts` failed attempts; a receiver's Retry-After is honoured
        (capped, so a receiver cannot push a report past its deadline on its own say-so)."""
        planned = self.delays[attempts] if attempts < len(self.delays) else self.then_every
        if retry_after is not None:
            planned = max(planned, min(retry_after, self.max_retry_after))
        return planned


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    escalate_before: timedelta = timedelta(hours=4)
    give_up_after: timedelta = timedelta(hours=72)
    """How long after the deadline a late report is still attempted."""

    def at_risk(self, *, due_at: datetime, now: datetime) -> bool:
        """Close enough to the deadline that a person must know the report is not through."""
        return now >= due_at - self.escalate_before

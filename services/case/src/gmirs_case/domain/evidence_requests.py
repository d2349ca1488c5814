"""Evidence requests from the commissioner, and the one-working-day promise (KP4).

The specification (KP4): "100% of the required evidence is sent by the recipient to the
contractor within 1 working day of the original request". Operationally, on Europe/London local
time and England and Wales working days (the calendar is passed in: `gmirs_runtime.working_days`,
which the domain may not import):

- A request counts from the day it was received if that is a working day and it arrived before
  the cut-off (default 17:00 local, `CASE_EVIDENCE_CUTOFF`): the working day ends at the cut-off.
  Otherwise (after the cut-off, at a weekend or on a bank holiday) it counts from the next
  working day, as if received first thing that morning.
- It is due by the cut-off on the working day after the one it counts from: one full working
  day. Answered before `due_at` is on time; from `due_at` on it is late (and, while unanswered,
  overdue). `due_at` is a UTC moment, so it moves by an hour across a clock change.

So Monday 10:00 is due Tuesday 17:00; Friday 16:00 is due Monday 17:00; Friday 17:30, a Saturday
or Good Friday count from the next working day and are due the working day after that.

A request says what is asked, optionally of which hub and about which case (by the platform's
case id): never personal data. A CRN-shaped token in its text is refused (the case id is the way
to name a case), and the same for an answer, which the commissioner reads.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
DEFAULT_CUTOFF = time(17, 0)
_CRN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]\d{6}(?![A-Za-z0-9])")


class EvidenceRequestError(ValueError):
    """A request or answer the rules refuse (the API's 422)."""


class AlreadyAnsweredError(Exception):
    """The request has its answer already (the API's 409)."""


class WorkingDays(Protocol):
    """England and Wales working days on local dates (`gmirs_runtime.working_days` is one)."""

    def is_working_day(self, day: date) -> bool: ...

    def add_working_days(self, day: date, count: int) -> date: ...


@dataclass(frozen=True, slots=True)
class Promise:
    """When the clock starts (a local working day) and when the answer becomes late."""

    counted_from: date
    due_at: datetime


def promise(received_at: datetime, calendar: WorkingDays, cutoff: time = DEFAULT_CUTOFF) -> Promise:
    """The one-working-day promise for a request received at `received_at` (see the module)."""
    local = received_at.astimezone(LONDON)
    day, arrived = local.date(), local.time()
    if calendar.is_working_day(day) and arrived < cutoff:
        start = day
    else:
        start = calendar.add_working_days(day, 1)
    due_day = calendar.add_working_days(start, 1)
    due_at = datetime.combine(due_day, cutoff, tzinfo=LONDON)
    return Promise(counted_from=start, due_at=due_at.astimezone(received_at.tzinfo))


def refuse_personal_data(text: str, field: str) -> None:
    """Refuse a CRN (one letter and six digits): requests and answers name cases by id."""
    if _CRN.search(text):
        raise EvidenceRequestError(
            f"{field} looks like it holds a CRN: refer to a case by its case id, not personal data"
        )


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    answered_at: datetime
    answered_by: str
    on_time: bool


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    """What the commissioner asked, of whom, when, by when; and the answer once given."""

    id: uuid.UUID
    asked: str
    hub_id: str | None
    case_id: uuid.UUID | None
    requested_by: str
    requested_at: datetime
    recorded_at: datetime
    counted_from: date
    due_at: datetime
    answer: Answer | None = None

    @property
    def is_open(self) -> bool:
        return self.answer is None

    def overdue(self, now: datetime) -> bool:
        """Unanswered and past its due moment."""
        return self.answer is None and now >= self.due_at

    def answered(self, text: str, *, by: str, now: datetime) -> EvidenceRequest:
        """The request with its answer, given now: on time if before `due_at`."""
        if self.answer is not None:
            raise AlreadyAnsweredError(f"evidence request {self.id} was answered already")
        refuse_personal_data(text, "answer")
        answer = Answer(text=text, answered_at=now, answered_by=by, on_time=now < self.due_at)
        return replace(self, answer=answer)


def raise_request(
    *,
    asked: str,
    hub_id: str | None,
    case_id: uuid.UUID | None,
    requested_by: str,
    requested_at: datetime | None,
    now: datetime,
    calendar: WorkingDays,
    cutoff: time = DEFAULT_CUTOFF,
) -> EvidenceRequest:
    """A new request, received at `requested_at` (when the commissioner first asked; now if not
    said), recorded now; never dated in the future."""
    received = requested_at or now
    if received.tzinfo is None or now.tzinfo is None:
        raise EvidenceRequestError("times must carry a UTC offset")
    if received > now:
        raise EvidenceRequestError("requested_at is in the future")
    refuse_personal_data(asked, "asked")
    kept = promise(received, calendar, cutoff)
    return EvidenceRequest(
        id=uuid.uuid4(),
        asked=asked,
        hub_id=hub_id,
        case_id=case_id,
        requested_by=requested_by,
        requested_at=received,
        recorded_at=now,
        counted_from=kept.counted_from,
        due_at=kept.due_at,
    )

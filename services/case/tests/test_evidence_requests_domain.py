"""The one-working-day promise worked out by hand: Friday afternoons, Christmas, Easter, clock
changes and the cut-off, on England and Wales bank holidays (the runtime's calendar)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from gmirs_case.domain.evidence_requests import (
    AlreadyAnsweredError,
    EvidenceRequest,
    EvidenceRequestError,
    promise,
    raise_request,
)
from gmirs_runtime import working_days


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# (received, UTC) -> (counts from, due at, UTC), cut-off 17:00 Europe/London
CASES = [
    # a Monday morning: due by close on Tuesday
    (utc(2026, 12, 7, 10, 0), date(2026, 12, 7), utc(2026, 12, 8, 17, 0)),
    # Friday afternoon before the cut-off: due Monday 17:00
    (utc(2026, 12, 4, 15, 0), date(2026, 12, 4), utc(2026, 12, 7, 17, 0)),
    (utc(2026, 12, 4, 16, 59, 59), date(2026, 12, 4), utc(2026, 12, 7, 17, 0)),
    # Friday at or after the cut-off, and Saturday: count from Monday, due Tuesday
    (utc(2026, 12, 4, 17, 0), date(2026, 12, 7), utc(2026, 12, 8, 17, 0)),
    (utc(2026, 12, 5, 10, 0), date(2026, 12, 7), utc(2026, 12, 8, 17, 0)),
    # Christmas 2026: Friday 25th, Boxing Day on Saturday so Monday 28th is the substitute day
    (utc(2026, 12, 24, 10, 0), date(2026, 12, 24), utc(2026, 12, 29, 17, 0)),
    (utc(2026, 12, 24, 17, 30), date(2026, 12, 29), utc(2026, 12, 30, 17, 0)),
    (utc(2026, 12, 25, 9, 0), date(2026, 12, 29), utc(2026, 12, 30, 17, 0)),
    # Easter 2026 (British Summer Time: 17:00 local is 16:00 UTC): Good Friday 3rd, Monday 6th
    (utc(2026, 4, 2, 10, 0), date(2026, 4, 2), utc(2026, 4, 7, 16, 0)),
    (utc(2026, 4, 3, 9, 0), date(2026, 4, 7), utc(2026, 4, 8, 16, 0)),
    # clocks go forward on Sunday 29 March 2026: asked in GMT, due in BST
    (utc(2026, 3, 27, 10, 0), date(2026, 3, 27), utc(2026, 3, 30, 16, 0)),
    # clocks go back on Sunday 25 October 2026: 16:30 UTC is 17:30 BST, after the cut-off
    (utc(2026, 10, 23, 16, 30), date(2026, 10, 26), utc(2026, 10, 27, 17, 0)),
    (utc(2026, 10, 23, 15, 30), date(2026, 10, 23), utc(2026, 10, 26, 17, 0)),
    # Easter 2027 and the clock change on the same weekend (Good Friday 26 March, 28th forward)
    (utc(2027, 3, 25, 16, 30), date(2027, 3, 25), utc(2027, 3, 30, 16, 0)),
    # 23:30 UTC on a summer Monday is already Tuesday 00:30 in London
    (utc(2026, 7, 6, 23, 30), date(2026, 7, 7), utc(2026, 7, 8, 16, 0)),
]


@pytest.mark.parametrize(("received", "counted_from", "due_at"), CASES)
def test_the_promise_by_hand(received: datetime, counted_from: date, due_at: datetime) -> None:
    kept = promise(received, working_days)
    assert (kept.counted_from, kept.due_at) == (counted_from, due_at)
    assert kept.due_at.utcoffset() == timedelta(0)  # told in the zone it was received in


def test_the_cut_off_is_configurable() -> None:
    noon = time(12, 0)
    assert promise(utc(2026, 12, 7, 11, 0), working_days, noon).due_at == utc(2026, 12, 8, 12, 0)
    late = promise(utc(2026, 12, 7, 13, 0), working_days, noon)
    assert (late.counted_from, late.due_at) == (date(2026, 12, 8), utc(2026, 12, 9, 12, 0))


NOW = utc(2026, 12, 4, 15, 0)  # a Friday afternoon


def _raised(
    asked: str = "Attendance evidence for October", requested_at: datetime | None = None
) -> EvidenceRequest:
    return raise_request(
        asked=asked,
        hub_id="bolton",
        case_id=None,
        requested_by="gmca",
        requested_at=requested_at,
        now=NOW,
        calendar=working_days,
    )


def test_answered_before_due_is_on_time_and_from_due_it_is_late() -> None:
    request = _raised()
    assert request.requested_at == request.recorded_at == NOW
    due = request.due_at
    assert due == utc(2026, 12, 7, 17, 0)
    assert not request.overdue(due - timedelta(microseconds=1))
    assert request.overdue(due)
    just = request.answered("Sent by secure email", by="lead", now=due - timedelta(microseconds=1))
    assert just.answer is not None
    assert just.answer.on_time
    assert not just.is_open
    assert not just.overdue(due + timedelta(days=9))
    late = request.answered("Sent by secure email", by="lead", now=due)
    assert late.answer is not None
    assert late.answer.on_time is False
    with pytest.raises(AlreadyAnsweredError):
        late.answered("again", by="lead", now=due)


def test_the_original_request_time_counts_and_bad_requests_are_refused() -> None:
    earlier = _raised(requested_at=utc(2026, 12, 3, 9, 0))
    assert earlier.due_at == utc(2026, 12, 4, 17, 0)
    assert earlier.recorded_at == NOW
    with pytest.raises(EvidenceRequestError, match="future"):
        _raised(requested_at=utc(2026, 12, 4, 15, 1))
    with pytest.raises(EvidenceRequestError, match="UTC offset"):
        _raised(requested_at=datetime(2026, 12, 4, 9, 0))  # naive on purpose
    for crn_like in ("Records for X123456 please", "x123456", "(A000001)"):
        with pytest.raises(EvidenceRequestError, match="CRN"):
            _raised(asked=crn_like)
    assert _raised(asked="Case 8a2c4e61 and X1234567 and AB1234CD").asked
    with pytest.raises(EvidenceRequestError, match="CRN"):
        _raised().answered("See X123456", by="lead", now=utc(2026, 12, 4, 16, 0))
    assert isinstance(_raised().id, uuid.UUID)

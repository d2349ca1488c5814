"""Working days in England and Wales: hand-worked dates around weekends and bank holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gmirs_runtime.working_days import (
    add_working_days,
    is_working_day,
    local_date,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 4), True),  # a Friday
        (date(2026, 12, 5), False),  # Saturday
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # Boxing Day observed on the Monday
        (date(2026, 12, 29), True),
        (date(2027, 3, 26), False),  # Good Friday 2027
        (date(2026, 8, 31), False),  # late summer bank holiday (England, not Scotland)
        (date(2026, 8, 3), True),  # Scotland's summer holiday is not England's
    ],
)
def test_working_days_follow_england_and_wales(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_adding_working_days_skips_weekends_and_holidays() -> None:
    assert add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 5), 1) == date(2026, 12, 7)
    assert add_working_days(date(2026, 12, 7), 0) == date(2026, 12, 7)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 12, 7), -1)


def test_working_days_between_counts_days_after_the_start() -> None:
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1
    assert working_days_between(date(2026, 12, 7), date(2026, 12, 7)) == 0
    assert working_days_between(date(2026, 12, 7), date(2026, 12, 4)) == 0
    assert working_days_between(date(2026, 12, 4), date(2026, 12, 18)) == 10


def test_local_dates_are_london_dates() -> None:
    assert local_date(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)
    assert local_date(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="time zone"):
        local_date(datetime(2026, 12, 1, 23, 30))

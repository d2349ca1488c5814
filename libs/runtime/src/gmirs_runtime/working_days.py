"""Working days in England and Wales, on Europe/London local dates.

The specification's promises count working days ("within one working day", "ten working days"):
Monday to Friday, less the bank holidays of England and Wales (the `holidays` package, country
`GB`, subdivision `ENG`, which also has the substitute days when a holiday falls at a weekend).
Every date here is a local date in Europe/London: a moment is turned into one with `local_date`,
so 23:30 UTC on a summer evening is already the next day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
_SATURDAY = 5


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def local_date(moment: datetime) -> date:
    """The Europe/London date of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("a moment must carry its time zone")
    return moment.astimezone(LONDON).date()


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return day.weekday() < _SATURDAY and not is_bank_holiday(day)


def add_working_days(day: date, count: int) -> date:
    """The working day `count` working days after `day` (`day` itself need not be one)."""
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    while count:
        current += timedelta(days=1)
        if is_working_day(current):
            count -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after it).

    So a reply on the next working day is 1, on the same day 0, whatever weekend or bank holiday
    lies between.
    """
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count

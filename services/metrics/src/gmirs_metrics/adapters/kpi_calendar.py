"""A month's reporting window and its working-day deadlines, as parameters for the KPI SQL.

Every KPI window starts on a Europe/London date inside the month being reported (MEASURES.md:
a case belongs to the month its clock starts), so a few small arrays answer every window:
- `day_starts`: the London midnight starting each day of the month, as moments; the SQL finds a
  start's day with `width_bucket` (a binary search, no time zone arithmetic per row);
- `in_time_before_N`: for each day, the first moment that is too late for a step due within N
  working days (the London midnight after its deadline day), so "in time" is one comparison of
  moments. Deadlines come from `gmirs_runtime.working_days` (England and Wales bank holidays,
  weekends, substitute days) and may fall in the next month or year.
Converting each row's moments to London dates in SQL (`AT TIME ZONE`) cost ten times the row's
fetch (measured at 200,000 cases); comparing moments with London midnights is the same test,
clock changes included, because the midnights themselves are computed in London time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from gmirs_runtime.working_days import LONDON, add_working_days, is_working_day

WINDOWS = (1, 5, 10)
"""The working-day windows the KPIs use: KP1-KP5 (1), DS3 (5), DS2, DS4, KP6 (10)."""


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first moment of `month` and of the month after, at London midnight."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start = datetime(month.year, month.month, 1, tzinfo=LONDON)
    end = datetime(following.year, following.month, 1, tzinfo=LONDON)
    return start, end


@dataclass(frozen=True)
class MonthWindow:
    """One reporting month, judged at `now` (a controllable clock: see entrypoints/kpis.py)."""

    month: date
    now: datetime

    @property
    def days(self) -> list[date]:
        start, end = month_bounds(self.month)
        count = (end.date() - start.date()).days
        return [start.date() + timedelta(days=n) for n in range(count)]

    def deadlines(self, working_days: int) -> list[date]:
        """For each day of the month, the last London date still within `working_days`: the
        day before the next working day after them, so that `working_days_between(day, end) <=
        working_days` exactly (a record made on the Saturday after a Friday deadline lost no
        working day)."""
        return [add_working_days(day, working_days + 1) - timedelta(days=1) for day in self.days]

    def parameters(self) -> dict[str, Any]:
        """Bind parameters every KPI statement may use."""
        start, end = month_bounds(self.month)
        values: dict[str, Any] = {
            "month_start": start,
            "month_end": end,
            "now": self.now,
            "day_starts": [london_midnight(day) for day in self.days],
        }
        for window in WINDOWS:
            values[f"in_time_before_{window}"] = [
                london_midnight(day + timedelta(days=1)) for day in self.deadlines(window)
            ]
        return values


def london_midnight(day: date) -> datetime:
    """The moment `day` begins in London (00:00 GMT or BST, as that day has it)."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


DATA_CUT_WORKING_DAY = 16
"""SL002's technical note: R&M's data is extracted on the 16th working day of the next month."""


def data_cut(month: date) -> datetime:
    """When a month's pack is final: the start (London) of the 16th working day of the next
    month. A pack made after it is judged at this moment, so the same events give the same pack
    however late it is made; one made before it is provisional, judged at the time it was made."""
    following = month_bounds(month)[1].date()
    first = following if is_working_day(following) else add_working_days(following, 1)
    day = add_working_days(first, DATA_CUT_WORKING_DAY - 1)
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)

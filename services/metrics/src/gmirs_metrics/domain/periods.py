"""Reporting periods: KPIs are counted per calendar month in UK time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")
UNROUTED = "unrouted"


def reporting_month(moment: datetime) -> date:
    """The first day of the UK calendar month `moment` falls in."""
    local = moment.astimezone(UK)
    return date(local.year, local.month, 1)


def parse_month(text: str) -> date:
    """'2026-11' to date(2026, 11, 1); ValueError otherwise."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)

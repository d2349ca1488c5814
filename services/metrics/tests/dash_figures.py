"""Hand-made month figures for the dashboard's tests: a `FiguresSource` that returns what the
test wrote, so the page is checked against figures known in advance (the KPI arithmetic is
tested where it is computed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.domain.figures import (
    ALL_HUBS,
    Breakdown,
    KpiFigure,
    MonthlyFigures,
    ProviderActivity,
    ReportTimes,
)

NOVEMBER = date(2026, 11, 1)
AS_OF = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)


class HandMadeFigures:
    """Figures per month as the test wrote them; an empty month for any other."""

    def __init__(self, months: dict[date, MonthlyFigures]) -> None:
        self.months = months
        self.asked: list[date] = []

    async def figures_for(self, month: date) -> MonthlyFigures:
        self.asked.append(month)
        return self.months.get(month) or MonthlyFigures(month, AS_OF, [], [], [], [], [])


def month_figures(month: date, referrals: int) -> MonthlyFigures:
    """A month where DS1 counts `referrals` + the hub's position per hub, DS2 and KP3 are met,
    KP1 near, KP4 below, KP6 with no data, plus 24-hour reports and some provider activity."""
    kpis = [
        KpiFigure("DS2", ALL_HUBS, 96, 100, 95.0, mitigated=3),
        KpiFigure("KP1", ALL_HUBS, 97, 100, 100.0),
        KpiFigure("KP3", ALL_HUBS, 50, 50, 100.0),
        KpiFigure("KP4", ALL_HUBS, 4, 10, 100.0),
        KpiFigure("KP6", ALL_HUBS, 0, 0, 90.0),
        *(KpiFigure("DS1", hub, referrals + i, 40, 95.0) for i, hub in enumerate(HUB_IDS)),
        *(KpiFigure("DS2", hub, 9, 10, 95.0) for hub in HUB_IDS[:3]),
    ]
    reports = [
        ReportTimes(ALL_HUBS, 12, 10, 3600, 80000, 90000, 2, {"no-contact-reached": 2}),
        ReportTimes("bolton", 7, 7, 1800, 7200, 9000, 0),
        ReportTimes("bury", 5, 3, 5400, 86000, 90000, 2, {"no-contact-reached": 2}),
    ]
    activity = [
        ProviderActivity("bolton", "volunteers", 6),
        ProviderActivity("bury", "volunteers", 4),
        ProviderActivity("lead-provider", "spend", 45000.5),
        ProviderActivity("lead-provider", "budget", 50000),
    ]
    a1 = Breakdown("A1", "Referrals by source", ["direct"], ["bolton"], [[referrals]])
    return MonthlyFigures(month, AS_OF, kpis, reports, [], [a1], activity)


def six_months() -> HandMadeFigures:
    months = [date(2026, m, 1) for m in range(6, 12)]
    return HandMadeFigures({m: month_figures(m, 10 + i) for i, m in enumerate(months)})

"""A month's figures written by hand, and a `FiguresSource` that serves them: what the pack's
tests build from (the KPI queries are tested on their own)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gmirs_metrics.domain.figures import (
    Breakdown,
    DistanceTravelled,
    KpiFigure,
    MonthlyFigures,
    ProviderActivity,
    ReportTimes,
)

NOVEMBER = date(2026, 11, 1)


def november() -> MonthlyFigures:
    return MonthlyFigures(
        month=NOVEMBER,
        as_of=datetime(2026, 12, 1, 3, 15, 42, 123456, tzinfo=UTC),
        kpis=[
            KpiFigure("DS2", "bury", numerator=19, denominator=20, target_percent=95.0),
            KpiFigure("DS2", "oldham", numerator=18, denominator=20, target_percent=95.0),
            KpiFigure("DS3", "all", numerator=30, denominator=40, target_percent=90.0, mitigated=2),
            KpiFigure("KP4", "all", numerator=0, denominator=0, target_percent=100.0),
        ],
        reports=[
            ReportTimes(
                "bury",
                due=12,
                completed_in_time=11,
                p50_seconds=5400,
                p95_seconds=72000,
                max_seconds=90000,
                escalations=2,
                breaches_by_cause={"rm-unavailable": 1},
            ),
            ReportTimes("oldham", 0, 0, None, None, None, 0),
        ],
        distance=[
            DistanceTravelled("all", "Physical health", people=14, mean_change=1.5),
            DistanceTravelled("all", "overall", people=14, mean_change=-0.25),
        ],
        indicators=[
            Breakdown(
                indicator="A5",
                title="Ethnicity by borough",
                row_labels=["White", "Black", "Asian", '=HYPERLINK("x")'],
                column_labels=["bury", "oldham", "wigan"],
                cells=[[40, 3, 55], [12, 20, 8], [9, 30, 2], [10, 10, 10]],
            ),
            Breakdown("A2", "Referrals by source", ["R&M", "Direct"], ["bury"], [[25], [7]]),
        ],
        activity=[
            ProviderActivity("all", "Volunteers", 12.0),
            ProviderActivity("bury", "Spend against budget (GBP)", 10250.5),
        ],
    )


class HandWrittenFigures:
    """Serves `november()` for November and an empty month otherwise; counts its calls."""

    def __init__(self) -> None:
        self.asked: list[date] = []

    async def figures_for(self, month: date) -> MonthlyFigures:
        self.asked.append(month)
        if month == NOVEMBER:
            return november()
        return MonthlyFigures(month, datetime(2026, 12, 1, tzinfo=UTC), [], [], [], [], [])

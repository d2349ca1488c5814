"""The figures a month's report holds, as plain values: what the KPI queries produce and what
the pack, the API and the dashboard render. One shape for all of them, so a figure reads the same
in the XLSX, the JSON and on the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

Status = Literal["green", "amber", "red", "no-data"]
ALL_HUBS = "all"
"""The `area` of a figure over every hub (the lead provider's view)."""


@dataclass(frozen=True)
class KpiFigure:
    """One measure for one area (a hub id, or `all`) in one month."""

    code: str
    """DS1..DS5, KP1..KP6, PM001, SL002."""
    area: str
    numerator: int
    denominator: int
    target_percent: float | None
    mitigated: int = 0
    """How many of the numerator count only through a recorded mitigation ("inclusive of
    mitigation"); shown beside the figure, already inside `numerator`."""
    amber_margin: float = 5.0
    """Percentage points below target still amber, not red."""

    @property
    def percentage(self) -> float | None:
        if self.denominator == 0:
            return None
        return round(100.0 * self.numerator / self.denominator, 1)

    @property
    def status(self) -> Status:
        percent = self.percentage
        if percent is None or self.target_percent is None:
            return "no-data"
        if percent >= self.target_percent:
            return "green"
        if percent >= self.target_percent - self.amber_margin:
            return "amber"
        return "red"


@dataclass(frozen=True)
class ReportTimes:
    """The 24-hour non-attendance report for one area and month (brief section 5)."""

    area: str
    due: int
    completed_in_time: int
    p50_seconds: int | None
    p95_seconds: int | None
    max_seconds: int | None
    escalations: int
    breaches_by_cause: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DistanceTravelled:
    """Mean change from baseline to exit in one outcome area (`overall`: every area)."""

    area: str
    outcome_area: str
    people: int
    mean_change: float | None


@dataclass(frozen=True)
class Breakdown:
    """A table of counts: rows by columns (e.g. ethnicity by borough), with its totals.
    Cells below the disclosure threshold are suppressed before anyone sees them."""

    indicator: str
    """A1..A17, or a named breakdown."""
    title: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[int]]
    """cells[row][column]."""
    small_groups: bool = False
    """Counts of people in equality strands or other small groups: suppressed below the
    disclosure threshold where they are rendered (metricsdash)."""
    not_collected: str | None = None
    """Why the events carry no data for this breakdown (it has no rows): shown as "not
    collected", never invented (metricsdash)."""
    counts: bool = True
    """False when the cells are not counts (e.g. averages): no totals are added (metricsdash)."""


@dataclass(frozen=True)
class ProviderActivity:
    """A figure the provider enters itself (volunteers, events, training hours, spend)."""

    area: str
    measure: str
    value: float


@dataclass(frozen=True)
class MonthlyFigures:
    """Everything one month's pack holds."""

    month: date
    as_of: datetime
    """The time of the last event the read models had applied."""
    kpis: list[KpiFigure]
    reports: list[ReportTimes]
    distance: list[DistanceTravelled]
    indicators: list[Breakdown]
    activity: list[ProviderActivity]


class FiguresSource(Protocol):
    """Where the pack, API and dashboard get a month's figures from."""

    async def figures_for(self, month: date) -> MonthlyFigures: ...

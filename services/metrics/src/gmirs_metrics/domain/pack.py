"""The monthly pack as sheets of typed tables: one layout that the XLSX, CSV and JSON writers
render, so a figure reads the same in each. Breakdowns are suppressed here, before any writer
sees them; nothing in a pack depends on the time it is built (only on the figures).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from gmirs_metrics.domain.figures import (
    ALL_HUBS,
    DistanceTravelled,
    KpiFigure,
    MonthlyFigures,
    ProviderActivity,
    ReportTimes,
)
from gmirs_metrics.domain.periods import UK
from gmirs_metrics.domain.suppression import SUPPRESSED, SuppressedBreakdown, suppress

Kind = Literal["text", "count", "percent", "decimal", "status"]
Value = str | int | float | None
STATUS_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", "no-data": "No data"}
FORBIDDEN_IN_SHEET_NAMES = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "count"
    key: bool = False
    """Whether the column names the row (the CSV's `row` joins the key cells)."""


@dataclass(frozen=True)
class Sheet:
    """One sheet: a title, notes under it, and one table (so print titles can repeat its
    header on every printed page)."""

    name: str
    title: str
    notes: list[str]
    columns: list[Column]
    rows: list[list[Value]]


@dataclass(frozen=True)
class Pack:
    month: date
    as_of: datetime
    sheets: list[Sheet]
    breakdowns: list[SuppressedBreakdown]
    figures: MonthlyFigures

    @property
    def stem(self) -> str:
        """The files' name without extension: `gmirs-pack-2026-11`."""
        return f"gmirs-pack-{self.month:%Y-%m}"


def build_pack(figures: MonthlyFigures, threshold: int = 5) -> Pack:
    """The pack for one month's figures, breakdowns suppressed at `threshold`."""
    breakdowns = [suppress(b, threshold) for b in figures.indicators]
    sheets = [
        _summary(figures, breakdowns, threshold),
        _kpis(figures.kpis),
        _reports(figures.reports),
        _distance(figures.distance),
        *(_breakdown(b, threshold) for b in breakdowns),
        _activity(figures.activity),
    ]
    return Pack(figures.month, figures.as_of, _unique_names(sheets), breakdowns, figures)


def area_label(area: str) -> str:
    """A hub id as people read it ("all": every hub)."""
    return "All hubs" if area == ALL_HUBS else area.replace("-", " ").title()


def _summary(
    figures: MonthlyFigures, breakdowns: list[SuppressedBreakdown], threshold: int
) -> Sheet:
    as_of = figures.as_of.astimezone(UK)
    rows: list[list[Value]] = [
        ["Month", f"{figures.month:%B %Y}"],
        ["Figures as of", f"{as_of:%d %B %Y %H:%M} (UK time): the last event applied"],
        ["Small numbers", _suppression_note(threshold)],
        ["Cells suppressed", sum(b.suppressed_count for b in breakdowns)],
        ["KPIs red", sum(k.status == "red" for k in figures.kpis)],
        ["KPIs amber", sum(k.status == "amber" for k in figures.kpis)],
        ["KPIs green", sum(k.status == "green" for k in figures.kpis)],
    ]
    return Sheet(
        name="Summary",
        title=f"GMIRS Well-being Support Service: monthly pack, {figures.month:%B %Y}",
        notes=["Aggregates only: no person can be identified from this pack."],
        columns=[Column("Item", "text", key=True), Column("Value", "text")],
        rows=rows,
    )


def _suppression_note(threshold: int) -> str:
    return (
        f"{SUPPRESSED} marks a count under {threshold}, or a count hidden so that a small one"
        " cannot be worked out from the totals."
    )


def _kpis(kpis: list[KpiFigure]) -> Sheet:
    rows: list[list[Value]] = [
        [
            k.code,
            area_label(k.area),
            k.numerator,
            k.denominator,
            k.percentage,
            k.target_percent,
            STATUS_LABELS[k.status],
            k.mitigated,
        ]
        for k in kpis
    ]
    return Sheet(
        name="KPIs",
        title="Key performance indicators (specification section 2.6)",
        notes=[
            "Red, amber, green: at or above target is green; amber is within the amber margin"
            " below it; no data when nothing was due.",
            "Mitigated: counted in the numerator only through a recorded mitigation.",
        ],
        columns=[
            Column("Measure", "text", key=True),
            Column("Area", "text", key=True),
            Column("Numerator"),
            Column("Denominator"),
            Column("Percentage", "percent"),
            Column("Target", "percent"),
            Column("Status", "status"),
            Column("Mitigated"),
        ],
        rows=rows,
    )


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _reports(reports: list[ReportTimes]) -> Sheet:
    rows: list[list[Value]] = [
        [
            area_label(r.area),
            r.due,
            r.completed_in_time,
            _hours(r.p50_seconds),
            _hours(r.p95_seconds),
            _hours(r.max_seconds),
            r.escalations,
            sum(r.breaches_by_cause.values()),
            "; ".join(f"{cause}: {n}" for cause, n in sorted(r.breaches_by_cause.items())),
        ]
        for r in reports
    ]
    return Sheet(
        name="24-hour reports",
        title="Non-attendance reported to the probation practitioner within 24 hours",
        notes=["Times are hours from the end of the appointment to acknowledgement."],
        columns=[
            Column("Area", "text", key=True),
            Column("Due"),
            Column("Completed in time"),
            Column("Median hours", "decimal"),
            Column("95th percentile hours", "decimal"),
            Column("Longest hours", "decimal"),
            Column("Escalations"),
            Column("Breaches"),
            Column("Breaches by cause", "text"),
        ],
        rows=rows,
    )


def _distance(distance: list[DistanceTravelled]) -> Sheet:
    rows: list[list[Value]] = [
        [area_label(d.area), d.outcome_area, d.people, d.mean_change] for d in distance
    ]
    return Sheet(
        name="Distance travelled",
        title="Distance travelled: mean change from baseline to exit",
        notes=["On the platform's 1 to 10 scale; a positive change is progress."],
        columns=[
            Column("Area", "text", key=True),
            Column("Outcome area", "text", key=True),
            Column("People"),
            Column("Mean change", "decimal"),
        ],
        rows=rows,
    )


def _breakdown(b: SuppressedBreakdown, threshold: int) -> Sheet:
    def shown(value: int | None) -> Value:
        return SUPPRESSED if value is None else value

    rows: list[list[Value]] = [
        [label, *(shown(v) for v in cells), shown(total)]
        for label, cells, total in zip(b.row_labels, b.cells, b.row_totals, strict=True)
    ]
    rows.append(["Total", *(shown(v) for v in b.column_totals), shown(b.total)])
    name = f"{b.indicator} {b.title}".translate(FORBIDDEN_IN_SHEET_NAMES)[:31].strip()
    return Sheet(
        name=name,
        title=f"{b.indicator}: {b.title}",
        notes=[_suppression_note(threshold)],
        columns=[
            Column("Group", "text", key=True),
            *(Column(label) for label in b.column_labels),
            Column("Total"),
        ],
        rows=rows,
    )


def _activity(activity: list[ProviderActivity]) -> Sheet:
    rows: list[list[Value]] = [[area_label(a.area), a.measure, a.value] for a in activity]
    return Sheet(
        name="Provider activity",
        title="The provider's own activity figures (entered by the lead provider and hubs)",
        notes=["As entered; not derived from events."],
        columns=[
            Column("Area", "text", key=True),
            Column("Measure", "text", key=True),
            Column("Value", "decimal"),
        ],
        rows=rows,
    )


def _unique_names(sheets: list[Sheet]) -> list[Sheet]:
    """Sheet names are unique regardless of case (Excel's rule): a repeat gets a number."""
    seen: set[str] = set()
    unique = []
    for sheet in sheets:
        name, n = sheet.name, 1
        while name.casefold() in seen:
            n += 1
            name = f"{sheet.name[:27]} ({n})"
        seen.add(name.casefold())
        unique.append(replace(sheet, name=name))
    return unique

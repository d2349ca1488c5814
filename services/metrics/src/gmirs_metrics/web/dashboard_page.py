"""The dashboard page: a month's figures as plain, GOV.UK-like HTML (server-rendered, no script).

Every value is escaped on the way in (`escape`), status is said in words as well as colour, each
chart has a table of the same figures, and headings give the page its outline for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.domain.figures import ALL_HUBS, KpiFigure, MonthlyFigures, ReportTimes
from gmirs_metrics.domain.indicators_activity import MEASURES, spend_percent
from gmirs_metrics.domain.periods import UK
from gmirs_metrics.web.charts import column_sparkline, proportion_bars

STYLESHEET = "/dashboard/static/dashboard.css"
NO_FIGURE = "\N{EN DASH}"
KPI_NAMES = {
    "DS1": "Referrals received against the monthly target",
    "DS2": "Assessed within 10 working days of referral",
    "DS3": "Action plan within 5 working days of the initial assessment",
    "DS4": "Distance-travelled tool within 10 working days of assessment",
    "DS5": "People on programme achieving an outcome",
    "KP1": "Records updated within 1 business day of contact",
    "KP2": "Action plans updated within 1 business day and shared",
    "KP3": "Attendance recorded within 1 business day and shared",
    "KP4": "Evidence requested sent within 1 working day",
    "KP5": "Exit survey offered within 1 business day of completion",
    "KP6": "Intervention appointment within 10 working days",
    "PM001": "CRS PM001",
    "SL002": "CRS SL002",
}
STATUS_WORDS = {
    "green": "Met target",
    "amber": "Near target",
    "red": "Below target",
    "no-data": "No data",
}


def month_name(month: date) -> str:
    return f"{month:%B %Y}"


def _short(month: date) -> str:
    return f"{month:%b}"


def kpi_tile(kpi: KpiFigure) -> str:
    percent = NO_FIGURE if kpi.percentage is None else f"{kpi.percentage:.1f}%"
    target = "No target" if kpi.target_percent is None else f"Target {kpi.target_percent:g}%"
    mitigated = f" ({kpi.mitigated} through mitigation)" if kpi.mitigated else ""
    return (
        f'<li class="tile"><h3 class="tile-heading">{escape(kpi.code)}'
        f' <span class="tile-name">{escape(KPI_NAMES.get(kpi.code, kpi.code))}</span></h3>'
        f'<p class="tile-figure">{percent}</p>'
        f"<p>{kpi.numerator} of {kpi.denominator}{mitigated}. {target}.</p>"
        f'<p><strong class="tag tag-{kpi.status}">{STATUS_WORDS[kpi.status]}</strong></p></li>'
    )


def kpi_tiles(figures: MonthlyFigures) -> str:
    tiles = [kpi_tile(k) for k in figures.kpis if k.area == ALL_HUBS]
    if not tiles:
        return '<p class="body">No KPI figures for this month yet.</p>'
    return f'<ul class="tiles">{"".join(tiles)}</ul>'


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A data table; the first cell of each row is its header."""
    header = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    body = "".join(
        f'<tr><th scope="row">{escape(row[0])}</th>'
        + "".join(f'<td class="numeric">{escape(cell)}</td>' for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="table"><caption class="table-caption">{escape(caption)}</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


def referrals_by_hub(figures: MonthlyFigures) -> dict[str, int]:
    """Referrals received per hub: DS1's numerators, or Appendix A indicator 1's columns."""
    from_kpis = {k.area: k.numerator for k in figures.kpis if k.code == "DS1"}
    if any(hub in from_kpis for hub in HUB_IDS):
        return {hub: from_kpis.get(hub, 0) for hub in HUB_IDS}
    a1 = next((b for b in figures.indicators if b.indicator == "A1"), None)
    if a1 is None:
        return dict.fromkeys(HUB_IDS, 0)
    sums = [sum(row[j] for row in a1.cells) for j in range(len(a1.column_labels))]
    by_column = dict(zip(a1.column_labels, sums, strict=True))
    return {hub: by_column.get(hub, 0) for hub in HUB_IDS}


def kpis_met(figures: MonthlyFigures, hub: str) -> str:
    judged = [k for k in figures.kpis if k.area == hub and k.status != "no-data"]
    met = sum(k.status == "green" for k in judged)
    return f"{met} of {len(judged)}" if judged else NO_FIGURE


def trends(months: Sequence[MonthlyFigures]) -> str:
    labels = [_short(m.month) for m in months]
    span = f"{month_name(months[0].month)} to {month_name(months[-1].month)}"
    counts = [referrals_by_hub(m) for m in months]
    cards = []
    for hub in HUB_IDS:
        values = [c[hub] for c in counts]
        words = ", ".join(f"{label} {v}" for label, v in zip(labels, values, strict=True))
        chart = column_sparkline(
            f"trend-{hub}", f"Referrals received in {hub.title()}: {words}", labels, values
        )
        cards.append(f'<li class="trend"><h3 class="trend-heading">{hub.title()}</h3>{chart}</li>')
    referrals = _table(
        f"Referrals received per borough, {span}",
        ["Borough", *labels],
        [[hub.title(), *(str(c[hub]) for c in counts)] for hub in HUB_IDS],
    )
    met = _table(
        f"KPIs meeting their target per borough, {span}",
        ["Borough", *labels],
        [[hub.title(), *(kpis_met(m, hub) for m in months)] for hub in HUB_IDS],
    )
    return f'<ul class="trends">{"".join(cards)}</ul>{referrals}{met}'


def _report_row(report: ReportTimes) -> list[str]:
    def hours(seconds: int | None) -> str:
        return NO_FIGURE if seconds is None else f"{seconds / 3600:.1f}"

    causes = "; ".join(f"{c}: {n}" for c, n in sorted(report.breaches_by_cause.items())) or "none"
    area = "All hubs" if report.area == ALL_HUBS else report.area.title()
    return [
        area,
        str(report.due),
        str(report.completed_in_time),
        hours(report.p50_seconds),
        hours(report.p95_seconds),
        hours(report.max_seconds),
        str(report.escalations),
        causes,
    ]


def report_section(figures: MonthlyFigures) -> str:
    reports = sorted(figures.reports, key=lambda r: (r.area != ALL_HUBS, r.area))
    if not reports:
        return '<p class="body">No 24-hour reports were due this month.</p>'
    rows = [
        ("All hubs" if r.area == ALL_HUBS else r.area.title(), r.completed_in_time, r.due)
        for r in reports
    ]
    words = "; ".join(f"{label} {part} of {whole} in time" for label, part, whole in rows)
    chart = proportion_bars(
        "reports-chart", f"24-hour reports completed in time, by hub: {words}", rows
    )
    head = [
        "Area",
        "Due",
        "In time",
        "p50 hours",
        "p95 hours",
        "Max hours",
        "Escalated",
        "Breaches",
    ]
    table = _table(
        f"24-hour non-attendance reports, {month_name(figures.month)}",
        head,
        [_report_row(r) for r in reports],
    )
    return f'<div class="chart-box">{chart}</div>{table}'


def activity_section(figures: MonthlyFigures) -> str:
    totals: dict[str, float] = {}
    areas: dict[str, set[str]] = {}
    for figure in figures.activity:
        totals[figure.measure] = totals.get(figure.measure, 0.0) + figure.value
        areas.setdefault(figure.measure, set()).add(figure.area)
    rows = [
        [m.label, m.indicator, f"{totals[name]:,.2f}".removesuffix(".00"), str(len(areas[name]))]
        for name, m in MEASURES.items()
        if name in totals
    ]
    if not rows:
        return '<p class="body">No provider activity entered for this month yet.</p>'
    table = _table(
        f"Provider activity, {month_name(figures.month)} (all areas)",
        ["Measure", "Indicator", "Total", "Areas reporting"],
        rows,
    )
    spent = spend_percent(_decimal(totals.get("spend")), _decimal(totals.get("budget")))
    line = "" if spent is None else f'<p class="body">Spend is {spent:g}% of budget.</p>'
    return table + line


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def pack_links(month: date) -> str:
    name = month_name(month)
    links = [
        (f"/packs/{month:%Y-%m}.xlsx", f"Download the {name} pack as a spreadsheet (XLSX)"),
        (f"/packs/{month:%Y-%m}.csv", f"Download the {name} pack as CSV"),
        (f"/packs/{month:%Y-%m}.json", f"Download the {name} pack as JSON"),
    ]
    items = "".join(f'<li><a class="link" href="{href}">{text}</a></li>' for href, text in links)
    return f'<ul class="list pack-links">{items}</ul>'


def month_navigation(month: date, latest: date) -> str:
    before = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    after = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    links = [f'<a class="link" href="/dashboard?month={before:%Y-%m}">Previous month</a>']
    if after <= latest:
        links.append(f'<a class="link" href="/dashboard?month={after:%Y-%m}">Next month</a>')
    return f'<nav class="month-nav" aria-label="Months">{" ".join(links)}</nav>'


def render(current: MonthlyFigures, history: Sequence[MonthlyFigures], latest: date) -> str:
    """The whole page for `current`'s month; `history` is the last six months, oldest first."""
    name = month_name(current.month)
    as_of = current.as_of.astimezone(UK)
    sections = [
        ("kpis", "Key performance indicators", kpi_tiles(current)),
        ("trends", "Trends per borough, last six months", trends(history)),
        ("reports", "24-hour non-attendance reports", report_section(current)),
        ("activity", "Provider activity (Appendix A, indicators 12 to 16)", activity_section(current)),
        ("pack", "Monthly pack", pack_links(current.month)),
    ]  # fmt: skip
    body = "".join(
        f'<section aria-labelledby="{key}"><h2 class="heading-l" id="{key}">{title}</h2>'
        f"{content}</section>"
        for key, title, content in sections
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Performance dashboard, {name}: GMIRS Connect</title>"
        f'<link rel="stylesheet" href="{STYLESHEET}"></head><body>'
        '<a href="#main" class="skip-link">Skip to main content</a>'
        '<header class="header"><div class="width"><p class="service-name">GMIRS Connect'
        "</p></div></header>"
        '<div class="width"><main id="main" class="main">'
        f'<h1 class="heading-xl"><span class="caption">{name}</span>Performance dashboard</h1>'
        f'<p class="body">Figures as at {as_of:%d %B %Y, %H:%M} (UK time).</p>'
        f"{month_navigation(current.month, latest)}{body}</main></div>"
        '<footer class="footer"><div class="width"><p>Greater Manchester Integrated '
        "Rehabilitative Services: figures for the lead provider and commissioners.</p></div>"
        "</footer></body></html>"
    )

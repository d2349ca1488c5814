"""A month's KPIs, 24-hour report times and distance travelled, read from the fact tables.

One statement per measure, all on the caller's transaction (so one snapshot: every figure of a
month reads the same facts). Tables are named unqualified: the session's search_path is the
metrics schema, and a rebuild may swap the tables underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.adapters import kpi_counts
from gmirs_metrics.adapters.kpi_calendar import MonthWindow
from gmirs_metrics.adapters.kpi_report_sql import REPORT_BREACHES, REPORT_TIMES, distance_sql
from gmirs_metrics.adapters.kpi_windows import window_groups, window_sql
from gmirs_metrics.domain.figures import ALL_HUBS, DistanceTravelled, KpiFigure, ReportTimes
from gmirs_metrics.domain.kpi_readings import KpiReadings
from gmirs_metrics.domain.kpi_targets import AMBER_MARGIN, TARGET_PERCENT

CODES: tuple[str, ...] = tuple(TARGET_PERCENT)
"""DS1..DS5, KP1..KP6, PM001, SL002: the order figures are shown in."""


@dataclass(frozen=True)
class KpiMonth:
    kpis: list[KpiFigure]
    reports: list[ReportTimes]
    distance: list[DistanceTravelled]


class KpiQueries:
    def __init__(self, session: AsyncSession, readings: KpiReadings) -> None:
        self._session = session
        self._readings = readings

    async def month(self, window: MonthWindow) -> KpiMonth:
        """Every measure of `window.month`, per hub and overall, judged at `window.now`."""
        params = window.parameters()
        kpis = await self._ds1(params)
        for codes, sql in self.window_statements():
            rows = await self._rows(sql, params)
            for code in codes:
                kpis += self._figures(code, [row for row in rows if row.code == code])
        for code, sql in self.count_statements():
            kpis += self._figures(code, await self._rows(sql, params))
        return KpiMonth(
            kpis=sorted(kpis, key=lambda f: (CODES.index(f.code), f.area != ALL_HUBS, f.area)),
            reports=await self._reports(params),
            distance=await self._distance(params),
        )

    def window_statements(self) -> list[tuple[tuple[str, ...], str]]:
        """(codes, SQL) of the window KPIs, one statement per cohort; rows carry their code."""
        return [
            (tuple(m.code for m in group), window_sql(group, self._readings))
            for group in window_groups(self._readings)
        ]

    def count_statements(self) -> list[tuple[str, str]]:
        """(code, SQL) of the count KPIs but DS1 (whose denominator is a setting)."""
        readings = self._readings
        return [
            ("DS5", kpi_counts.ds5_sql(readings)),
            ("KP4", kpi_counts.KP4),
            ("PM001", kpi_counts.PM001),
            ("SL002", kpi_counts.SL002),
        ]

    def every_statement(self) -> list[tuple[str, str]]:
        """(name, SQL) of every statement a month runs: for benchmarks to time each."""
        return [
            ("DS1", kpi_counts.DS1),
            ("DS1 unrouted", kpi_counts.DS1_UNROUTED),
            *(("+".join(codes), sql) for codes, sql in self.window_statements()),
            *self.count_statements(),
            ("reports", REPORT_TIMES),
            ("breaches", REPORT_BREACHES),
            ("distance", distance_sql(self._readings)),
        ]

    async def _rows(self, sql: str, params: dict[str, Any]) -> Sequence[Any]:
        return (await self._session.execute(text(sql), params)).all()

    def _figures(self, code: str, rows: Sequence[Any]) -> list[KpiFigure]:
        by_area = {row.area: row for row in rows}
        for area in (ALL_HUBS, *HUB_IDS):  # every hub is shown, even with no cases
            by_area.setdefault(area, None)
        return [_figure(code, area, row) for area, row in by_area.items()]

    async def _ds1(self, params: dict[str, Any]) -> list[KpiFigure]:
        """DS1's denominator is the hub's target; every hub with a target is shown."""
        received = {row.area: row.numerator for row in await self._rows(kpi_counts.DS1, params)}
        unrouted = (await self._session.execute(text(kpi_counts.DS1_UNROUTED), params)).scalar()
        received[ALL_HUBS] = received.get(ALL_HUBS, 0) + int(unrouted or 0)
        areas = {*self._readings.ds1_monthly_targets, *received, *HUB_IDS, ALL_HUBS}
        return [
            KpiFigure(
                code="DS1",
                area=area,
                numerator=int(received.get(area, 0)),
                denominator=self._readings.ds1_target(area),
                target_percent=TARGET_PERCENT["DS1"],
            )
            for area in areas
        ]

    async def _reports(self, params: dict[str, Any]) -> list[ReportTimes]:
        causes: dict[str, dict[str, int]] = {}
        for row in await self._rows(REPORT_BREACHES, params):
            causes.setdefault(row.area, {})[row.cause] = int(row.breaches)
        rows = await self._rows(REPORT_TIMES, params)
        return sorted(
            (
                ReportTimes(
                    area=row.area,
                    due=int(row.due),
                    completed_in_time=int(row.completed_in_time),
                    p50_seconds=row.p50,
                    p95_seconds=row.p95,
                    max_seconds=row.max,
                    escalations=int(row.escalations),
                    breaches_by_cause=dict(sorted(causes.get(row.area, {}).items())),
                )
                for row in rows
            ),
            key=lambda r: (r.area != ALL_HUBS, r.area),
        )

    async def _distance(self, params: dict[str, Any]) -> list[DistanceTravelled]:
        rows = await self._rows(distance_sql(self._readings), params)
        figures = [
            DistanceTravelled(
                area=row.area,
                outcome_area=row.outcome_area,
                people=int(row.people),
                mean_change=None if row.mean_change is None else round(row.mean_change, 2),
            )
            for row in rows
        ]
        return sorted(figures, key=lambda d: (d.area != ALL_HUBS, d.area, d.outcome_area))


def _figure(code: str, area: str, row: Any | None) -> KpiFigure:
    return KpiFigure(
        code=code,
        area=area,
        numerator=int(row.numerator) if row else 0,
        denominator=int(row.denominator) if row else 0,
        target_percent=TARGET_PERCENT[code],
        mitigated=int(row.mitigated) if row else 0,
        amber_margin=AMBER_MARGIN.get(code, 5.0),
        pending=int(row.pending) if row else 0,
        excluded=int(row.excluded) if row else 0,
    )

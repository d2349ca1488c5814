"""The `FiguresSource` the service runs on: a month's KPIs, 24-hour report times and distance
travelled (the KPI queries), Appendix A's breakdowns and the provider's activity, all read from
this service's read models in one transaction, so every figure in a pack or on the dashboard is
of the same moment: the month's data cut (`adapters.kpi_calendar.data_cut`) once it has passed, so the
same events give the same pack however late it is made."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from gmirs_metrics.adapters.indicator_queries import AppendixA
from gmirs_metrics.adapters.kpi_calendar import MonthWindow, data_cut
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.figures import MonthlyFigures
from gmirs_metrics.domain.kpi_readings import KpiReadings


class ReadModelFigures:
    def __init__(
        self,
        unit_of_work: Callable[[], MetricsUnitOfWork],
        *,
        readings: KpiReadings,
        first_contact_working_days: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._unit_of_work = unit_of_work
        self._readings = readings
        self._first_contact_days = first_contact_working_days
        self._clock = clock

    async def figures_for(self, month: date) -> MonthlyFigures:
        now = min(self._clock(), data_cut(month))
        async with self._unit_of_work() as uow:
            kpis = await uow.kpi_queries(self._readings).month(MonthWindow(month, now))
            queries = AppendixA(uow.session, first_contact_working_days=self._first_contact_days)
            indicators = await queries.breakdowns(month, as_of=now)
            activity = await uow.provider_activity.for_month(month)
        return MonthlyFigures(
            month=month,
            as_of=now,
            kpis=kpis.kpis,
            reports=kpis.reports,
            distance=kpis.distance,
            indicators=indicators,
            activity=[entry.figure() for entry in activity],
        )

"""A `FiguresSource` of what metricsdash computes: Appendix A's breakdowns and the provider's
activity for a month, with no KPIs, 24-hour report times or distance travelled (other sources
give those; the composition root merges them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from gmirs_metrics.adapters.indicator_queries import AppendixA
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.figures import MonthlyFigures


class IndicatorFigures:
    def __init__(
        self,
        unit_of_work: Callable[[], MetricsUnitOfWork],
        *,
        first_contact_working_days: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._unit_of_work = unit_of_work
        self._first_contact_days = first_contact_working_days
        self._clock = clock

    async def figures_for(self, month: date) -> MonthlyFigures:
        now = self._clock()
        async with self._unit_of_work() as uow:
            queries = AppendixA(uow.session, first_contact_working_days=self._first_contact_days)
            indicators = await queries.breakdowns(month, as_of=now)
            activity = await uow.provider_activity.for_month(month)
        return MonthlyFigures(
            month=month,
            as_of=now,
            kpis=[],
            reports=[],
            distance=[],
            indicators=indicators,
            activity=[entry.figure() for entry in activity],
        )

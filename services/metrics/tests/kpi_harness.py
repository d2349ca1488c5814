"""One metrics service per test module with a controllable clock, the fact seeder, and a way to
read a month's figures under any readings (the KPI arithmetic needs no HTTP round trip; the API
tests use HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest_asyncio
from services.metrics.tests.facts import Facts, london

from gmirs_metrics.adapters.kpi_calendar import MonthWindow
from gmirs_metrics.adapters.kpi_queries import KpiMonth
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.bootstrap import MIGRATIONS, build
from gmirs_metrics.domain.figures import KpiFigure
from gmirs_metrics.domain.kpi_readings import KpiReadings
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.services import RunningService, own_database, running_service


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, wall_clock: str) -> None:
        self.now = london(wall_clock)


@dataclass
class Metrics:
    service: RunningService
    clock: Clock
    facts: Facts

    async def month(self, month: str, now: str, readings: KpiReadings | None = None) -> KpiMonth:
        """Every figure of `month` ('2026-12') judged at London time `now`."""
        year, number = (int(part) for part in month.split("-"))
        window = MonthWindow(date(year, number, 1), london(now))
        uow: MetricsUnitOfWork
        async with self.service.infra.unit_of_work() as uow:
            return await uow.kpi_queries(readings or KpiReadings()).month(window)

    async def kpi(
        self, code: str, area: str, month: str, now: str, readings: KpiReadings | None = None
    ) -> KpiFigure:
        figures = await self.month(month, now, readings)
        return next(f for f in figures.kpis if f.code == code and f.area == area)


def counts(figure: KpiFigure) -> dict[str, Any]:
    """The figure as the numbers a person works out on paper."""
    return {
        "numerator": figure.numerator,
        "denominator": figure.denominator,
        "mitigated": figure.mitigated,
        "pending": figure.pending,
        "excluded": figure.excluded,
    }


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def metrics(
    postgres_server: EmbeddedPostgres, kafka_broker: Any, token_issuer: TestIssuer
) -> AsyncIterator[Metrics]:
    clock = Clock()

    async def build_with_clock(settings: ServiceSettings) -> tuple[Service, Any]:
        return await build(settings, clock=clock)

    async with (
        own_database(postgres_server, "kpis") as url,
        running_service(
            settings_class=MetricsSettings,
            build=build_with_clock,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
        ) as service,
    ):
        yield Metrics(service, clock, Facts(service.infra.sessions))

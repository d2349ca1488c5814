"""A month's KPIs over 1,000,000 cases: every measure (DS1-DS5, KP1-KP6, PM001, SL002), the
24-hour report times and distance travelled, for every hub and overall, through the service's
own query code (KpiQueries on a SQLAlchemy session, as `GET /kpis` runs it).

The cases (tests/bench/metrics_kpi_seed.py) spread evenly over `BENCH_KPI_MONTHS` months (48 by
default: about 21,000 referrals a month, a national roll-out rather than Greater Manchester's
few hundred); the month measured is in the middle; three computations warm up first. Beside it, the floor measured in the same
run: a bare `SELECT count(*)` of the month's cases over the same index. Printed: the median and
the fastest of `BENCH_KPI_ROUNDS` computations, each statement's median, the ratio to the floor,
beside the aim (<= 200 ms). It asserts only that the figures are not empty.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gmirs_metrics.adapters.kpi_calendar import MonthWindow, month_bounds
from gmirs_metrics.adapters.kpi_queries import KpiQueries
from gmirs_metrics.bootstrap import MIGRATIONS
from gmirs_metrics.domain.kpi_readings import KpiReadings
from gmirs_runtime.db import asyncpg_dsn, create_engine
from gmirs_runtime.migrations import upgrade
from tests.bench.metrics_kpi_seed import seed

pytestmark = [pytest.mark.bench, pytest.mark.timeout(1800)]
CASES = int(os.environ.get("BENCH_KPI_CASES", "1000000"))
MONTHS = int(os.environ.get("BENCH_KPI_MONTHS", "48"))
ROUNDS = int(os.environ.get("BENCH_KPI_ROUNDS", "15"))
WARM_UP = 3
SCHEMA = "metrics"
START = datetime(2024, 1, 1, tzinfo=UTC)
MONTH = date(2024 + MONTHS // 2 // 12, MONTHS // 2 % 12 + 1, 1)
NOW = datetime.combine(MONTH, datetime.min.time(), UTC) + timedelta(days=45)
FLOOR = "SELECT count(*) FROM case_facts WHERE referral_sent_at >= :s AND referral_sent_at < :e"


async def _timed(run: Any) -> float:
    started = time.perf_counter()
    await run()
    return (time.perf_counter() - started) * 1000


async def _rounds(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[float]]:
    start, end = month_bounds(MONTH)
    window = MonthWindow(MONTH, NOW)
    times: dict[str, list[float]] = {"all": [], "floor": []}
    async with sessions() as session:
        queries = KpiQueries(session, KpiReadings())
        for _ in range(WARM_UP):  # plans prepared and cached, pages read once
            await queries.month(window)
        for _ in range(ROUNDS):
            times["floor"].append(
                await _timed(lambda: session.execute(text(FLOOR), {"s": start, "e": end}))
            )
            times["all"].append(await _timed(lambda: queries.month(window)))
        params = window.parameters()
        for code, sql in queries.every_statement():
            for _ in range(ROUNDS):
                ms = await _timed(lambda: session.execute(text(sql), params))  # noqa: B023
                times.setdefault(code, []).append(ms)
        figures = await queries.month(window)
    assert any(f.denominator for f in figures.kpis if f.code == "DS2")
    assert figures.reports
    assert figures.distance
    return times


async def test_a_months_kpis_over_a_million_cases(database_url: str, report: list[str]) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA)
    conn = await asyncpg.connect(asyncpg_dsn(database_url), server_settings={"search_path": SCHEMA})
    try:
        seeding = time.perf_counter()
        seconds = (MONTHS * 30.44) * 86_400
        await seed(conn, CASES, START, seconds)
        seeded = time.perf_counter() - seeding
        month_cases = await conn.fetchval(
            "SELECT count(*) FROM case_facts WHERE referral_sent_at >= $1 AND referral_sent_at < $2",
            *month_bounds(MONTH),
        )
    finally:
        await conn.close()
    engine = create_engine(database_url, schema=SCHEMA, application_name="bench-kpis")
    try:
        times = await _rounds(async_sessionmaker(engine, expire_on_commit=False))
    finally:
        await engine.dispose()
    whole = times.pop("all")
    median, floor = statistics.median(whole), statistics.median(times.pop("floor"))
    report.append(
        f"a month's KPIs over {CASES:,} cases ({MONTHS} months, {month_cases:,} referred in "
        f"{MONTH:%Y-%m}; seeded in {seeded:.0f} s; load average {os.getloadavg()[0]:.1f}):"
    )
    report.append(
        f"  every measure, every hub: median {median:.1f} ms, fastest {min(whole):.1f} ms "
        f"(aim <= 200 ms); floor, a bare "
        f"count of the month's cases: {floor:.2f} ms; ratio {median / floor:.0f}x"
    )
    shares = ", ".join(f"{code} {statistics.median(ms):.1f}" for code, ms in times.items())
    report.append(f"  per statement (median ms): {shares}")

"""The hub API at 100,000 cases: caseload pages, a case read and attendance, over real HTTP.

100,000 cases (ten hubs) and 10,000 past appointments are written with COPY, not through the
API. A real case process (uvicorn, one core) answers concurrent clients; beside it, the floor: a
bare FastAPI app under uvicorn running the caseload's single SQL statement through asyncpg
(tests/bench/bare_caseload.py). Printed: requests/s, p50, p99 per operation, the ratio to the
floor and the case process's RSS idle and at its peak under load, beside the aims.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
import pytest

from gmirs_case.bootstrap import MIGRATIONS
from gmirs_contracts.hubs import HUB_IDS
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.processes import ManagedProcess
from gmirs_runtime.migrations import upgrade

pytestmark = pytest.mark.bench
CASES = 100_000
APPOINTMENTS = 10_000
SINCE = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
REQUESTS = int(os.environ.get("BENCH_CASELOAD_REQUESTS", "3000"))
CONCURRENCY = 32
HUB = "bolton"
SCHEMA = "casework"
Request = Callable[[int], tuple[str, str, dict[str, Any] | None]]


async def _load_cases(
    database_url: str,
) -> tuple[list[uuid.UUID], list[tuple[uuid.UUID, uuid.UUID]]]:
    """COPY the cases and appointments; the bolton case ids and (case, appointment) pairs."""
    now = datetime.now(UTC)
    hubs = list(HUB_IDS)
    cases = [
        (
            uuid.uuid4(),
            uuid.uuid4(),
            hubs[i % len(hubs)],
            "Bolton",
            f"X{i:06d}",
            f"AB{i % 10_000:04d}CD" if i % 3 else None,
            now - timedelta(minutes=i),
            1,
        )
        for i in range(CASES)
    ]
    mine = [c[0] for c in cases if c[2] == HUB]
    pairs = [(random.choice(mine), uuid.uuid4()) for _ in range(APPOINTMENTS)]
    start = now - timedelta(hours=3)
    appointments = [
        (a, c, "session", None, start, start + timedelta(hours=1), "phone-call", start)
        for c, a in pairs
    ]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await conn.copy_records_to_table(
            "cases",
            records=cases,
            schema_name=SCHEMA,
            columns=[
                "id",
                "referral_id",
                "hub_id",
                "probation_delivery_unit",
                "crn",
                "reference_number",
                "opened_at",
                "version",
            ],
        )
        await conn.copy_records_to_table(
            "appointments",
            records=appointments,
            schema_name=SCHEMA,
            columns=[
                "id",
                "case_id",
                "kind",
                "session_number",
                "starts_at",
                "ends_at",
                "delivery_type",
                "booked_at",
            ],
        )
        await conn.execute("ANALYZE cases; ANALYZE appointments")
    finally:
        await conn.close()
    return mine, pairs


async def _start(
    name: str, argv: list[str], env: dict[str, str], port: int, log: Path
) -> ManagedProcess:
    process = ManagedProcess(name, argv, log_path=log, env=env)
    process.start()
    await process.wait_ready(port, timeout=60)
    return process


def _case_env(database_url: str, bootstrap: str, issuer: Any, port: int) -> dict[str, str]:
    return {
        "CASE_ENVIRONMENT": "test",
        "CASE_DATABASE_URL": database_url,
        "CASE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CASE_HTTP_PORT": str(port),
        "CASE_AUTH_ISSUER": issuer.url,
        "CASE_AUTH_JWKS_URL": issuer.jwks_url,
        "CASE_LOG_LEVEL": "WARNING",
        "CASE_RATE_LIMIT_PER_SECOND": "1000000",
        "CASE_RATE_LIMIT_BURST": "1000000",
    }


def _rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


async def _measure(
    base_url: str, token: str | None, request: Request, pid: int | None = None
) -> tuple[float, list[float], float]:
    """Requests/s and latencies of REQUESTS calls from CONCURRENCY clients; peak RSS of `pid`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    peak = 0.0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(base_url, headers=headers, connector=connector) as http:
        pending = iter(range(REQUESTS))

        async def worker() -> None:
            for n in pending:
                method, path, body = request(n)
                started = time.perf_counter()
                async with http.request(method, path, json=body) as response:
                    await response.read()
                    assert response.status == 200, (path, response.status, await response.text())
                latencies.append(time.perf_counter() - started)

        async def sample() -> None:
            nonlocal peak
            while True:
                if pid is not None:
                    peak = max(peak, _rss_mb(pid))
                await asyncio.sleep(0.2)

        for n in range(CONCURRENCY):  # warm: connections, statements prepared
            method, path, body = request(REQUESTS + n)
            async with http.request(method, path, json=body) as response:
                await response.read()
        sampler = asyncio.create_task(sample())
        try:
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            elapsed = time.perf_counter() - started
        finally:
            sampler.cancel()
    return REQUESTS / elapsed, latencies, peak


def _line(name: str, rate: float, latencies: list[float], floor: float) -> str:
    q = statistics.quantiles(latencies, n=100)
    return (
        f"  {name}: {rate:,.0f} req/s, p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
        f"{rate / floor:.2f} of the floor  (aims: p99 <= 50 ms, >= 0.50 of the floor)"
    )


async def test_caseload_at_100k_cases(
    database_url, kafka_broker, token_issuer, tmp_path, report
) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA)
    mine, pairs = await _load_cases(database_url)
    token = token_issuer.mint("hub-bolton", ["hub"], "gmirs-case", {"hub_id": HUB})
    case_port, bare_port = free_port(), free_port()
    case = await _start(
        "case",
        [sys.executable, "-m", "gmirs_case", "run"],
        _case_env(database_url, kafka_broker.bootstrap, token_issuer, case_port),
        case_port,
        tmp_path / "case.log",
    )
    try:
        assert case.pid is not None
        await asyncio.sleep(10)  # settled: consumer joined, relay listening
        idle = _rss_mb(case.pid)
        url = f"http://127.0.0.1:{case_port}"
        operations: list[tuple[str, Request]] = [
            ("caseload, first page (limit 50)", lambda n: ("GET", "/cases?limit=50", None)),
            (
                "caseload, filtered (delivery unit, opened range)",
                lambda n: (
                    "GET",
                    f"/cases?limit=50&probation_delivery_unit=Bolton&opened_from={SINCE}",
                    None,
                ),
            ),
            (
                "caseload, searched (CRN prefix)",
                lambda n: ("GET", f"/cases?q=X{n % 100:02d}", None),
            ),
            ("one case read (audited)", lambda n: ("GET", f"/cases/{mine[n % len(mine)]}", None)),
            (
                "attendance recorded",
                lambda n: (
                    "PUT",
                    f"/cases/{pairs[n][0]}/appointments/{pairs[n][1]}/attendance",
                    {"attended": "yes", "session_happened": True},
                ),
            ),
        ]
        results = []
        peak = idle
        for name, request in operations:
            rate, latencies, op_peak = await _measure(url, token, request, case.pid)
            results.append((name, rate, latencies))
            peak = max(peak, op_peak)
    finally:
        await case.stop()
    bare = await _start(
        "bare",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.bench.bare_caseload:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {"BARE_DATABASE_URL": database_url},
        bare_port,
        tmp_path / "bare.log",
    )
    try:
        floor, floor_latencies, _ = await _measure(
            f"http://127.0.0.1:{bare_port}", None, lambda n: ("GET", f"/cases?hub={HUB}", None)
        )
    finally:
        await bare.stop()
    fq = statistics.quantiles(floor_latencies, n=100)
    report.append(
        f"hub API at {CASES:,} cases ({REQUESTS:,} requests each, {CONCURRENCY} concurrent, one "
        f"case process; load average at start {os.getloadavg()[0]:.1f}):"
    )
    report.extend(_line(name, rate, lat, floor) for name, rate, lat in results)
    report.append(
        f"  floor, bare FastAPI + asyncpg, same first-page query: {floor:,.0f} req/s, "
        f"p50 {fq[49] * 1000:.1f} ms, p99 {fq[98] * 1000:.1f} ms"
    )
    report.append(
        f"  case process RSS: idle {idle:.0f} MB (aim < 150 MB), peak under load {peak:.0f} MB"
    )

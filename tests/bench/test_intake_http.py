"""Direct referrals over HTTP into a real intake process, against raw asyncpg commits of the same rows.

The floor is what PostgreSQL alone does for the same work: one transaction per referral that
inserts the intake record and its outbox row. The figure is the intake service doing all of it
(authentication, validation, routing, de-duplication, the transaction) over real HTTP.

Measured with one intake process, and with two replicas, the way deploy/ scales a service (one
holds the outbox relay lock) with the client's connections spread over both as a balancing
proxy would: one Python process uses one core, and the floor has the whole machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import orjson
import pytest

from gmirs_referral_intake.bootstrap import MIGRATIONS
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.processes import ManagedProcess
from gmirs_runtime.migrations import upgrade
from tests.bench.cpu import cpu_seconds
from tests.e2e.referrals import direct_referral

pytestmark = pytest.mark.bench
REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "10000"))
CONCURRENCY = 32


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def _start_intake(
    database_url: str, bootstrap: str, issuer, log: Path
) -> tuple[ManagedProcess, str]:
    port = free_port()
    env = {
        "INTAKE_ENVIRONMENT": "test",
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "INTAKE_HTTP_PORT": str(port),
        "INTAKE_AUTH_ISSUER": issuer.url,
        "INTAKE_AUTH_JWKS_URL": issuer.jwks_url,
        "INTAKE_LOG_LEVEL": "WARNING",
        # One client at thousands of requests a second: the limit must not be what is measured.
        "INTAKE_RATE_LIMIT_PER_SECOND": "1000000",
        "INTAKE_RATE_LIMIT_BURST": "1000000",
    }
    process = ManagedProcess(
        "intake", [sys.executable, "-m", "gmirs_referral_intake", "run"], log_path=log, env=env
    )
    process.start()
    await process.wait_ready(port, timeout=60)
    return process, f"http://127.0.0.1:{port}"


async def _load(base_urls: list[str], token: str) -> tuple[float, list[float]]:
    """Real HTTP from aiohttp (a light client, so the load generator does not starve the server),
    the concurrent connections dealt out over the replicas in turn."""
    bodies = [orjson.dumps(direct_referral("Bolton")) for _ in range(REQUESTS + len(base_urls))]
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    async with contextlib.AsyncExitStack() as stack:
        replicas = []
        for base_url in base_urls:
            connector = aiohttp.TCPConnector(limit=CONCURRENCY)
            http = await stack.enter_async_context(
                aiohttp.ClientSession(base_url, headers=headers, connector=connector)
            )
            async with http.post("/referrals", data=bodies.pop()) as warm:  # JWKS fetch, pools
                assert warm.status == 201
            replicas.append(http)
        pending = iter(bodies)

        async def worker(http: aiohttp.ClientSession) -> None:
            for body in pending:
                started = time.perf_counter()
                async with http.post("/referrals", data=body) as response:
                    await response.read()
                    assert response.status in (200, 201)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(replicas[i % len(replicas)]) for i in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return REQUESTS / elapsed, latencies


async def _floor(database_url: str) -> float:
    """Raw asyncpg: the intake record and its outbox row in one transaction, 10 connections."""
    pool = await asyncpg.create_pool(
        database_url, min_size=10, max_size=10, server_settings={"search_path": "intake"}
    )
    bodies = [orjson.dumps(direct_referral("Bolton")).decode() for _ in range(REQUESTS)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                body = queue.get_nowait()
                referral_id = uuid.uuid4()
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO referrals (id, source, external_key, fingerprint, hub_id, probation_delivery_unit,"
                        " received_at, referral) VALUES ($1, 'floor', $2, 'x', 'bolton', 'Bolton', now(), $3::jsonb)",
                        referral_id,
                        f"floor:{referral_id}",
                        body,
                    )
                    await conn.execute(
                        "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, source, time, payload)"
                        " VALUES ($1, 'referral', $2, 'floor', 'floor', '/floor', now(), $3::jsonb)",
                        uuid.uuid4(),
                        referral_id,
                        body,
                    )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(10)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return REQUESTS / elapsed


@pytest.mark.parametrize("replicas", [1, 2])
async def test_direct_referrals_over_http(
    replicas, database_url, kafka_broker, token_issuer, tmp_path, report
) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "intake")
    started: list[tuple[ManagedProcess, str]] = []
    try:
        for n in range(replicas):
            log = tmp_path / f"intake-{n}.log"
            started.append(
                await _start_intake(database_url, kafka_broker.bootstrap, token_issuer, log)
            )
        token = token_issuer.mint("lead-provider", ["lead-provider"], "gmirs-intake")
        pids = [process.pid for process, _ in started if process.pid is not None]
        cpu_before = sum(cpu_seconds(pid) for pid in pids)
        rate, latencies = await _load([url for _, url in started], token)
        cpu_per_referral = (sum(cpu_seconds(pid) for pid in pids) - cpu_before) / REQUESTS
    finally:
        for process, _ in started:
            await process.stop()
    floor = await _floor(database_url)
    report.append(
        f"intake HTTP path (direct referral in -> outbox committed): {rate:,.0f} referrals/s, "
        f"p50 {_percentile(latencies, 50) * 1000:.1f} ms, p99 {_percentile(latencies, 99) * 1000:.1f} ms  |  "
        f"floor, raw asyncpg record+outbox commits: {floor:,.0f}/s  |  ratio {rate / floor:.2f} "
        f"(aim >= 1,000/s and >= 0.5)  [{REQUESTS:,} requests, {CONCURRENCY} concurrent over "
        f"{replicas} intake process{'es' if replicas > 1 else ''}; "
        f"intake CPU {cpu_per_referral * 1000:.2f} ms/referral]"
    )

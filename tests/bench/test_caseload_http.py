"""The hub API at 100,000 cases: caseload pages, a case read and attendance, over real HTTP.

100,000 cases (ten hubs), each with its person (a name drawn from 4,000 surnames), its
lifecycle state and its assigned worker (20 a hub), one case in five with a task (a third of
them done, about half the open ones overdue), and 20,000 past appointments are written with
COPY, not through the API. A real case process (uvicorn, one core) answers; beside each
operation, its floor: a bare FastAPI app under uvicorn running the same SQL statement through
asyncpg (tests/bench/bare_caseload.py), measured before and after the case process. Printed per
operation: requests/s with 32 concurrent clients (saturation), p50 and p99 there, the ratio to
its floor; then p50 and p99 at a steady pace (open loop) beside the floor's at the same pace;
requests/s with two case processes (a deployment of two replicas) beside the same floors; and
the case process's RSS idle and at its peak under load, beside the aims.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
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
from gmirs_case.domain.people import search_name
from gmirs_contracts.hubs import HUB_IDS
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.processes import ManagedProcess
from gmirs_runtime.migrations import upgrade
from tests.bench.latency import paced

pytestmark = [pytest.mark.bench, pytest.mark.timeout(1800)]  # six operations, two floors
CASES = 100_000
APPOINTMENTS = 20_000
"""Half for the case process's attendance, half for its floor's."""
SINCE = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
REQUESTS = int(os.environ.get("BENCH_CASELOAD_REQUESTS", "3000"))
CONCURRENCY = 32
"""Clients at saturation: requests/s. Their p99 is at least 32 / (requests/s) by Little's law,
so latency is measured at a steady pace as well."""
RATE = float(os.environ.get("BENCH_CASELOAD_RATE", "200"))
"""The steady pace for latency: every one of the bench's 200 caseworkers (20 a hub, ten hubs)
making a request each second, all at once; domain.md's demand is a few thousand referrals a year."""
PACED_REQUESTS = int(os.environ.get("BENCH_CASELOAD_PACED", "2000"))
HUB = "bolton"
MY_HUB = list(HUB_IDS).index(HUB)
"""Case i is in hub `i % 10`: its index."""
SCHEMA = "casework"
Request = Callable[[int], tuple[str, str, dict[str, Any] | None]]
GIVEN = ["Alex", "Jordan", "Sam", "Chris", "Jamie", "Robin", "Taylor", "Casey", "Morgan", "Lee"]
_ONSETS = ["Ash", "Brad", "Car", "Dun", "Eld", "Fair", "Gar", "Hol", "Ing", "Kir"]
_MIDDLES = ["a", "e", "i", "o", "u", "ar", "er", "in", "on", "ow"]
_ENDS = ["by", "ford", "ham", "ley", "more", "son", "ton", "well", "wood", "worth"]
_SEQUELS = ["", "e", "s", "ie"]
STEMS = [f"{o}{m}{e}" for o in _ONSETS for m in _MIDDLES for e in _ENDS]
SURNAMES = [f"{stem}{sequel}" for stem in STEMS for sequel in _SEQUELS]
"""4,000 surnames, 25 people each; a stem ("Ashaby") is in four of them ("Ashabyie")."""
STATES = ["allocated", "contacted", "initial-assessment-booked", "in-sessions", "in-sessions"]
STATES += ["in-sessions", "action-plan-agreed", "needs-assessed", "sessions-completed", "closed"]


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
            _state(i),
        )
        for i in range(CASES)
    ]
    mine = [c[0] for c in cases if c[2] == HUB]
    in_sessions = [c[0] for i, c in enumerate(cases) if c[2] == HUB and _state(i) == "in-sessions"]
    pairs = [(random.choice(in_sessions), uuid.uuid4()) for _ in range(APPOINTMENTS)]
    start = now - timedelta(hours=3)
    appointments = [
        (a, c, "session", None, start, start + timedelta(hours=1), "phone-call", start)
        for c, a in pairs
    ]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await _copy_cases(conn, cases)
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
        await _copy_casework(conn, cases, now)
        await conn.execute(
            "ANALYZE cases; ANALYZE appointments; ANALYZE case_lifecycle; ANALYZE case_people;"
            " ANALYZE worker_assignments; ANALYZE case_tasks"
        )
    finally:
        await conn.close()
    return mine, pairs


def _state(i: int) -> str:
    """The i-th case's state (every hub has cases in each: a hub is `i % 10`)."""
    return STATES[(i // 10) % len(STATES)]


async def _copy_cases(conn: asyncpg.Connection, cases: list[tuple[Any, ...]]) -> None:
    """The cases, each with its state, its lifecycle row (the same state) and its person."""
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
            "state",  # as the lifecycle's trigger keeps it: the lifecycle rows below agree
        ],
    )
    lifecycles = [
        (c[0], _state(i), c[6], json.dumps({"received": c[6].isoformat()}), c[6])
        for i, c in enumerate(cases)
    ]
    await conn.copy_records_to_table(
        "case_lifecycle",
        records=lifecycles,
        schema_name=SCHEMA,
        columns=["case_id", "state", "since", "reached", "referral_sent_at"],
    )
    people = []
    for i, c in enumerate(cases):
        given, family = GIVEN[(i // 7) % len(GIVEN)], SURNAMES[(i * 7919) % len(SURNAMES)]
        name = search_name(given, family)
        people.append((c[0], c[4], given, family, name, "{}", "{}", 1))
    await conn.copy_records_to_table(
        "case_people",
        records=people,
        schema_name=SCHEMA,
        columns=[
            "case_id",
            "crn",
            "given_name",
            "family_name",
            "search_name",
            "referral",
            "contact",
            "contact_version",
        ],
    )


def _worker(i: int) -> str:
    """The i-th case's worker: 20 workers a hub (a hub is `i % 10`), about 500 cases each."""
    return f"worker{i % 200:03d}"


async def _copy_casework(conn: asyncpg.Connection, cases: list[tuple[Any, ...]], now: Any) -> None:
    """Each case's worker (by referral) and, for one case in five, a task due -10 to +9 days."""
    assignments = [(c[1], _worker(i), "hub", now, "bench") for i, c in enumerate(cases)]
    await conn.copy_records_to_table(
        "worker_assignments",
        records=assignments,
        schema_name=SCHEMA,
        columns=["referral_id", "worker", "source", "assigned_at", "assigned_by"],
    )
    tasks = [
        (uuid.uuid4(), c[0], c[2], "review", _due(now, i), now, "bench", _done(now, i))
        for i, c in enumerate(cases)
        if i // 10 % 5 == 0  # every hub (`i % 10`) has its share
    ]
    await conn.copy_records_to_table(
        "case_tasks",
        records=tasks,
        schema_name=SCHEMA,
        columns=[
            "id",
            "case_id",
            "hub_id",
            "kind",
            "due_on",
            "created_at",
            "created_by",
            "done_at",
        ],
    )


def _due(now: datetime, i: int) -> Any:
    return (now + timedelta(days=i // 50 % 20 - 10)).date()


def _done(now: datetime, i: int) -> datetime | None:
    return now if i // 10 % 3 == 0 else None


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
    base_url: str | list[str], token: str | None, request: Request, pid: int | None = None
) -> tuple[float, list[float], float]:
    """Requests/s and latencies of REQUESTS calls from CONCURRENCY clients; peak RSS of `pid`.

    Given several base URLs (replicas), client i talks to replica i % len, as a balancing proxy
    spreading connections would."""
    urls = [base_url] if isinstance(base_url, str) else base_url
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    peak = 0.0
    async with contextlib.AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(
                aiohttp.ClientSession(
                    url, headers=headers, connector=aiohttp.TCPConnector(limit=CONCURRENCY)
                )
            )
            for url in urls
        ]
        pending = iter(range(REQUESTS))

        async def worker(http: aiohttp.ClientSession) -> None:
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
            async with sessions[n % len(sessions)].request(method, path, json=body) as response:
                await response.read()
        sampler = asyncio.create_task(sample())
        try:
            started = time.perf_counter()
            await asyncio.gather(*(worker(sessions[i % len(sessions)]) for i in range(CONCURRENCY)))
            elapsed = time.perf_counter() - started
        finally:
            sampler.cancel()
    return REQUESTS / elapsed, latencies, peak


def _line(name: str, rate: float, latencies: list[float], floor: float) -> str:
    """One operation's figures at saturation; `floor` is the mean of its floor's two runs."""
    q = statistics.quantiles(latencies, n=100)
    return (
        f"  {name}: {rate:,.0f} req/s, p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms; "
        f"its floor {floor:,.0f} req/s: {rate / floor:.2f} of it (aim >= 0.50)"
    )


def _paced_line(name: str, latencies: list[float], floor: list[float]) -> str:
    """One operation's latency at the steady pace, beside its floor's at the same pace."""
    q, fq = statistics.quantiles(latencies, n=100), statistics.quantiles(floor, n=100)
    return (
        f"  {name}: p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms (aim p99 <= 50 ms); "
        f"its floor p50 {fq[49] * 1000:.1f} ms, p99 {fq[98] * 1000:.1f} ms"
    )


def _operations(
    mine: list[uuid.UUID], pairs: list[tuple[uuid.UUID, uuid.UUID]]
) -> list[tuple[str, Request]]:
    """What a hub does: its caseload (first page, filtered, searched), a case, an attendance.

    The searches look for one person, as a worker does: five characters of a CRN (100 of the
    100,000 cases match, about 10 in the hub) or a surname (100 people, about 10 in the hub).
    """
    return [
        ("caseload, first page (limit 50)", lambda n: ("GET", "/cases?limit=50", None)),
        (
            "caseload, filtered (state, opened range)",
            lambda n: ("GET", f"/cases?limit=50&state=contacted&opened_from={SINCE}", None),
        ),
        (
            "caseload, filtered (worker, overdue)",
            lambda n: (
                "GET",
                f"/cases?limit=50&worker={_worker(MY_HUB + n % 20 * 10)}&overdue=true",
                None,
            ),
        ),
        (
            "caseload, searched (CRN, 5 characters)",
            lambda n: ("GET", f"/cases?q=X0{n % 1000:03d}", None),
        ),
        (
            "caseload, searched (surname)",
            lambda n: ("GET", f"/cases?q={STEMS[(n * 37) % len(STEMS)]}", None),
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


def _with_query(request: Request, parameter: str) -> Request:
    """The same request with one more query parameter."""

    def extended(n: int) -> tuple[str, str, dict[str, Any] | None]:
        method, path, body = request(n)
        return method, f"{path}{'&' if '?' in path else '?'}{parameter}", body

    return extended


def _on_the_floor(request: Request) -> Request:
    """The same request to the bare app, which is told the hub (it checks no token)."""
    return _with_query(request, f"hub={HUB}")


async def _paced(base_url: str, token: str | None, request: Request) -> list[float]:
    """Latencies of PACED_REQUESTS calls started at RATE a second, whatever earlier calls do
    (open loop: a slow answer does not hold the next request back, as it would a client's)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base_url, headers=headers, connector=connector) as http:

        async def call(n: int) -> float:
            method, path, body = request(n)
            started = time.perf_counter()
            async with http.request(method, path, json=body) as response:
                await response.read()
                assert response.status == 200, (path, response.status, await response.text())
            return time.perf_counter() - started

        return await paced(PACED_REQUESTS, RATE, call)


Figures = tuple[float, list[float]]
"""Requests/s at saturation and its latencies."""


async def _floors(
    database_url: str, tmp_path: Path, requests: list[Request], paced_too: bool
) -> tuple[list[Figures], list[list[float]]]:
    """Each operation's floor at saturation (and, if asked, its latencies at the steady pace),
    measured in one bare process."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "tests.bench.bare_caseload:app", "--port", str(port)]
    argv += ["--log-level", "warning", "--no-access-log"]
    env = {"BARE_DATABASE_URL": database_url}
    bare = await _start("bare", argv, env, port, tmp_path / "bare.log")
    base_url = f"http://127.0.0.1:{port}"
    saturated, steady = [], []
    try:
        for request in requests:
            rate, latencies, _ = await _measure(base_url, None, request)
            saturated.append((rate, latencies))
            if paced_too:
                steady.append(await _paced(base_url, None, request))
    finally:
        await bare.stop()
    return saturated, steady


async def test_caseload_at_100k_cases(
    database_url, kafka_broker, token_issuer, tmp_path, report
) -> None:
    assert 2 * (REQUESTS + CONCURRENCY) + PACED_REQUESTS <= APPOINTMENTS // 2, "appointments"
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA)
    mine, pairs = await _load_cases(database_url)
    token = token_issuer.mint("hub-bolton", ["hub"], "gmirs-case", {"hub_id": HUB})
    load_at_start = os.getloadavg()[0]
    operations = _operations(mine, pairs[: APPOINTMENTS // 2])
    floor_requests = [
        _on_the_floor(request) for _, request in _operations(mine, pairs[APPOINTMENTS // 2 :])
    ]
    floor_requests.append(_with_query(floor_requests[-1], "statements=service"))  # its two
    floors_before, floor_paced = await _floors(database_url, tmp_path, floor_requests, True)
    port = free_port()
    env = _case_env(database_url, kafka_broker.bootstrap, token_issuer, port)
    case = await _start(
        "case", [sys.executable, "-m", "gmirs_case", "run"], env, port, tmp_path / "case.log"
    )
    try:
        assert case.pid is not None
        await asyncio.sleep(10)  # settled: consumer joined, relay listening
        idle = _rss_mb(case.pid)
        results, steady, peak = [], [], idle
        base_url = f"http://127.0.0.1:{port}"
        for name, request in operations:
            rate, latencies, op_peak = await _measure(base_url, token, request, case.pid)
            results.append((name, rate, latencies))
            peak = max(peak, op_peak)
        for n, (_, request) in enumerate(operations):  # attendance: appointments not yet used
            shifted = (
                request if n < len(operations) - 1 else _after(request, REQUESTS + CONCURRENCY)
            )
            steady.append(await _paced(base_url, token, shifted))
    finally:
        await case.stop()
    skip = REQUESTS + CONCURRENCY + PACED_REQUESTS  # attendance: appointments not yet used
    replicated = [(name, _after(request, skip)) for name, request in operations]
    two = await _two_replicas(
        functools.partial(_case_env, database_url, kafka_broker.bootstrap, token_issuer),
        token,
        replicated,
        tmp_path,
    )
    floors_after, _ = await _floors(database_url, tmp_path, floor_requests, False)
    _report(report, load_at_start, results, floors_before, floors_after)
    floors = [(b + a) / 2 for (b, _), (a, _) in zip(floors_before, floors_after, strict=True)]
    report.append(
        f"  at a steady {RATE:.0f} requests a second ({PACED_REQUESTS:,} each, open loop), beside"
        " its floor at the same pace:"
    )
    report.extend(
        _paced_line(name, lat, floor)
        for (name, _), lat, floor in zip(operations, steady, floor_paced[:-1], strict=True)
    )
    report.append(
        "  two case processes (a deployment of two replicas; the relay leads in one), clients"
        " spread over both, beside the same floors (one bare process):"
    )
    report.extend(
        f"    {name}: {rate:,.0f} req/s, {rate / floor:.2f} of its floor"
        for (name, _), rate, floor in zip(operations, two, floors[:-1], strict=True)
    )
    report.append(
        f"  case process RSS: idle {idle:.0f} MB (aim < 150 MB), peak under load {peak:.0f} MB"
    )


async def _two_replicas(
    env_of: Callable[[int], dict[str, str]],
    token: str,
    operations: list[tuple[str, Request]],
    tmp_path: Path,
) -> list[float]:
    """Each operation's requests/s with two case processes answering, as deploy/ scales."""
    ports = [free_port(), free_port()]
    argv = [sys.executable, "-m", "gmirs_case", "run"]
    replicas = [
        await _start(f"case-{n}", argv, env_of(port), port, tmp_path / f"case-{n}.log")
        for n, port in enumerate(ports)
    ]
    try:
        await asyncio.sleep(10)  # settled: consumers joined, one relay leading
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        return [(await _measure(urls, token, request))[0] for _, request in operations]
    finally:
        for replica in replicas:
            await replica.stop()


def _after(request: Request, skip: int) -> Request:
    return lambda n: request(n + skip)


def _report(
    report: list[str],
    load_at_start: float,
    results: list[tuple[str, float, list[float]]],
    before: list[Figures],
    after: list[Figures],
) -> None:
    report.append(
        f"hub API at {CASES:,} cases ({REQUESTS:,} requests each, {CONCURRENCY} concurrent, one "
        f"case process; load average {load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end)."
        " Each operation beside its floor, a bare FastAPI + asyncpg app running the same"
        " statement (the mean of its runs before and after the case process):"
    )
    for (name, rate, latencies), (b, b_lat), (a, a_lat) in zip(
        results, before[:-1], after[:-1], strict=True
    ):
        report.append(_line(name, rate, latencies, (b + a) / 2))
        report.append(_floor_line("floor", (b, b_lat), (a, a_lat)))
    (b, b_lat), (a, a_lat) = before[-1], after[-1]
    name, rate, _ = results[-1]
    report.append(
        f"  {name}, beside a floor running the service's own two statements"
        f" (the case read, then the write): {rate / ((b + a) / 2):.2f} of it"
    )
    report.append(_floor_line("that floor", (b, b_lat), (a, a_lat)))


def _floor_line(what: str, before: Figures, after: Figures) -> str:
    (b, b_lat), (a, a_lat) = before, after
    bq, aq = statistics.quantiles(b_lat, n=100), statistics.quantiles(a_lat, n=100)
    return (
        f"    {what} before / after: {b:,.0f} / {a:,.0f} req/s, p99 {bq[98] * 1000:.1f} /"
        f" {aq[98] * 1000:.1f} ms"
    )

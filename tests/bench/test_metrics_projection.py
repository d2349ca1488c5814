"""The metrics projection: events/s per consumer beside aiokafka's raw consume rate of the same
topics in the same run, the time to rebuild from N events, and the process's memory.

N (`BENCH_METRICS_EVENTS`, default 1,000,000) events are whole case stories: every event type
the projection consumes, in the contract examples' shape with fresh ids per case (about 40
events per case, across the three topics). Then, in one process:
1. the floor: one aiokafka consumer (a fresh group) reading the N records from the start;
2. the projection: one live batch consumer (the service's own member, fresh tables) applying
   them; events/s from its first to its last applied event;
3. the rebuild: `gmirs-metrics rebuild`'s function from the start of the topics into the
   rebuild schema, then the switch; the time from its start to the switch committed.
Memory: the process's RSS before, and its peak sampled every 0.2 s through each phase.
CPU per event in each phase: this process's (the consumer's Python) and PostgreSQL's (the server
with its backends), so a change can be judged on a shared machine where wall-clock rates vary.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gmirs_contracts.examples import example_data
from gmirs_contracts.registry import EVENTS
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.bootstrap import MIGRATIONS
from gmirs_metrics.projections.live import projection_consumer
from gmirs_metrics.projections.project import GROUP, TOPICS, contracts
from gmirs_metrics.projections.rebuild import rebuild
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import build_infrastructure
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.migrations import upgrade
from tests.bench.cpu import cpu_seconds, tree_cpu_seconds

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3 * 3600)]  # 1,000,000 events take a while
EVENTS_N = int(os.environ.get("BENCH_METRICS_EVENTS", "1000000"))
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Template:
    ce_type: str
    topic: str
    value: bytes


def _templates() -> list[Template]:
    return [
        Template(c.ce_type, EVENTS[c.ce_type].topic, orjson.dumps(example_data(c.ce_type)))
        for c in sorted(contracts(), key=lambda c: c.ce_type)
    ]


def _records(n: int) -> Iterator[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]:
    """(topic, key, value, headers) of `n` events: whole stories, one fresh case after another."""
    templates = _templates()
    made = 0
    while made < n:
        fresh: dict[bytes, bytes] = {}

        def swap(m: re.Match[bytes], fresh: dict[bytes, bytes] = fresh) -> bytes:
            return fresh.setdefault(m.group(0), str(uuid.uuid4()).encode())

        subject = uuid.uuid4()
        for t in templates[: n - made]:
            event = Event(type=t.ce_type, source="/gmirs/bench", subject=subject, data={})
            yield t.topic, event.key, _UUID.sub(swap, t.value), to_headers(event)
        made += min(len(templates), n - made)


async def _produce(bootstrap: str, n: int) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for topic, key, value, headers in _records(n):
            pending.append(await producer.send(topic, key=key, value=value, headers=headers))
            if len(pending) >= 20000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return n / (time.perf_counter() - started)


class CpuPerEvent:
    """CPU microseconds per event of this process and of the PostgreSQL server over a phase."""

    def __init__(self, postgres: EmbeddedPostgres) -> None:
        assert postgres.process is not None
        assert postgres.process.pid is not None
        self.postgres_pid = postgres.process.pid
        self.own = self.database = 0.0

    def __enter__(self) -> CpuPerEvent:
        self._own = cpu_seconds(os.getpid())
        self._database = tree_cpu_seconds(self.postgres_pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.own = cpu_seconds(os.getpid()) - self._own
        self.database = tree_cpu_seconds(self.postgres_pid) - self._database

    def per_event(self, n: int) -> str:
        return f"CPU {self.own / n * 1e6:,.0f} us/event here, {self.database / n * 1e6:,.0f} in PostgreSQL"


class PeakRss:
    """The process's resident memory, sampled every 0.2 s while a phase runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.process.memory_info().rss)
            await asyncio.sleep(0.2)

    def __enter__(self) -> PeakRss:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, self.process.memory_info().rss)


async def _raw_consume(bootstrap: str, n: int) -> float:
    """The floor: aiokafka reading the same records from the start, as a fresh group member."""
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        seen, started = 0, None
        while seen < n:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                started = started or time.perf_counter()
                seen += len(records)
        assert started is not None
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def _settings(database_url: str, bootstrap: str) -> MetricsSettings:
    return MetricsSettings(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        kafka_fetch_max_wait_ms=50,
        http_port=1,
        auth_issuer="http://127.0.0.1:1/",
        auth_jwks_url="http://127.0.0.1:1/jwks",
        rebuild_timeout_seconds=3600,
    )


async def _project(settings: MetricsSettings, n: int) -> float:
    """The live member (as bootstrap builds it) applying `n` events: events/s once it starts."""
    infra = build_infrastructure(settings, unit_of_work=MetricsUnitOfWork)
    consumer = projection_consumer(infra, settings, f"{GROUP}-bench-{uuid.uuid4().hex[:8]}")
    await infra.producer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        while consumer.stats.applied == 0:
            await asyncio.sleep(0.01)
        started, first = time.perf_counter(), consumer.stats.applied
        while consumer.stats.applied < n:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        return (consumer.stats.applied - first) / (time.perf_counter() - started)
    finally:
        stop.set()
        await task
        await infra.producer.stop()
        await infra.engine.dispose()
        await infra.token_validator.aclose()


async def test_projection_and_rebuild_against_raw_consume(
    database_url, kafka_broker, postgres_server, report
) -> None:
    settings = _settings(database_url, kafka_broker.bootstrap)
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, settings.database_schema)
    produced = await _produce(kafka_broker.bootstrap, EVENTS_N)
    rss_before = psutil.Process().memory_info().rss
    with CpuPerEvent(postgres_server) as floor_cpu:
        raw = await _raw_consume(kafka_broker.bootstrap, EVENTS_N)
    with PeakRss() as projecting, CpuPerEvent(postgres_server) as projecting_cpu:
        projected = await _project(settings, EVENTS_N)
        await asyncio.sleep(1)  # the phase's backends exit and are reaped: their CPU is counted
    with PeakRss() as rebuilding, CpuPerEvent(postgres_server) as rebuilding_cpu:
        started = time.perf_counter()
        rebuilt = await rebuild(settings)
        rebuild_seconds = time.perf_counter() - started
        await asyncio.sleep(1)
    assert rebuilt.applied >= EVENTS_N
    mib = 1024 * 1024
    report.append(
        f"metrics projection: {projected:,.0f} events/s per consumer  |  floor, aiokafka consuming "
        f"the same topics: {raw:,.0f} msg/s  |  ratio {projected / raw:.3f} (aim >= 10,000 events/s)"
        f"  [{EVENTS_N:,} events; produced at {produced:,.0f}/s]"
    )
    report.append(
        f"metrics projection {projecting_cpu.per_event(EVENTS_N)}  |  floor "
        f"{floor_cpu.per_event(EVENTS_N)}  |  rebuild {rebuilding_cpu.per_event(rebuilt.applied)}"
    )
    report.append(
        f"metrics rebuild from {rebuilt.applied:,} events: {rebuild_seconds:,.1f} s "
        f"({rebuilt.applied / rebuild_seconds:,.0f} events/s; aim <= 180 s)  |  process RSS "
        f"{rss_before / mib:,.0f} MiB before, peak {projecting.peak / mib:,.0f} MiB projecting, "
        f"{rebuilding.peak / mib:,.0f} MiB rebuilding"
    )

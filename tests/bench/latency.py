"""Latency measurement for benchmarks: a steady open-loop pace, the broker's own produce ->
consume latency as a floor, percentiles, and the CPU a stack burns beyond idle."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from gmirs_runtime.eventing.kafka import KafkaOptions, create_consumer, create_producer
from gmirs_runtime.local.tansu import create_topics
from gmirs_runtime.testing.kafka import eventually
from tests.bench.cpu import cpu_by_process

T = TypeVar("T")


async def paced(count: int, rate: float, call: Callable[[int], Coroutine[Any, Any, T]]) -> list[T]:
    """`call(i)` started at `i / rate` seconds, whatever the earlier calls are doing."""
    started, tasks = time.perf_counter(), list[asyncio.Task[T]]()
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(call(i)))
    return list(await asyncio.gather(*tasks))


class BrokerFloor:
    """aiokafka's send to a group consumer's receipt, per record, with the services' own producer
    and consumer settings on a fresh topic; joined before the timed part starts."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._topic = f"bench.floor.{uuid.uuid4().hex[:8]}"
        options = KafkaOptions(bootstrap_servers=bootstrap, client_id="bench-floor")
        self._producer = create_producer(options)
        self._consumer = create_consumer(options, f"bench-floor-{self._topic}", [self._topic])

    async def __aenter__(self) -> BrokerFloor:
        await create_topics(self._bootstrap, [self._topic], partitions=3)
        await self._producer.start()
        await self._consumer.start()
        await eventually(self._assigned, timeout=60, what="the floor's consumer assigned")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()
        await self._consumer.stop()

    async def _assigned(self) -> bool:
        return bool(self._consumer.assignment())

    async def measure(self, count: int, rate: float, drain_seconds: float) -> list[float]:
        """Seconds per record sent at `rate`; records never received are left out."""
        sent: dict[bytes, float] = {}
        received: dict[bytes, float] = {}
        reading = asyncio.create_task(_receive(self._consumer, received))

        async def send(i: int) -> None:
            key = str(i).encode()
            sent[key] = time.perf_counter()
            await self._producer.send(self._topic, value=b"{}", key=key)

        try:
            await paced(count, rate, send)
            await _until(lambda: len(received) >= count, drain_seconds)
        finally:
            reading.cancel()
        return [received[k] - sent[k] for k in sent if k in received]


async def _receive(consumer: Any, received: dict[bytes, float]) -> None:
    while True:
        batch = await consumer.getmany(timeout_ms=1000)
        now = time.perf_counter()
        for records in batch.values():
            for record in records:
                received.setdefault(record.key, now)


async def _until(done: Callable[[], bool], seconds: float) -> None:
    """Wait until `done()` holds or `seconds` pass (then what is missing counts as lost)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)


@dataclass(frozen=True)
class IdleCpu:
    """What each process of the stack burns per second with nothing to do (polls, heartbeats)."""

    pids: dict[str, int]
    per_second: dict[str, float]

    def beyond(
        self, before: dict[str, float], after: dict[str, float], seconds: float
    ) -> dict[str, float]:
        """CPU seconds each process used between `before` and `after`, less its idle share."""
        return {
            name: max(0.0, after[name] - before[name] - self.per_second[name] * seconds)
            for name in before
        }


async def idle_cpu(pids: dict[str, int], seconds: float = 5.0) -> IdleCpu:
    before = cpu_by_process(pids)
    await asyncio.sleep(seconds)
    after = cpu_by_process(pids)
    return IdleCpu(pids, {name: (after[name] - before[name]) / seconds for name in pids})


def figures(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) < 2:
        return f"{len(ms)} measured, too few for percentiles"
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, max {ms[-1]:.0f} ms"


def ratio(platform: list[float], floor: list[float]) -> str:
    if len(platform) < 2 or len(floor) < 2:
        return "ratio n/a"
    p = statistics.quantiles(platform, n=100, method="inclusive")
    f = statistics.quantiles(floor, n=100, method="inclusive")
    return f"ratio to the floor: p50 x{p[49] / f[49]:.0f}, p99 x{p[98] / f[98]:.0f}"


def percentile(ms: list[float], q: int) -> str:
    if len(ms) < 2:
        return "n/a"
    return f"{statistics.quantiles(ms, n=100, method='inclusive')[q - 1]:.0f}"

"""A non-attendance recorded at the case API, to the probation system's webhook acknowledgement
and to R&M accepting the write-back, across the whole local stack; beside the broker's own
produce -> consume latency measured at the same rate, at the same time, on the same broker.

Outside the timed part: the cases are opened (direct referrals through intake's API, a share of
R&M referrals through the R&M simulator), each with session 1 booked an hour in the past (the R&M
ones linked to the session scheduled in R&M), and notify has caught up with every case event.
Timed: the hubs record one non-attendance each at a steady pace (open loop: a slow answer never
slows the pace). Per event, from the moment the case API answered to the moment (a) the demo
probation system received the signed webhook (it records the arrival, then answers 2xx) and (b) the
R&M simulator accepted the submitted feedback (`submittedAt`, read back through R&M's API). An
event still missing after the drain time is counted lost. Wall clocks of one machine compare.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from gmirs_runtime.eventing.kafka import KafkaOptions, create_consumer, create_producer
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.tansu import create_topics
from gmirs_runtime.testing.kafka import eventually
from gmirs_stack.config import Ports
from gmirs_stack.stack import RM_CLIENT_ID, LocalStack
from tests.bench.notify_load import Booked, Clients, ready_cases, record_non_attendance
from tests.e2e.platform import Platform, caught_up, database_count

pytestmark = pytest.mark.bench
RATE = float(os.environ.get("BENCH_NOTIFY_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_NOTIFY_SECONDS", "60"))
RM_SHARE = float(os.environ.get("BENCH_NOTIFY_RM_SHARE", "0.1"))
DRAIN_SECONDS = float(os.environ.get("BENCH_NOTIFY_DRAIN_SECONDS", "120"))
EVENTS = int(RATE * SECONDS)
T = TypeVar("T")
RM_EVENTS = round(EVENTS * RM_SHARE)
STACK_ENV = {
    # The hubs' clients record hundreds a second from one address: the per-client limits must
    # not be what is measured. Everything else is the services' deployed defaults.
    "*_RATE_LIMIT_PER_SECOND": "1000000",
    "*_RATE_LIMIT_BURST": "1000000",
}


async def paced(count: int, rate: float, call: Callable[[int], Coroutine[Any, Any, T]]) -> list[T]:
    """`call(i)` started at `i / rate` seconds, whatever the earlier calls are doing."""
    started, tasks = time.perf_counter(), list[asyncio.Task[T]]()
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(call(i)))
    return list(await asyncio.gather(*tasks))


async def broker_floor(bootstrap: str, count: int, rate: float) -> list[float]:
    """Seconds from aiokafka's send to a group consumer's receipt, per record (the services'
    own producer and consumer settings, a fresh topic); records never received are left out."""
    topic = f"bench.floor.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], partitions=3)
    options = KafkaOptions(bootstrap_servers=bootstrap, client_id="bench-floor")
    producer = create_producer(options)
    consumer = create_consumer(options, f"bench-floor-{topic}", [topic])
    await producer.start()
    await consumer.start()
    sent: dict[bytes, float] = {}
    received: dict[bytes, float] = {}
    try:
        await eventually(lambda: _assigned(consumer), timeout=60, what="floor consumer assigned")
        reading = asyncio.create_task(_receive(consumer, received))

        async def send(i: int) -> None:
            key = str(i).encode()
            sent[key] = time.perf_counter()
            await producer.send(topic, value=b"{}", key=key)

        await paced(count, rate, send)
        await _until(lambda: len(received) >= count, DRAIN_SECONDS)
        reading.cancel()
    finally:
        await producer.stop()
        await consumer.stop()
    return [received[k] - sent[k] for k in sent if k in received]


async def _assigned(consumer: Any) -> bool:
    return bool(consumer.assignment())


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


async def _drained(platform: Platform, clients: Clients) -> None:
    """Until every webhook is acknowledged and every write-back submitted, or the drain time."""
    acknowledged = "SELECT count(*) FROM notify.deliveries WHERE status = 'acknowledged'"
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        stats = await clients.control("/_control/stats")
        if (
            await database_count(platform, acknowledged) >= EVENTS
            and stats["feedback_submitted"] >= RM_EVENTS
        ):
            return
        await asyncio.sleep(1)


async def _webhook_arrivals(stack: LocalStack) -> dict[str, datetime]:
    """Appointment id -> when the probation system first received an accepted delivery of it."""
    async with httpx.AsyncClient(base_url=stack.url("probation"), timeout=120) as http:
        deliveries = (await http.get("/_control/deliveries")).json()
    arrivals: dict[str, datetime] = {}
    for d in deliveries:
        appointment = d["body"].get("data", {}).get("appointment", {}).get("appointment_id")
        if d["accepted"] and appointment and appointment not in arrivals:
            arrivals[appointment] = datetime.fromisoformat(d["received_at"])
    return arrivals


async def _rm_acceptances(stack: LocalStack, rm: list[Booked]) -> dict[str, datetime]:
    """Appointment id -> when R&M accepted its submitted feedback, read through R&M's API."""
    async with httpx.AsyncClient(base_url=stack.url("rm"), timeout=30) as http:
        token = await http.post(
            "/auth/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(RM_CLIENT_ID, stack.rm_secret),
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        accepted: dict[str, datetime] = {}
        for booked in rm:
            path = f"/referral/{booked.rm_referral_id}/sessions/1"
            session = (await http.get(path, headers=headers)).json()
            attendance = session["appointmentFeedback"]["attendanceFeedback"]
            if session["appointmentId"] == booked.rm_appointment_id and attendance["submittedAt"]:
                accepted[booked.appointment_id] = datetime.fromisoformat(attendance["submittedAt"])
    return accepted


def _figures(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    if len(ms) < 2:
        return f"{len(ms)} measured, too few for percentiles"
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, p99 {q[98]:.0f} ms, max {ms[-1]:.0f} ms"


def _ratio(platform: list[float], floor: list[float]) -> str:
    if len(platform) < 2 or len(floor) < 2:
        return "ratio n/a"
    p = statistics.quantiles(platform, n=100, method="inclusive")
    f = statistics.quantiles(floor, n=100, method="inclusive")
    return f"ratio to the floor: p50 x{p[49] / f[49]:.0f}, p99 x{p[98] / f[98]:.0f}"


def _latencies(
    booked: list[Booked], answered: list[datetime], arrived: dict[str, datetime]
) -> tuple[list[float], int]:
    """Seconds from each answer to its arrival, and how many never arrived."""
    seconds = [
        (arrived[b.appointment_id] - at).total_seconds()
        for b, at in zip(booked, answered, strict=True)
        if b.appointment_id in arrived
    ]
    return seconds, len(booked) - len(seconds)


async def test_non_attendance_to_webhook_and_rm_writeback(report) -> None:
    root = Path(tempfile.mkdtemp(prefix="gmirs-bench-"))
    stack = LocalStack(
        root, Ports(**{n: free_port() for n in Ports().named()}), service_env=STACK_ENV
    )
    await stack.start()
    clients = Clients(stack)
    try:
        platform = Platform(stack, collector_url="")
        booked = await ready_cases(clients, EVENTS - RM_EVENTS, RM_EVENTS)
        await eventually(lambda: caught_up(platform, "notify", "case.case-events.v1"), timeout=300)
        timed, floor = await asyncio.gather(
            paced(EVENTS, RATE, lambda i: record_non_attendance(clients, booked[i])),
            broker_floor(stack.broker.bootstrap, EVENTS, RATE),
        )
        await _drained(platform, clients)
        webhooks = await _webhook_arrivals(stack)
        rm = [b for b in booked if b.rm_appointment_id]
        accepted = await _rm_acceptances(stack, rm)
    finally:
        await clients.aclose()
        await stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    answered = [at for at, _ in timed]
    to_webhook, webhooks_lost = _latencies(booked, answered, webhooks)
    rm_answered = [at for b, at in zip(booked, answered, strict=True) if b.rm_appointment_id]
    to_rm, rm_lost = _latencies(rm, rm_answered, accepted)
    api = [took for _, took in timed]
    _report(report, (to_webhook, webhooks_lost), (to_rm, rm_lost), floor, api)


def _report(
    report: list[str],
    webhook: tuple[list[float], int],
    rm: tuple[list[float], int],
    floor: list[float],
    api: list[float],
) -> None:
    aims = "aim p50 <= 100 ms, p99 <= 1 s, none lost"
    report.append(
        f"non-attendance at the case API -> webhook acknowledged: {_figures(webhook[0])}, "
        f"lost {webhook[1]} of {EVENTS}  |  {_ratio(webhook[0], floor)}  ({aims})"
    )
    report.append(
        f"non-attendance at the case API -> R&M write-back accepted: {_figures(rm[0])}, "
        f"lost {rm[1]} of {RM_EVENTS}  |  {_ratio(rm[0], floor)}  ({aims})"
    )
    report.append(
        f"  floor, aiokafka produce -> group consume on the same broker, same rate, same time: "
        f"{_figures(floor)}, lost {EVENTS - len(floor)}  |  the case API's answer: {_figures(api)}"
        f"  [{RATE:g}/s for {SECONDS:g} s, {RM_EVENTS} of them R&M referrals; drain "
        f"{DRAIN_SECONDS:g} s]"
    )

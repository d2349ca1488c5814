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
import itertools
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gmirs_runtime.local.ports import free_port
from gmirs_runtime.testing.kafka import eventually, read_topic
from gmirs_stack.config import Ports
from gmirs_stack.stack import RM_CLIENT_ID, LocalStack
from tests.bench.cpu import cpu_by_process, stack_processes
from tests.bench.latency import BrokerFloor, figures, idle_cpu, paced, percentile, ratio
from tests.bench.notify_load import CASES, Booked, Clients, ready_cases, record_non_attendance
from tests.e2e.platform import (
    Platform,
    caught_up,
    data_of,
    database_count,
    database_rows,
    event_type,
)

pytestmark = pytest.mark.bench
RATE = float(os.environ.get("BENCH_NOTIFY_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_NOTIFY_SECONDS", "60"))
RM_SHARE = float(os.environ.get("BENCH_NOTIFY_RM_SHARE", "0.1"))
DRAIN_SECONDS = float(os.environ.get("BENCH_NOTIFY_DRAIN_SECONDS", "120"))
EVENTS = int(RATE * SECONDS)
RM_EVENTS = round(EVENTS * RM_SHARE)
STACK_ENV = {
    # The hubs' clients record hundreds a second from one address: the per-client limits must
    # not be what is measured. Everything else is the services' deployed defaults.
    "*_RATE_LIMIT_PER_SECOND": "1000000",
    "*_RATE_LIMIT_BURST": "1000000",
}


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


async def _hops(
    platform: Platform,
    booked: list[Booked],
    answered: list[datetime],
    arrived: dict[str, datetime],
) -> str:
    """Each hop's share: answer -> on the case topic (the relay's send) -> stored by notify's
    consumer (a delivery's `created_at`) -> received by the probation system (the dispatcher's
    wake, claim and send)."""
    when = {b.appointment_id: at for b, at in zip(booked, answered, strict=True)}
    published = {
        str(data_of(r)["appointment_id"]): datetime.fromtimestamp(r.timestamp / 1000, UTC)
        for r in await read_topic(platform.stack.broker.bootstrap, CASES, timeout=300)
        if event_type(r) == "gmirs.case.attendance-recorded.v1"
    }
    rows = await database_rows(
        platform,
        "SELECT appointment_id::text, created_at FROM notify.deliveries",
    )
    steps: dict[str, list[float]] = {"relay": [], "consumer": [], "dispatcher": []}
    for appointment, stored in rows:
        if appointment in when and appointment in published and appointment in arrived:
            marks = [when[appointment], published[appointment], stored, arrived[appointment]]
            for name, (a, b) in zip(steps, itertools.pairwise(marks), strict=True):
                steps[name].append((b - a).total_seconds() * 1000)
    return ", ".join(
        f"{name} {percentile(ms, 50)} / {percentile(ms, 99)} ms" for name, ms in steps.items()
    )


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
        await eventually(lambda: caught_up(platform, "notify", CASES), timeout=300)
        idle = await idle_cpu(stack_processes(stack))
        cpu_before, started = cpu_by_process(idle.pids), time.monotonic()
        async with BrokerFloor(stack.broker.bootstrap) as broker:
            timed, floor = await asyncio.gather(
                paced(EVENTS, RATE, lambda i: record_non_attendance(clients, booked[i])),
                broker.measure(EVENTS, RATE, DRAIN_SECONDS),
            )
        await _drained(platform, clients)
        busy = idle.beyond(cpu_before, cpu_by_process(idle.pids), time.monotonic() - started)
        webhooks = await _webhook_arrivals(stack)
        rm = [b for b in booked if b.rm_appointment_id]
        accepted = await _rm_acceptances(stack, rm)
        hops = await _hops(platform, booked, [at for at, _ in timed], webhooks)
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
    report.append(f"  where the webhook's time goes (p50 / p99): {hops}")
    busiest = sorted(busy.items(), key=lambda item: -item[1])[:6]
    per_event = ", ".join(f"{name} {seconds / EVENTS * 1000:.1f}" for name, seconds in busiest)
    report.append(
        f"  CPU per non-attendance beyond idle (ms; 2 cores give {2000 / RATE:.0f} ms per event "
        f"at {RATE:g}/s): total {sum(busy.values()) / EVENTS * 1000:.1f}; {per_event}"
    )


def _report(
    report: list[str],
    webhook: tuple[list[float], int],
    rm: tuple[list[float], int],
    floor: list[float],
    api: list[float],
) -> None:
    aims = "aim p50 <= 100 ms, p99 <= 1 s, none lost"
    report.append(
        f"non-attendance at the case API -> webhook acknowledged: {figures(webhook[0])}, "
        f"lost {webhook[1]} of {EVENTS}  |  {ratio(webhook[0], floor)}  ({aims})"
    )
    report.append(
        f"non-attendance at the case API -> R&M write-back accepted: {figures(rm[0])}, "
        f"lost {rm[1]} of {RM_EVENTS}  |  {ratio(rm[0], floor)}  ({aims})"
    )
    report.append(
        f"  floor, aiokafka produce -> group consume on the same broker, same rate, same time: "
        f"{figures(floor)}, lost {EVENTS - len(floor)}  |  the case API's answer: {figures(api)}"
        f"  [{RATE:g}/s for {SECONDS:g} s, {RM_EVENTS} of them R&M referrals; drain "
        f"{DRAIN_SECONDS:g} s]"
    )

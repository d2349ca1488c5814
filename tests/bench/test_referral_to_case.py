"""From a referral event to its case-ready event, across real processes (the whole local stack).

Referrals are posted at a steady pace; for each, the time between the `referral-received` record
and the `case-opened` record on the topics (record timestamps, set when each relay published).
The first few after the stack starts pay for first use (connections, statements prepared,
code paths run once) and are reported on their own, apart from the steady state.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import pytest

from gmirs_runtime.local.ports import free_port
from gmirs_runtime.testing.kafka import read_topic
from gmirs_stack.config import Ports
from gmirs_stack.stack import LocalStack
from tests.e2e.conftest import FAST_GROUPS
from tests.e2e.platform import Platform, data_of, event_type
from tests.e2e.referrals import direct_referral

pytestmark = pytest.mark.bench
REFERRALS = int(os.environ.get("BENCH_CASE_REFERRALS", "200"))
PER_SECOND = 20
WARMUP = 5


async def test_referral_event_to_case_ready(report) -> None:
    root = Path(tempfile.mkdtemp(prefix="gmirs-bench-"))
    stack = LocalStack(
        root, Ports(**{n: free_port() for n in Ports().named()}), service_env=FAST_GROUPS
    )
    await stack.start()
    try:
        platform = Platform(stack, collector_url="")
        sent: list[str] = []  # referral ids in the order posted
        for _ in range(WARMUP + REFERRALS):
            response = await platform.call(
                "lead-provider", "POST", "intake", "/referrals", json=direct_referral()
            )
            sent.append(response.json()["referral_id"])
            await asyncio.sleep(1 / PER_SECOND)
        ids = set(sent)
        opened = {
            data_of(r)["referral_id"]: r.timestamp
            for r in await platform.records(
                "case.case-events.v1",
                lambda r: (
                    event_type(r) == "gmirs.case.case-opened.v1"
                    and data_of(r)["referral_id"] in ids
                ),
                count=len(ids),
                timeout=120,
            )
        }
        received = {
            data_of(r)["referral_id"]: r.timestamp
            for r in await read_topic(stack.broker.bootstrap, "intake.referral-events.v1")
            if data_of(r).get("referral_id") in ids
        }
        in_order = [opened[rid] - received[rid] for rid in sent]
    finally:
        await stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    first, steady = in_order[:WARMUP], sorted(in_order[WARMUP:])
    q = statistics.quantiles(steady, n=100)
    report.append(
        f"referral-received -> case-opened on the topics: p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, "
        f"max {steady[-1]:.0f} ms  [{REFERRALS} referrals at {PER_SECOND}/s; consumer fetch wait "
        f"20 ms; the first {WARMUP} after start, apart: {', '.join(f'{t:.0f}' for t in first)} ms]"
    )

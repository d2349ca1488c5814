"""The SQS consumer against a real moto server provisioned as HMPPS consumers are.

The R&M simulator (its own process) publishes to the SNS topic; moto delivers to our queue
through the filtered subscription; intake runs in-process on real PostgreSQL and the real broker.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from gmirs_runtime.testing.kafka import Record, eventually, read_topic, wait_for_records
from tests.fakes.rm_harness import notification, receive_all

TOPIC = "intake.referral-events.v1"
RECEIVED = "gmirs.intake.referral-received.v1"


StackFactory = Callable[..., contextlib.AbstractAsyncContextManager[Any]]


@pytest.fixture
def sqs_stack(rm_env: Any) -> StackFactory:
    """moto + simulator (publishing to the topic) + intake consuming the queue."""
    return functools.partial(rm_env, sqs=True)


async def until(stack: Any, sql: str, expected: Any, what: str, timeout: float = 30) -> None:
    async def check() -> bool:
        return bool(await stack.scalar(sql) == expected)

    await eventually(check, timeout=timeout, what=what)


def _received_for(rm_id: str) -> Callable[[Record], bool]:
    def match(record: Record) -> bool:
        if dict(record.headers).get("ce_type") != RECEIVED.encode():
            return False
        return bool(orjson.loads(record.value).get("rm_referral_id") == rm_id)

    return match


async def test_an_event_is_published_and_its_message_deleted_once(sqs_stack: StackFactory) -> None:
    async with sqs_stack() as stack:
        await stack.control.faults(duplicate_next=1)  # SNS delivers the same event twice
        created = await stack.control.create_referral()
        rm_id = created["referral_id"]
        assert all(e["sns_message_id"] for e in created["events"])

        (record,) = await wait_for_records(stack.bootstrap, TOPIC, _received_for(rm_id))
        assert orjson.loads(record.value)["rm_referral_id"] == rm_id

        async def drained() -> bool:
            return bool(await stack.depth() == 0)

        await eventually(drained, what="both deliveries deleted from the queue")
        records = [r for r in await read_topic(stack.bootstrap, TOPIC) if _received_for(rm_id)(r)]
        assert len(records) == 1
        assert await stack.scalar("SELECT count(*) FROM referrals") == 1
        assert await stack.depth(stack.aws.dlq_url) == 0
        assert await stack.scalar("SELECT count(*) FROM pending_messages") == 0


async def test_a_poison_message_is_quarantined_with_its_reason_and_deleted(
    sqs_stack: StackFactory,
) -> None:
    async with sqs_stack() as stack:
        await stack.control.post(
            "/publish-raw", {"message": "{not json", "event_type": "intervention.referral.sent"}
        )
        await until(
            stack,
            "SELECT reason FROM quarantine WHERE source = 'sqs'",
            "envelope: not valid JSON",
            "the poison message quarantined",
        )
        raw = await stack.scalar("SELECT raw FROM quarantine")
        assert orjson.loads(raw)["Message"] == "{not json"  # the SQS body as received

        async def drained() -> bool:
            return bool(await stack.depth() == 0)

        await eventually(drained, what="the quarantined message deleted")
        assert await stack.depth(stack.aws.dlq_url) == 0


async def test_a_transient_failure_is_pending_then_processed_when_r_and_m_recovers(
    sqs_stack: StackFactory,
) -> None:
    async with sqs_stack(max_receive_count=1000) as stack:
        await stack.control.faults(api_fail_requests=100_000, api_status=503)
        created = await stack.control.create_referral()
        rm_id = created["referral_id"]
        await until(
            stack, "SELECT source FROM pending_messages", "sqs", "the message shown as pending"
        )
        async with stack.intake.as_client("ops", ["operator"]) as ops:
            (item,) = (await ops.get("/operator/pending")).json()["items"]
        assert item["key"].startswith("sqs:")
        assert "503" in item["reason"]
        assert await stack.depth() == 1  # kept in the queue, not deleted

        await stack.control.faults(clear=True)
        await wait_for_records(stack.bootstrap, TOPIC, _received_for(rm_id), timeout=30)
        await until(stack, "SELECT count(*) FROM pending_messages", 0, "pending row cleared")

        async def drained() -> bool:
            return bool(await stack.depth() == 0)

        await eventually(drained, what="the message deleted after processing")
        assert await stack.scalar("SELECT count(*) FROM quarantine") == 0


async def test_a_message_that_keeps_failing_reaches_the_dlq_and_our_quarantine(
    sqs_stack: StackFactory,
) -> None:
    async with sqs_stack(max_receive_count=3) as stack:
        await stack.control.faults(api_fail_requests=100_000, api_status=503)
        created = await stack.control.create_referral()
        rm_id = created["referral_id"]
        await until(
            stack,
            "SELECT count(*) FROM quarantine WHERE source = 'sqs'",
            1,
            "quarantined after 3 receives",
        )
        reason = await stack.scalar("SELECT reason FROM quarantine")
        assert "503" in reason
        assert "3 receives" in reason

        dead = await receive_all(stack.aws, stack.aws.dlq_url, wait_s=2, empty_rounds=2)
        assert len(dead) == 1
        assert rm_id in notification(dead[0])["Message"]
        assert await stack.depth() == 0
        assert await stack.scalar("SELECT count(*) FROM pending_messages") == 0
        assert await stack.scalar("SELECT count(*) FROM referrals") == 0


async def test_slow_processing_keeps_the_message_hidden_until_it_is_done(
    sqs_stack: StackFactory,
) -> None:
    # No reconciliation round here: its own fetch of the referral would be counted below.
    async with sqs_stack(sqs_visibility_timeout_seconds=3, reconcile_enabled=False) as stack:
        await stack.control.faults(api_delay_ms=6_000)  # each R&M call outlasts the timeout
        created = await stack.control.create_referral()
        rm_id = created["referral_id"]
        path = f"/sent-referral/{rm_id}"

        async def fetching() -> bool:
            return any(r.get("path") == path for r in await stack.control.requests())

        await eventually(fetching, what="intake received the message and is fetching its detail")
        # Meanwhile another consumer polls the queue, well past the 3 s visibility timeout.
        competing = await receive_all(
            stack.aws, stack.aws.queue_url, delete=False, wait_s=1, empty_rounds=5
        )
        assert competing == []
        await wait_for_records(stack.bootstrap, TOPIC, _received_for(rm_id), timeout=60)

        async def drained() -> bool:
            return bool(await stack.depth() == 0)

        await eventually(drained, what="the message deleted after processing")
        fetched = [r for r in await stack.control.requests() if r.get("path") == path]
        assert len(fetched) == 1
        assert await stack.scalar("SELECT count(*) FROM pending_messages") == 0


def test_transient_retries_are_spread_so_a_short_outage_never_reaches_the_dlq() -> None:
    from gmirs_referral_intake.entrypoints.sqs_consumer import spread_delay

    waits = [spread_delay(n, 5, 900) for n in range(1, 5)]
    assert waits == [60, 120, 240, 480]
    assert sum(waits) == 900
    assert spread_delay(9, 5, 900) == 480  # past the budget it never grows further

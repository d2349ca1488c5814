"""Driving the fake Refer and Monitor in end-to-end tests: scenario steps, held and redelivered
messages, and what intake and case made of them.

Topics are shared by every end-to-end test: everything here is filtered to one referral's ids.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from gmirs_runtime.testing.kafka import eventually, read_topic
from gmirs_stack.aws import aws_clients, queue_depth
from tests.e2e.platform import Platform, caught_up, data_of, database_count, event_type

CASES = "case.case-events.v1"
INTAKE = "intake.referral-events.v1"
SNS = {"channels": ["sns"]}


async def rm_control(
    platform: Platform, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a scenario step to the R&M simulator's /_control API; its answer (ids, publications)."""
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=30) as http:
        response = await http.post(path, json=body or {})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


async def redeliver_via_sqs(platform: Platform, publications: list[dict[str, Any]]) -> None:
    """Put each SNS notification back on intake's queue, as SQS's at-least-once delivery may.

    The body is the Notification SNS wrote into the queue (not raw delivery) with the same
    MessageId, topic, message text and eventType attribute as the simulator's publication.
    """
    aws = platform.stack.aws
    assert aws is not None
    async with aws_clients(aws.endpoint_url, aws.region) as (_, sqs):
        for publication in publications:
            assert publication["sns_message_id"], publication
            notification = {
                "Type": "Notification",
                "MessageId": publication["sns_message_id"],
                "TopicArn": aws.topic_arn,
                "Message": publication["message"],
                "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "SignatureVersion": "1",
                "MessageAttributes": {
                    "eventType": {"Type": "String", "Value": publication["event_type"]}
                },
            }
            await sqs.send_message(QueueUrl=aws.queue_url, MessageBody=json.dumps(notification))


async def case_opened_for(platform: Platform, rm_id: str) -> tuple[str, str]:
    """(referral id, case id) once intake has received R&M's referral and case opened it."""
    (received,) = await platform.records(
        INTAKE,
        lambda r: (
            event_type(r) == "gmirs.intake.referral-received.v1"
            and data_of(r).get("rm_referral_id") == rm_id
        ),
    )
    referral_id = data_of(received)["referral_id"]
    (opened,) = await platform.records(
        CASES,
        lambda r: (
            event_type(r) == "gmirs.case.case-opened.v1"
            and data_of(r)["referral_id"] == referral_id
        ),
    )
    return referral_id, str(data_of(opened)["case_id"])


async def intake_events_of(platform: Platform, rm_id: str) -> Counter[str]:
    """How many of each intake event (by distinct event id) this R&M referral has produced."""
    records = await read_topic(platform.stack.broker.bootstrap, INTAKE)
    ids = {
        (event_type(r), dict(r.headers)["ce_id"])
        for r in records
        if data_of(r).get("rm_referral_id") == rm_id
    }
    return Counter(kind for kind, _ in ids)


async def delivered_again(platform: Platform, rm: RmReferral) -> None:
    """Each SNS message of the referral again on intake's queue, and each intake event again on
    its topic; returns when intake has taken every message off the queue and case has caught up.
    """
    aws = platform.stack.aws
    assert aws is not None
    await redeliver_via_sqs(platform, rm.published)
    records = await read_topic(platform.stack.broker.bootstrap, INTAKE)
    mine = [r for r in records if data_of(r).get("rm_referral_id") == rm.rm_id]
    producer = AIOKafkaProducer(bootstrap_servers=platform.stack.broker.bootstrap, acks="all")
    await producer.start()
    try:
        for record in mine:
            await producer.send_and_wait(
                INTAKE, key=record.key, value=record.value, headers=list(record.headers)
            )
    finally:
        await producer.stop()

    async def queue_drained() -> bool:
        return await queue_depth(aws.endpoint_url, aws.queue_url) == 0

    await eventually(queue_drained, timeout=60)
    await asyncio.sleep(2)  # an event intake let through twice would be on its topic by now

    async def case_caught_up() -> bool:
        return await caught_up(platform, "case", INTAKE)

    await eventually(case_caught_up, timeout=60)
    kept = f"SELECT count(*) FROM intake.quarantine WHERE raw LIKE '%{rm.rm_id}%'"
    assert await database_count(platform, kept) == 0  # taken as duplicates, not as unusable


@dataclass
class RmReferral:
    """An R&M referral driven through the simulator, keeping every publication it made."""

    platform: Platform
    rm_id: str
    published: list[dict[str, Any]]

    async def step(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await rm_control(self.platform, path, {**SNS, **(body or {})})
        self.published += [p for p in result["events"] if p["state"] == "published"]
        return result

    async def release_held(self) -> None:
        released = await rm_control(self.platform, "/_control/release", {"order": "as-is"})
        self.published += [p for p in released["events"] if self.rm_id in p["message"]]

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
from gmirs_stack.stack import RM_CLIENT_ID
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


# --- R&M's feedback endpoints: what they received, faults, and calls as R&M's users. ---


async def rm_calls(platform: Platform, rm_appointment_id: str) -> list[tuple[str, str, int]]:
    """R&M's log of the feedback calls for one appointment: (method, last path part, status)."""
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=10) as http:
        answered = (await http.get("/_control/requests")).json()
    return [
        (r["method"], r["path"].rsplit("/", 1)[-1], r["status"])
        for r in answered
        if f"/delivery-session-appointments/{rm_appointment_id}/" in r["path"]
    ]


async def rm_accepted(platform: Platform, rm_appointment_id: str) -> list[tuple[str, str]]:
    """The steps R&M accepted for one appointment, each once, in order: its received updates.
    (A draft step sent again after notify gave up on a slow answer is R&M's idempotent PUT;
    submissions are counted by `submits_accepted`.)"""
    calls = await rm_calls(platform, rm_appointment_id)
    return list(dict.fromkeys((method, step) for method, step, status in calls if status == 200))


async def submits_accepted(platform: Platform, rm_appointment_id: str) -> int:
    """How many times R&M accepted this appointment's feedback (its received updates)."""
    calls = Counter(await rm_calls(platform, rm_appointment_id))
    return calls[("POST", "submit-feedback", 200)]


async def rm_faults(platform: Platform, **faults: Any) -> None:
    await rm_control(platform, "/_control/faults", faults)


async def rm_stats(platform: Platform) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=10) as http:
        stats: dict[str, Any] = (await http.get("/_control/stats")).json()
        return stats


async def rm_api(
    platform: Platform,
    method: str,
    path: str,
    *,
    username: str | None = None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """A call to R&M's API with the platform's client credentials: a bare client token, or a
    token for `username` (HMPPS Auth's client-credentials grant with a username)."""
    form = {"grant_type": "client_credentials"} | ({"username": username} if username else {})
    async with httpx.AsyncClient(base_url=platform.stack.url("rm"), timeout=10) as http:
        token = await http.post(
            "/auth/oauth/token", data=form, auth=(RM_CLIENT_ID, platform.stack.rm_secret)
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return await http.request(method, path, headers=headers, json=body)


async def rm_session(platform: Platform, rm_id: str, number: int) -> dict[str, Any]:
    """R&M's delivery session as its API shows it."""
    response = await rm_api(platform, "GET", f"/referral/{rm_id}/sessions/{number}")
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


async def entered_in_rm_by_hand(
    platform: Platform, rm_id: str, rm_appointment_id: str, attended: str
) -> None:
    path = f"/referral/{rm_id}/delivery-session-appointments/{rm_appointment_id}"
    feedback = (
        {"noAttendanceInformation": "Did not come.", "notifyProbationPractitionerOfConcerns": False}
        if attended == "no"
        else {
            "late": False,
            "sessionSummary": "Talked.",
            "sessionResponse": "Engaged.",
            "notifyProbationPractitionerOfConcerns": False,
        }
    )
    steps = (
        ("PUT", "attendance", {"attended": attended, "didSessionHappen": attended != "no"}),
        ("PUT", "session-feedback", feedback),
        ("POST", "submit-feedback", None),
    )
    for method, step, body in steps:
        answer = await rm_api(
            platform, method, f"{path}/{step}", username="sp.bury.worker", body=body
        )
        assert answer.status_code == 200, answer.text

"""Duplicates, replays, dead letters, a paused broker and a killed consumer: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer

from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.testing.kafka import eventually, read_topic
from tests.e2e.platform import Platform, caught_up, data_of, database_count, event_type
from tests.e2e.referrals import direct_referral

pytestmark = [pytest.mark.e2e, pytest.mark.fault]
INTAKE = "intake.referral-events.v1"
CASES = "case.case-events.v1"


async def _producer(platform: Platform) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=platform.stack.broker.bootstrap, acks="all")
    await producer.start()
    return producer


async def _referral(platform: Platform, pdu: str) -> str:
    response = await platform.call(
        "lead-provider", "POST", "intake", "/referrals", json=direct_referral(pdu)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["referral_id"])


def _cases_for(referral_ids: set[str]) -> str:
    ids = ",".join(f"'{r}'" for r in referral_ids)
    return f"SELECT count(*) FROM casework.cases WHERE referral_id IN ({ids})"


async def _all_consumed(platform: Platform) -> None:
    for group in ("case", "metrics"):

        async def group_caught_up(group: str = group) -> bool:
            return await caught_up(platform, group, INTAKE)

        await eventually(group_caught_up, timeout=60)


async def test_same_event_twice_and_a_replayed_topic_change_nothing(platform: Platform) -> None:
    referral_id = await _referral(platform, "Oldham")
    (record,) = await platform.records(
        INTAKE, lambda r: data_of(r).get("referral_id") == referral_id
    )
    await _all_consumed(platform)
    cases_before = await database_count(platform, "SELECT count(*) FROM casework.cases")
    counts_before = await database_count(platform, "SELECT count(*) FROM metrics.referral_facts")

    producer = await _producer(platform)
    try:
        for _ in range(2):
            await producer.send_and_wait(
                INTAKE, key=record.key, value=record.value, headers=list(record.headers)
            )
        for old in await read_topic(platform.stack.broker.bootstrap, INTAKE):
            await producer.send_and_wait(
                INTAKE, key=old.key, value=old.value, headers=list(old.headers)
            )
    finally:
        await producer.stop()
    await _all_consumed(platform)

    assert await database_count(platform, _cases_for({referral_id})) == 1
    assert await database_count(platform, "SELECT count(*) FROM casework.cases") == cases_before
    assert (
        await database_count(platform, "SELECT count(*) FROM metrics.referral_facts")
        == counts_before
    )


async def test_unusable_event_is_dead_lettered_with_its_reason_and_can_be_replayed(
    platform: Platform,
) -> None:
    broken = Event(
        type="gmirs.intake.referral-received.v1",
        source="/gmirs/test",
        subject=uuid.uuid4(),
        data={"referral_id": str(uuid.uuid4()), "source": "direct"},
    )
    producer = await _producer(platform)
    try:
        await producer.send_and_wait(
            INTAKE, key=broken.key, value=b'{"referral_id": "x"}', headers=to_headers(broken)
        )
    finally:
        await producer.stop()

    letters: list[dict] = []  # type: ignore[type-arg]

    async def dead_lettered() -> bool:
        response = await platform.call("operator", "GET", "case", "/operator/dead-letters")
        assert response.status_code == 200
        letters[:] = [i for i in response.json()["items"] if i["event_id"] == str(broken.id)]
        return bool(letters)

    await eventually(dead_lettered, timeout=30)
    (letter,) = letters
    assert letter["error_class"] == "UnprocessableEvent"
    assert "validation error" in letter["error_message"]
    assert letter["consumer_group"] == "case"
    assert letter["original_topic"] == INTAKE
    hub = await platform.call("hub-bolton", "GET", "case", "/operator/dead-letters")
    assert hub.status_code == 403

    position = (
        f"/operator/dead-letters/{letter['dlt_topic']}/{letter['partition']}/{letter['offset']}"
    )
    viewed = await platform.call(
        "operator", "POST", "case", f"{position}/view", json={"reason": "investigating"}
    )
    assert viewed.status_code == 200
    assert viewed.json()["payload"] == '{"referral_id": "x"}'
    audited = await database_count(
        platform, "SELECT count(*) FROM casework.audit_log WHERE action = 'dead-letter.viewed'"
    )
    assert audited >= 1

    replayed = await platform.call(
        "operator", "POST", "case", f"{position}/replay", json={"reason": "retry"}
    )
    assert replayed.status_code == 200
    assert replayed.json()["replayed_to"] == f"{INTAKE}.case.retry"
    # Still unusable: the replay is dead-lettered again, from the retry topic, never applied.
    await eventually(lambda: _dead_letter_count(platform, str(broken.id), 2), timeout=30)


async def _dead_letter_count(platform: Platform, event_id: str, n: int) -> bool:
    response = await platform.call("operator", "GET", "case", "/operator/dead-letters")
    found = [i for i in response.json()["items"] if i["event_id"] == event_id]
    return len(found) >= n and any(i["replayed_at"] for i in found)


async def test_broker_paused_for_ten_seconds_loses_and_duplicates_nothing(
    platform: Platform,
) -> None:
    referrals: set[str] = set()
    platform.stack.broker.pause()
    try:
        for _ in range(10):
            referrals.add(await _referral(platform, "Trafford"))
            await asyncio.sleep(1)
    finally:
        platform.stack.broker.resume()
    for _ in range(5):
        referrals.add(await _referral(platform, "Trafford"))

    async def all_opened() -> bool:
        return await database_count(platform, _cases_for(referrals)) == len(referrals)

    await eventually(all_opened, timeout=90)
    await _all_consumed(platform)
    assert await database_count(platform, _cases_for(referrals)) == len(referrals)
    opened = await platform.records(
        CASES,
        lambda r: (
            event_type(r) == "gmirs.case.case-opened.v1" and data_of(r)["referral_id"] in referrals
        ),
        count=len(referrals),
    )
    per_referral = Counter(data_of(r)["referral_id"] for r in opened)
    assert set(per_referral) == referrals
    assert len({dict(r.headers)["ce_id"] for r in opened}) == len(referrals)


async def test_consumer_killed_mid_batch_resumes_without_loss_or_double_apply(
    platform: Platform,
) -> None:
    await platform.stack.stop_service("case")
    referrals = {await _referral(platform, "Tameside") for _ in range(40)}
    await platform.stack.start_service("case")

    async def some_opened() -> bool:
        return await database_count(platform, _cases_for(referrals)) > 0

    await eventually(some_opened, timeout=60)
    platform.stack.kill_service("case")  # SIGKILL while the backlog is being applied
    await platform.stack.start_service("case")

    async def all_opened() -> bool:
        return await database_count(platform, _cases_for(referrals)) == len(referrals)

    await eventually(all_opened, timeout=90)
    await _all_consumed(platform)
    opened = await platform.records(
        CASES,
        lambda r: (
            event_type(r) == "gmirs.case.case-opened.v1" and data_of(r)["referral_id"] in referrals
        ),
        count=len(referrals),
    )
    assert len({dict(r.headers)["ce_id"] for r in opened}) == len(referrals)
    assert await database_count(platform, _cases_for(referrals)) == len(referrals)

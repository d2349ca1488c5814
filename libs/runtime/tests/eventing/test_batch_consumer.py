"""The batch consumer: a fetch in one transaction, duplicates dropped by one inbox statement,
and per-event dead letters (with reasons) when an event in the batch is bad."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import text

from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.batch_consumer import BatchConsumer, HandlesBatches, Parsed
from gmirs_runtime.eventing.dead_letters import read_dead_letters
from gmirs_runtime.eventing.errors import UnprocessableEvent
from gmirs_runtime.eventing.kafka import KafkaOptions
from gmirs_runtime.eventing.topics import dead_letter_topic
from gmirs_runtime.testing.kafka import eventually

from .test_consumer import COUNTED_CONTRACT, FAST_RETRY, _json, event_for, publish

_COUNT_ALL = text(
    """
    INSERT INTO counters (id, count)
    SELECT id, n FROM unnest(CAST(:ids AS uuid[]), CAST(:ns AS int4[])) AS s(id, n)
    ON CONFLICT (id) DO UPDATE SET count = counters.count + excluded.count
    """
)


class Recorder:
    """A batch handler counting per aggregate in one statement, remembering its batch sizes."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.collecting: list[bool] = []  # whether the cyclic GC was on during each batch

    async def __call__(self, items: Sequence[Parsed], uow: UnitOfWork) -> None:
        self.batches.append(len(items))
        self.collecting.append(gc.isenabled())
        if any(item.payload.poison for item in items):
            raise UnprocessableEvent("field 'poison' is set")
        totals: dict[uuid.UUID, int] = {}
        for item in items:
            totals[item.event.subject] = totals.get(item.event.subject, 0) + 1
        await uow.session.execute(_COUNT_ALL, {"ids": list(totals), "ns": list(totals.values())})


@asynccontextmanager
async def running(
    service_db, kafka_options: KafkaOptions, producer, topic: str, group: str, handler: Recorder
) -> AsyncIterator[BatchConsumer[UnitOfWork]]:
    consumer = BatchConsumer(
        group=group,
        topics=[topic],
        handles=HandlesBatches([COUNTED_CONTRACT], handler),
        unit_of_work=service_db.uow,
        kafka=kafka_options,
        producer=producer,
        retry=FAST_RETRY,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def _seen(consumer: BatchConsumer[UnitOfWork], n: int) -> bool:
    s = consumer.stats
    return s.applied + s.duplicates + s.ignored + s.dead_lettered >= n


async def test_a_fetch_is_applied_together_and_duplicates_once(
    service_db, kafka_options, producer, topic, unique_name
) -> None:
    aggregate = uuid.uuid4()
    events = [event_for(aggregate, n=i) for i in range(200)]
    await publish(producer, topic, *events, *events[:50])
    handler = Recorder()
    async with running(
        service_db, kafka_options, producer, topic, unique_name("g"), handler
    ) as consumer:
        await eventually(lambda: _seen(consumer, 250))
        assert (consumer.stats.applied, consumer.stats.duplicates) == (200, 50)
        assert max(handler.batches) > 1  # several events per transaction
        await publish(producer, topic, *events[:10])  # a replay: all duplicates of the inbox
        await eventually(lambda: _seen(consumer, 260))
        assert consumer.stats.applied == 200
        assert await consumer.lag() == 0
    assert handler.collecting
    assert not any(handler.collecting)  # paused while a batch is worked on ...
    assert gc.isenabled()  # ... and on again after it
    assert await service_db.counter(aggregate) == 200
    claimed = await service_db.scalar("SELECT count(*) FROM inbox")
    assert claimed == 200


async def test_a_bad_event_in_a_batch_is_dead_lettered_and_the_rest_applied(
    service_db, kafka_options, producer, topic, unique_name, kafka_broker
) -> None:
    good, bad = uuid.uuid4(), uuid.uuid4()
    poison = event_for(bad, poison=True)
    refused = event_for(bad, n="not a number")
    await publish(producer, topic, event_for(good), poison, event_for(good), refused)
    await producer.send_and_wait(topic, key=b"x", value=b"{", headers=[("ce_id", b"1")])
    await publish(producer, topic, event_for(good))
    group = unique_name("g")
    handler = Recorder()
    async with running(service_db, kafka_options, producer, topic, group, handler) as consumer:
        await eventually(lambda: _seen(consumer, 6))
        assert (consumer.stats.applied, consumer.stats.dead_lettered) == (3, 3)
    assert await service_db.counter(good) == 3
    assert await service_db.counter(bad) == 0
    letters = await read_dead_letters(kafka_broker.bootstrap, dead_letter_topic(topic, group))
    reasons = sorted((s["error_class"], s["error_message"]) for s in (d.summary() for d in letters))
    assert [r[0] for r in reasons] == ["MalformedEvent", "UnprocessableEvent", "UnprocessableEvent"]
    assert ("UnprocessableEvent", "field 'poison' is set") in reasons
    assert any("validation error" in message for _, message in reasons)
    assert _json(poison.data) in [d.value for d in letters]

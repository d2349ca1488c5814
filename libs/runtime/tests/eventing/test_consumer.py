"""The consumer: typed payloads, once-only effects, dead letters with reasons, replay, one trace."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.consumer import EventConsumer, RetryPolicy
from gmirs_runtime.eventing.dead_letters import find_dead_letter, read_dead_letters, replay
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.eventing.errors import UnprocessableEvent
from gmirs_runtime.eventing.kafka import KafkaOptions
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.eventing.topics import dead_letter_topic
from gmirs_runtime.testing.kafka import eventually

COUNTED = "gmirs.test.counted.v1"
FAST_RETRY = RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.02)


class Counted(BaseModel):
    """A toy payload model with the shape of a gmirs_contracts model (tolerant parsing)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    n: int = 0
    poison: bool = False

    @classmethod
    def parse_tolerant(cls, data: Any) -> Counted:
        return cls.model_validate(data)


@dataclass(frozen=True)
class ToyContract:
    ce_type: str
    model: type[Counted]


COUNTED_CONTRACT = ToyContract(COUNTED, Counted)
CountedHandler = Handles[Counted, UnitOfWork]


async def count(payload: Counted, event: Event, uow: UnitOfWork) -> None:
    await uow.session.execute(
        text(
            "INSERT INTO counters (id, count) VALUES (:id, 1) "
            "ON CONFLICT (id) DO UPDATE SET count = counters.count + 1"
        ),
        {"id": event.subject},
    )
    if payload.poison:
        raise UnprocessableEvent("field 'poison' is set")


def event_for(aggregate: uuid.UUID, **data: object) -> Event:
    return Event(type=COUNTED, source="/gmirs/test", subject=aggregate, data=data)


async def publish(producer: AIOKafkaProducer, topic: str, *events: Event) -> None:
    for e in events:
        await producer.send_and_wait(topic, key=e.key, value=_json(e.data), headers=to_headers(e))


def _json(data: object) -> bytes:
    import orjson

    return orjson.dumps(data)


@asynccontextmanager
async def running(
    service_db,
    kafka_options: KafkaOptions,
    producer: AIOKafkaProducer,
    topic: str,
    group: str,
    subscriptions: list[CountedHandler] | None = None,
) -> AsyncIterator[EventConsumer[UnitOfWork]]:
    consumer = EventConsumer(
        group=group,
        topics=[topic],
        subscriptions=subscriptions or [Handles(COUNTED_CONTRACT, count)],
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


async def test_duplicates_and_replays_change_nothing(
    service_db, kafka_options, producer, topic, unique_name: Callable[[str], str]
) -> None:
    aggregate = uuid.uuid4()
    first, second = event_for(aggregate, n=1), event_for(aggregate, n=2)
    await publish(producer, topic, first, first, second, first)
    group = unique_name("group")
    async with running(service_db, kafka_options, producer, topic, group) as consumer:
        await eventually(lambda: _done(consumer, 4))
        assert await service_db.counter(aggregate) == 2
        assert consumer.stats.duplicates == 2
        # The whole topic published again (a replay) is absorbed by the inbox.
        await publish(producer, topic, first, second)
        await eventually(lambda: _done(consumer, 6))
    assert await service_db.counter(aggregate) == 2


async def _done(consumer: EventConsumer[UnitOfWork], n: int) -> bool:
    s = consumer.stats
    return s.applied + s.duplicates + s.ignored + s.dead_lettered >= n


async def test_poison_is_dead_lettered_with_reason_and_replay_applies_once(
    service_db, kafka_options, producer, topic, unique_name, kafka_broker
) -> None:
    good, bad = uuid.uuid4(), uuid.uuid4()
    poison = event_for(bad, poison=True)
    await publish(producer, topic, event_for(good))
    poison_at = await producer.send_and_wait(
        topic, key=poison.key, value=_json(poison.data), headers=to_headers(poison)
    )
    await publish(producer, topic, event_for(good))
    junk_at = await producer.send_and_wait(
        topic, key=b"x", value=b"{not json", headers=[("ce_id", b"1")]
    )
    group = unique_name("group")
    async with running(service_db, kafka_options, producer, topic, group) as consumer:
        await eventually(lambda: _done(consumer, 4))
        assert consumer.stats.applied == 2
        assert consumer.stats.dead_lettered == 2
    assert await service_db.counter(good) == 2
    assert await service_db.counter(bad) == 0  # the failed handler's write was rolled back

    letters = await read_dead_letters(kafka_broker.bootstrap, dead_letter_topic(topic, group))
    summaries = sorted((letter.summary() for letter in letters), key=lambda s: s["error_class"])
    assert [(s["original_partition"], s["original_offset"]) for s in summaries] == [
        (junk_at.partition, junk_at.offset),
        (poison_at.partition, poison_at.offset),
    ]
    summaries.reverse()
    assert summaries[0]["error_class"] == "UnprocessableEvent"
    assert summaries[0]["error_message"] == "field 'poison' is set"
    assert summaries[0]["event_id"] == str(poison.id)
    assert summaries[0]["consumer_group"] == group
    assert summaries[0]["original_topic"] == topic
    assert summaries[1]["error_class"] == "MalformedEvent"
    assert "missing CloudEvents headers" in summaries[1]["error_message"]

    # The fix: a handler that accepts the event. Replay reaches this group only, and once.
    async def fixed(payload: Counted, event: Event, uow: UnitOfWork) -> None:
        await count(Counted(), event, uow)

    letter = next(dl for dl in letters if dl.summary()["event_id"] == str(poison.id))
    found = await find_dead_letter(
        kafka_broker.bootstrap, letter.topic, letter.partition, letter.offset
    )
    assert found == letter
    async with running(
        service_db, kafka_options, producer, topic, group, [Handles(COUNTED_CONTRACT, fixed)]
    ) as consumer:
        await replay(producer, letter, group=group)
        await replay(producer, letter, group=group)
        await eventually(lambda: _done(consumer, 2))
        assert consumer.stats.applied == 1
        assert consumer.stats.duplicates == 1
    assert await service_db.counter(bad) == 1


async def test_transient_failures_are_retried_not_dead_lettered(
    service_db, kafka_options, producer, topic, unique_name
) -> None:
    failures = {"left": 2}

    async def flaky(payload: Counted, event: Event, uow: UnitOfWork) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("downstream hiccup")
        await count(payload, event, uow)

    aggregate = uuid.uuid4()
    await publish(producer, topic, event_for(aggregate))
    async with running(
        service_db,
        kafka_options,
        producer,
        topic,
        unique_name("g"),
        [Handles(COUNTED_CONTRACT, flaky)],
    ) as consumer:
        await eventually(lambda: _done(consumer, 1))
        assert consumer.stats.dead_lettered == 0
    assert await service_db.counter(aggregate) == 1


async def test_offsets_are_committed_so_a_restart_resumes(
    service_db, kafka_options, producer, topic, unique_name
) -> None:
    aggregate = uuid.uuid4()
    group = unique_name("group")
    await publish(producer, topic, event_for(aggregate), event_for(aggregate))
    async with running(service_db, kafka_options, producer, topic, group) as consumer:
        await eventually(lambda: _done(consumer, 2))
    async with running(service_db, kafka_options, producer, topic, group) as consumer:
        await publish(producer, topic, event_for(aggregate))
        await eventually(lambda: _done(consumer, 1))
        await asyncio.sleep(0.5)
        # Only the new record was read: nothing before the committed offset came back.
        assert consumer.stats.applied == 1
        assert consumer.stats.duplicates == 0
    assert await service_db.counter(aggregate) == 3


async def test_process_span_continues_the_producers_trace(
    service_db, kafka_options, producer, topic, unique_name, span_exporter
) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        ctx = span.get_span_context()
        traceparent = f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01"
    e = Event(
        type=COUNTED, source="/gmirs/test", subject=uuid.uuid4(), data={}, traceparent=traceparent
    )
    await publish(producer, topic, e)
    async with running(service_db, kafka_options, producer, topic, unique_name("g")) as consumer:
        await eventually(lambda: _done(consumer, 1))
    spans = [s for s in span_exporter.get_finished_spans() if s.name == f"process {topic}"]
    assert len(spans) == 1
    assert spans[0].context.trace_id == ctx.trace_id
    assert spans[0].parent is not None
    assert spans[0].parent.span_id == ctx.span_id
    assert spans[0].kind == trace.SpanKind.CONSUMER


async def test_a_payload_its_model_refuses_is_dead_lettered_and_the_handler_never_runs(
    service_db, kafka_options, producer, topic, unique_name, kafka_broker
) -> None:
    seen: list[Counted] = []

    async def record(payload: Counted, event: Event, uow: UnitOfWork) -> None:
        seen.append(payload)

    invalid, valid = event_for(uuid.uuid4(), n="many"), event_for(uuid.uuid4(), n=3, extra=1)
    await publish(producer, topic, invalid, valid)
    group = unique_name("group")
    subscriptions = [Handles(COUNTED_CONTRACT, record)]
    async with running(service_db, kafka_options, producer, topic, group, subscriptions) as c:
        await eventually(lambda: _done(c, 2))
        assert (c.stats.applied, c.stats.dead_lettered) == (1, 1)
    assert seen == [Counted(n=3)]  # parsed by the model before the handler ran
    letters = await read_dead_letters(kafka_broker.bootstrap, dead_letter_topic(topic, group))
    [summary] = [letter.summary() for letter in letters]
    assert summary["event_id"] == str(invalid.id)
    assert summary["error_class"] == "UnprocessableEvent"
    assert summary["error_message"] == "1 validation error(s): n: int_parsing"

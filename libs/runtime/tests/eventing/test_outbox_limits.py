"""Events the broker could never take: refused when added, parked by the relay if one slips by."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.consumer import EventConsumer
from gmirs_runtime.eventing.dead_letters import read_dead_letters
from gmirs_runtime.eventing.envelope import Event, from_record, to_headers
from gmirs_runtime.eventing.errors import EventTooLargeError
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer, record_size
from gmirs_runtime.eventing.parked import ParkedOutbox, UnknownParkedRowError
from gmirs_runtime.eventing.relay import OutboxRelay
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.eventing.topics import dead_letter_topic
from gmirs_runtime.testing.kafka import eventually, read_topic

SMALL_LIMIT = 4096
BIG = "x" * 8000
COUNTED = "gmirs.test.counted.v1"


class Anything(BaseModel):
    """A toy payload model (a gmirs_contracts model's shape): any object will do."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def parse_tolerant(cls, data: Any) -> Anything:
        return cls.model_validate(data)


@dataclass(frozen=True)
class ToyContract:
    ce_type: str
    model: type[Anything]


def _emit(uow: UnitOfWork, topic: str, aggregate: uuid.UUID, n: int, blob: str = "") -> Event:
    return uow.emit(
        topic=topic,
        event_type=COUNTED,
        aggregate_type="counter",
        aggregate_id=aggregate,
        data={"n": n, "blob": blob},
    )


async def test_an_event_too_large_to_publish_is_refused_when_added(service_db, topic) -> None:
    aggregate = uuid.uuid4()
    limited = UnitOfWork(service_db.sessions, source="/gmirs/test", max_event_bytes=SMALL_LIMIT)
    with pytest.raises(EventTooLargeError) as refused:
        async with limited as uow:
            await uow.session.execute(
                text("INSERT INTO counters (id, count) VALUES (:id, 1)"), {"id": aggregate}
            )
            _emit(uow, topic, aggregate, 1, BIG)
            await uow.commit()
    assert refused.value.limit == SMALL_LIMIT
    assert refused.value.size > len(BIG)
    assert BIG not in str(refused.value)
    assert await service_db.counter(aggregate) == 0
    assert await service_db.scalar("SELECT count(*) FROM outbox") == 0
    async with limited as uow:  # just under the limit still fits
        _emit(uow, topic, aggregate, 2, "x" * (SMALL_LIMIT - 600))
        await uow.commit()
    assert await service_db.scalar("SELECT count(*) FROM outbox") == 1


async def test_a_handler_whose_event_is_too_large_is_dead_lettered_with_reason(
    service_db, kafka_options, producer: AIOKafkaProducer, topic, unique_name, kafka_broker
) -> None:
    async def grow(payload: Anything, event: Event, uow: UnitOfWork) -> None:
        _emit(uow, unique_name("out"), event.subject, 1, "y" * 1_100_000)

    incoming = Event(type=COUNTED, source="/gmirs/test", subject=uuid.uuid4(), data={})
    await producer.send_and_wait(topic, key=incoming.key, value=b"{}", headers=to_headers(incoming))
    group = unique_name("group")
    consumer = EventConsumer(
        group=group,
        topics=[topic],
        subscriptions=[Handles(ToyContract(COUNTED, Anything), grow)],
        unit_of_work=service_db.uow,
        kafka=kafka_options,
        producer=producer,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: _true(consumer.stats.dead_lettered == 1), timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    [letter] = await read_dead_letters(kafka_broker.bootstrap, dead_letter_topic(topic, group))
    summary = letter.summary()
    assert summary["error_class"] == "EventTooLargeError"
    assert "the limit is 1048576" in summary["error_message"]
    assert await service_db.scalar("SELECT count(*) FROM outbox") == 0


async def _true(value: bool) -> bool:
    return value


async def test_the_relay_parks_an_unpublishable_row_and_holds_only_its_aggregate(
    service_db, kafka_options: KafkaOptions, topic, kafka_broker, caplog
) -> None:
    """Rows committed under a larger limit than the producer's (say, the setting was lowered)."""
    a, b = uuid.uuid4(), uuid.uuid4()
    async with service_db.uow() as uow:
        a1, a2 = _emit(uow, topic, a, 1), _emit(uow, topic, a, 2, BIG)
        b1, a3, b2 = _emit(uow, topic, b, 1), _emit(uow, topic, a, 3), _emit(uow, topic, b, 2)
        await uow.commit()
    reader = InMemoryMetricReader()
    producer = create_producer(replace(kafka_options, max_request_size=SMALL_LIMIT))
    await producer.start()
    relay = OutboxRelay(
        dsn=service_db.dsn,
        schema="svc",
        producer=producer,
        poll_interval=0.1,
        meter_provider=MeterProvider(metric_readers=[reader]),
    )
    parked = ParkedOutbox(service_db.sessions)
    stop = asyncio.Event()
    caplog.set_level(logging.ERROR, logger="gmirs_runtime.eventing.relay")
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _true(relay.published == 3 and relay.parked == 1), timeout=20)
        assert await _published(kafka_broker, topic, 3) == {a: [a1.id], b: [b1.id, b2.id]}
        [row] = await parked.list()
        assert (row["event_id"], row["held_behind"]) == (a2.id, 1)
        assert row["reason"].startswith("MessageSizeTooLargeError")
        assert _parked_total(reader) == 1
        [alert] = caplog.records
        assert alert.levelno == logging.ERROR
        assert alert.event_id == str(a2.id)
        assert BIG not in alert.getMessage()

        await parked.retry(row["id"], actor="ops-anna", reason="limit raised?")
        await eventually(lambda: _true(relay.parked == 2), timeout=20)  # still too large
        await parked.discard(row["id"], actor="ops-anna", reason="superseded by a3")
        await eventually(lambda: _true(relay.published == 4), timeout=20)
        assert await _published(kafka_broker, topic, 4) == {a: [a1.id, a3.id], b: [b1.id, b2.id]}
        with pytest.raises(UnknownParkedRowError):
            await parked.retry(row["id"], actor="ops-anna", reason="gone")
    finally:
        stop.set()
        await task
        await producer.stop()
    audited = await service_db.scalar(
        "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE actor = 'ops-anna'"
    )
    assert audited == "outbox.retried,outbox.discarded"


async def _published(kafka_broker, topic: str, count: int) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Event ids per aggregate, in the order each aggregate's partition holds them."""
    by_aggregate: dict[uuid.UUID, list[uuid.UUID]] = {}
    for r in await read_topic(kafka_broker.bootstrap, topic, min_count=count):
        event = from_record(r.key, r.value, r.headers)
        by_aggregate.setdefault(event.subject, []).append(event.id)
    return by_aggregate


def _parked_total(reader: InMemoryMetricReader) -> float:
    data = reader.get_metrics_data()
    assert data is not None
    total = 0.0
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "gmirs.outbox.parked":
                    for point in metric.data.data_points:
                        assert isinstance(point, NumberDataPoint)
                        total += point.value
    return total


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("data", [{}, {"n": 1, "s": "a:b,c"}, {"blob": "é" * 3000, "l": [1, 2]}])
def test_the_size_check_never_counts_less_than_the_producer(
    traced: bool, data: dict[str, object]
) -> None:
    """record_size bounds aiokafka's own figure for the record the relay sends, tightly."""
    event = Event(
        type=COUNTED,
        source="/gmirs/referral-intake",
        subject=uuid.uuid4(),
        data=data,
        dataschema="https://gmirs.example/schemas/counted/v1" if traced else None,
        traceparent=f"00-{'a' * 32}-{'b' * 16}-01" if traced else None,
        tracestate="vendor=opaque" if traced else None,
    )
    rendered = orjson.dumps(data).replace(b":", b": ").replace(b",", b", ")  # as JSONB prints it
    producer_counts = DefaultRecordBatchBuilder.estimate_size_in_bytes(
        event.key, rendered, to_headers(event)
    )
    assert producer_counts <= record_size(event) <= producer_counts + 250

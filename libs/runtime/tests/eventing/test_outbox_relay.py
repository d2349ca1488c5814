"""The unit of work and the relay: atomic writes, commit-order publication, one leader."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gmirs_runtime.eventing.envelope import from_record
from gmirs_runtime.eventing.relay import LINGER_PER_ROW, MAX_LINGER, OutboxRelay, linger_after
from gmirs_runtime.testing.kafka import eventually, wait_for_records


async def _emit(db, topic: str, aggregate_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    ids = []
    for i in range(n):
        async with db.uow() as uow:
            await uow.session.execute(
                text(
                    "INSERT INTO counters (id, count) VALUES (:id, 1) "
                    "ON CONFLICT (id) DO UPDATE SET count = counters.count + 1"
                ),
                {"id": aggregate_id},
            )
            event = uow.emit(
                topic=topic,
                event_type="gmirs.test.counted.v1",
                aggregate_type="counter",
                aggregate_id=aggregate_id,
                data={"n": i},
            )
            await uow.commit()
        ids.append(event.id)
    return ids


async def test_state_change_and_event_commit_together(service_db, topic) -> None:
    aggregate = uuid.uuid4()
    await _emit(service_db, topic, aggregate, 2)
    assert await service_db.counter(aggregate) == 2
    assert await service_db.scalar("SELECT count(*) FROM outbox") == 2


async def test_unit_of_work_left_uncommitted_writes_nothing(service_db, topic) -> None:
    aggregate = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with service_db.uow() as uow:
            await uow.session.execute(
                text("INSERT INTO counters (id, count) VALUES (:id, 1)"), {"id": aggregate}
            )
            uow.emit(
                topic=topic,
                event_type="t",
                aggregate_type="counter",
                aggregate_id=aggregate,
                data={},
            )
            raise RuntimeError("handler failed")
    assert await service_db.counter(aggregate) == 0
    assert await service_db.scalar("SELECT count(*) FROM outbox") == 0


async def test_relay_publishes_in_order_with_cloudevents_headers(
    service_db, topic, producer: AIOKafkaProducer, kafka_broker
) -> None:
    aggregate = uuid.uuid4()
    ids = await _emit(service_db, topic, aggregate, 5)
    relay = OutboxRelay(dsn=service_db.dsn, schema="svc", producer=producer, poll_interval=60)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        records = await wait_for_records(kafka_broker.bootstrap, topic, lambda r: True, count=5)
        events = [from_record(r.key, r.value, r.headers) for r in records]
        assert [e.id for e in events] == ids
        assert {r.key for r in records} == {str(aggregate).encode()}
        assert [e.data["n"] for e in events] == [0, 1, 2, 3, 4]
        assert all(e.source == "/gmirs/test" and e.type == "gmirs.test.counted.v1" for e in events)
        await eventually(lambda: _all_published(service_db), timeout=10)
        # A row committed later is picked up through LISTEN/NOTIFY although polling is a minute away.
        later = await _emit(service_db, topic, aggregate, 1)
        records = await wait_for_records(kafka_broker.bootstrap, topic, lambda r: True, count=6)
        assert from_record(records[-1].key, records[-1].value, records[-1].headers).id == later[0]
    finally:
        stop.set()
        await task


async def _all_published(db) -> bool:
    return bool(await db.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0)


async def test_only_one_relay_leads_and_a_standby_takes_over(
    service_db, topic, producer: AIOKafkaProducer, kafka_broker
) -> None:
    first = OutboxRelay(
        dsn=service_db.dsn, schema="svc", producer=producer, poll_interval=0.2, retry_interval=0.2
    )
    second = OutboxRelay(
        dsn=service_db.dsn, schema="svc", producer=producer, poll_interval=0.2, retry_interval=0.2
    )
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    t1 = asyncio.create_task(first.run(stop_first))
    await eventually(lambda: _true(first.is_leader))
    t2 = asyncio.create_task(second.run(stop_second))
    try:
        await asyncio.sleep(0.6)
        assert first.is_leader
        assert not second.is_leader
        stop_first.set()
        await t1
        await eventually(lambda: _true(second.is_leader))
        aggregate = uuid.uuid4()
        await _emit(service_db, topic, aggregate, 3)
        await wait_for_records(kafka_broker.bootstrap, topic, lambda r: True, count=3)
        await eventually(lambda: _true(second.published == 3))
        assert first.published == 0
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.gather(t1, t2)


async def _true(value: bool) -> bool:
    return value


async def test_a_busy_relay_lingers_so_one_pass_carries_many_commits(
    service_db, topic, producer: AIOKafkaProducer
) -> None:
    relay = OutboxRelay(
        dsn=service_db.dsn,
        schema="svc",
        producer=producer,
        poll_interval=60,
        linger_per_row=3.0,
        max_linger=3.0,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _true(relay.is_leader), timeout=30, what="the relay leading")
        before = relay.passes
        aggregate = uuid.uuid4()
        await _emit(service_db, topic, aggregate, 1)  # after a quiet spell: published at once
        await eventually(lambda: _true(relay.passes == before + 1), timeout=30, what="a pass")
        await _emit(service_db, topic, aggregate, 10)  # ten commits while the relay lingers
        await eventually(lambda: _all_published(service_db), timeout=30, what="all published")
        assert relay.passes == before + 2  # the ten went in one pass, not one pass each
    finally:
        stop.set()
        await task


def test_the_linger_grows_with_the_rows_a_pass_carried_up_to_its_most() -> None:
    assert linger_after(1, LINGER_PER_ROW, MAX_LINGER) == LINGER_PER_ROW
    assert linger_after(4, 0.005, 0.1) == 0.02
    assert linger_after(500, 0.005, 0.1) == 0.1

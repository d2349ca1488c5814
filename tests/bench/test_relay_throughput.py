"""Outbox relay throughput against raw aiokafka produce throughput, 1 KB payloads, same run."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid

import asyncpg
import orjson
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from gmirs_runtime.db import asyncpg_dsn, create_engine
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.eventing.relay import OutboxRelay
from gmirs_runtime.eventing.tables import add_outbox_parking, create_eventing_tables

pytestmark = pytest.mark.bench
EVENTS = int(os.environ.get("BENCH_RELAY_EVENTS", "50000"))
PAYLOAD = {"blob": "x" * 1000}  # about 1 KB of JSON


async def _schema(database_url: str) -> None:
    engine = create_engine(database_url, schema="bench", application_name="bench")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA bench"))
        await conn.run_sync(_create_tables)
    await engine.dispose()


def _create_tables(sync_conn: object) -> None:
    ops = Operations(MigrationContext.configure(sync_conn))  # type: ignore[arg-type]
    create_eventing_tables(ops, "bench")
    add_outbox_parking(ops, "bench")


async def _fill_outbox(dsn: str, topic: str, n: int) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "bench"})
    payload = orjson.dumps(PAYLOAD).decode()
    rows = [
        (uuid.uuid4(), "bench", uuid.uuid4(), "gmirs.bench.tick.v1", topic, "/gmirs/bench", payload)
        for _ in range(n)
    ]
    await conn.executemany(
        "INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, source, time, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6, now(), $7::jsonb)",
        rows,
    )
    await conn.close()


def _records(n: int) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Keys and CloudEvents headers like the relay's, built before timing starts."""
    records = []
    for _ in range(n):
        event = Event(
            type="gmirs.bench.tick.v1", source="/gmirs/bench", subject=uuid.uuid4(), data={}
        )
        records.append((event.key, to_headers(event)))
    return records


async def _raw_rate(producer, topic: str) -> float:
    """The floor: aiokafka sending the same records (key, 1 KB value, CloudEvents headers) directly."""
    value = orjson.dumps(PAYLOAD)
    records = _records(EVENTS)
    started = time.perf_counter()
    futures = [
        await producer.send(topic, value=value, key=key, headers=headers)
        for key, headers in records
    ]
    await asyncio.gather(*futures)
    return EVENTS / (time.perf_counter() - started)


async def _relay_rate(dsn: str, producer, topic: str) -> float:
    await _fill_outbox(dsn, topic, EVENTS)
    relay = OutboxRelay(dsn=dsn, schema="bench", producer=producer)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "bench"})
    reader = await asyncpg.connect(dsn, server_settings={"search_path": "bench"})
    try:
        started = time.perf_counter()
        published = await relay.drain(conn, reader)
        elapsed = time.perf_counter() - started
        assert published == EVENTS
        await conn.execute("TRUNCATE outbox")
    finally:
        await conn.close()
        await reader.close()
    return published / elapsed


async def test_relay_against_raw_produce(database_url, kafka_broker, unique_name, report) -> None:
    """Three rounds, alternating floor and relay so background noise hits both alike; medians reported."""
    options = KafkaOptions(bootstrap_servers=kafka_broker.bootstrap, client_id="bench")
    producer = create_producer(options)
    await producer.start()
    await _schema(database_url)
    dsn = asyncpg_dsn(database_url)
    raw, relayed = [], []
    try:
        await (await producer.send(unique_name("warm"), value=b"{}", key=b"warm"))
        for _ in range(3):
            raw.append(await _raw_rate(producer, unique_name("raw")))
            relayed.append(await _relay_rate(dsn, producer, unique_name("relay")))
    finally:
        await producer.stop()
    raw_rate, relay_rate = statistics.median(raw), statistics.median(relayed)
    report.append(
        f"outbox relay: {relay_rate:,.0f} events/s  |  floor, aiokafka sending the same records: {raw_rate:,.0f} msg/s"
        f"  |  ratio {relay_rate / raw_rate:.2f} (aim >= 0.5)  [median of 3 x {EVENTS:,} x 1 KB]"
    )

"""The plugin's fixtures as a service test would use them."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.local.tansu import TansuBroker
from gmirs_runtime.testing.kafka import wait_for_records

_databases_seen: list[str] = []


async def test_database_and_broker_together(
    database_url: str, kafka_broker: TansuBroker, unique_name: Callable[[str], str]
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE TABLE outbox (id int PRIMARY KEY, body bytea)")
        await conn.execute("INSERT INTO outbox VALUES (1, 'hello')")
        body = await conn.fetchval("SELECT body FROM outbox WHERE id = 1")
    finally:
        await conn.close()

    topic = unique_name("plugin")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, body, key=b"1")
    finally:
        await producer.stop()
    records = await wait_for_records(kafka_broker.bootstrap, topic, lambda r: r.key == b"1")
    assert [r.value for r in records] == [b"hello"]


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_its_own_empty_database(
    run: int, database_url: str, postgres_server: EmbeddedPostgres
) -> None:
    assert database_url.startswith(f"postgresql://postgres@127.0.0.1:{postgres_server.port}/t_")
    assert database_url not in _databases_seen
    _databases_seen.append(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('probe')") is None  # nothing left by others
        await conn.execute("CREATE TABLE probe (run int)")
        await conn.execute("INSERT INTO probe VALUES ($1)", run)
    finally:
        await conn.close()


async def test_databases_are_dropped_after_their_test(postgres_server: EmbeddedPostgres) -> None:
    if not _databases_seen:
        pytest.skip("runs after test_each_test_gets_its_own_empty_database")
    names = [url.rsplit("/", 1)[1] for url in _databases_seen]
    conn = await asyncpg.connect(postgres_server.admin_dsn)
    try:
        left = await conn.fetch("SELECT datname FROM pg_database WHERE datname = any($1)", names)
    finally:
        await conn.close()
    assert left == []


def test_unique_names_differ_and_keep_their_prefix(unique_name: Callable[[str], str]) -> None:
    names = {unique_name("orders") for _ in range(100)}
    assert len(names) == 100
    assert all(name.startswith("orders-") for name in names)


def test_span_exporter_captures_spans_of_the_global_provider(
    span_exporter: InMemorySpanExporter,
) -> None:
    assert span_exporter.get_finished_spans() == ()  # cleared before each test
    with trace.get_tracer("plugin-test").start_as_current_span("work") as span:
        span.set_attribute("step", 1)
    [finished] = span_exporter.get_finished_spans()
    assert finished.name == "work"
    assert finished.attributes == {"step": 1}


def test_span_exporter_is_cleared_between_tests(span_exporter: InMemorySpanExporter) -> None:
    with trace.get_tracer("plugin-test").start_as_current_span("left-behind"):
        pass
    assert len(span_exporter.get_finished_spans()) == 1

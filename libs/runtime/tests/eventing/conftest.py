"""A throwaway service schema with the eventing tables and a toy aggregate, on real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gmirs_runtime.audit import create_audit_table
from gmirs_runtime.db import UnitOfWork, asyncpg_dsn, create_engine
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.eventing.tables import add_outbox_parking, create_eventing_tables

SCHEMA = "svc"


@dataclass
class ServiceDb:
    url: str
    dsn: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, source="/gmirs/test")

    async def counter(self, aggregate_id: uuid.UUID) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                text("SELECT count FROM counters WHERE id = :id"), {"id": aggregate_id}
            )
        return int(value or 0)

    async def scalar(self, sql: str) -> object:
        async with self.engine.connect() as conn:
            return await conn.scalar(text(sql))


def _migrate(sync_conn: object) -> None:
    ops = Operations(MigrationContext.configure(sync_conn))  # type: ignore[arg-type]
    create_eventing_tables(ops, SCHEMA)
    add_outbox_parking(ops, SCHEMA)
    create_audit_table(ops, SCHEMA)


@pytest.fixture
async def service_db(database_url: str) -> AsyncIterator[ServiceDb]:
    engine = create_engine(database_url, schema=SCHEMA, application_name="test")
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(_migrate)
        await conn.execute(
            text("CREATE TABLE svc.counters (id uuid PRIMARY KEY, count int NOT NULL)")
        )
    try:
        yield ServiceDb(
            database_url,
            asyncpg_dsn(database_url),
            engine,
            async_sessionmaker(engine, expire_on_commit=False),
        )
    finally:
        await engine.dispose()


@pytest.fixture
def kafka_options(kafka_broker: object) -> KafkaOptions:
    return KafkaOptions(
        bootstrap_servers=kafka_broker.bootstrap,  # type: ignore[attr-defined]
        client_id="eventing-test",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        fetch_max_wait_ms=20,
    )


@pytest.fixture
async def producer(kafka_options: KafkaOptions) -> AsyncIterator[AIOKafkaProducer]:
    p = create_producer(kafka_options)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


@pytest.fixture
def topic(unique_name: Callable[[str], str]) -> str:
    return unique_name("topic")

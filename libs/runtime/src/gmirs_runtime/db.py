"""Database access: one async engine per process and a unit of work that owns the transaction.

Handlers change state and emit events through the unit of work; only the unit of work commits,
so a state change and its outbox rows are always one atomic write (no dual writes).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

import orjson
from opentelemetry.context import Context
from sqlalchemy import event, exc, insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.errors import EventTooLargeError
from gmirs_runtime.eventing.kafka import DEFAULT_MAX_REQUEST_SIZE, record_size
from gmirs_runtime.eventing.tables import outbox
from gmirs_runtime.fair_pool import FairAsyncPool
from gmirs_runtime.telemetry import current_traceparent


def sqlalchemy_url(url: str) -> str:
    """Normalise a PostgreSQL URL to the asyncpg dialect SQLAlchemy needs."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("database URL must be a postgresql:// URL")


def asyncpg_dsn(url: str) -> str:
    """The same URL in the plain form asyncpg itself accepts."""
    return "postgresql://" + sqlalchemy_url(url)[len("postgresql+asyncpg://") :]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


PING_AFTER_IDLE_SECONDS = 5.0
"""A pooled connection unused for this long is checked before it is handed out again."""


def create_engine(
    url: str,
    *,
    schema: str,
    application_name: str,
    pool_size: int = 10,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
) -> AsyncEngine:
    """An engine whose connections see only the service's own schema (search_path).

    Up to twice `pool_size` connections are opened, as they are needed, and stay open; past that,
    callers wait their turn (`fair_pool`). The second `pool_size` used to be overflow, closed
    whenever it came back to a pool holding `pool_size` idle: under a steady load that happens
    between bursts, so connections were opened and closed all through it (the caseload bench
    spent 3% of the process's CPU connecting, besides a PostgreSQL backend started for each).
    See `_ping_idle_connections` for how dead connections are kept out.
    """
    engine = create_async_engine(
        sqlalchemy_url(url),
        poolclass=FairAsyncPool,
        pool_size=2 * pool_size,
        max_overflow=0,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        connect_args={
            "server_settings": {"search_path": schema, "application_name": application_name}
        },
    )
    _ping_idle_connections(engine, ping_after_idle)
    return engine


def _ping_idle_connections(engine: AsyncEngine, after_seconds: float) -> None:
    """Check a connection on checkout only if it sat idle in the pool for `after_seconds`.

    SQLAlchemy's `pool_pre_ping` pings on every checkout, and the asyncpg dialect's ping is three
    round trips (BEGIN, an empty query, ROLLBACK): a tenth of intake's CPU on the SQS path. A
    connection in constant use needs no ping: if the server dies under it, the failing statement
    is seen as a disconnect and SQLAlchemy invalidates the whole pool, so only the statements in
    flight at that moment fail (and are retried as infrastructure failures). What a ping is for
    is the connection that waited in the pool while the server restarted or a firewall dropped it.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned_at = record.info.pop("returned_at", None)
        if returned_at is None or time.monotonic() - returned_at < after_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:  # the pool discards it and tries a fresh connection
            raise exc.DisconnectionError() from error


class PublishedType(Protocol):
    """What the runtime needs to know of a published event type (see gmirs_contracts.registry)."""

    @property
    def ce_type(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def dataschema(self) -> str: ...


class Payload(Protocol):
    def to_data(self) -> dict[str, Any]: ...


class EventQueue:
    """The events one change emits, each with its topic and aggregate, until they are written to
    the outbox in the change's own transaction (the unit of work's, or a route's one statement)."""

    def __init__(self, *, source: str, max_event_bytes: int = DEFAULT_MAX_REQUEST_SIZE) -> None:
        self._source = source
        self._max_event_bytes = max_event_bytes
        self._events: list[tuple[str, str, Event]] = []

    def emit(
        self,
        *,
        topic: str,
        event_type: str,
        aggregate_type: str,
        aggregate_id: uuid.UUID,
        data: Mapping[str, Any],
        dataschema: str | None = None,
        trace_context: Context | None = None,
    ) -> Event:
        """Queue an event for the outbox; the relay publishes it once it is committed.

        It continues the current trace, or `trace_context` when the work is done on another's
        behalf (a batch written for several requests). An event larger than the producer's
        `max_request_size` raises EventTooLargeError: the relay could never publish it.
        """
        traceparent, tracestate = current_traceparent(trace_context)
        event = Event(
            type=event_type,
            source=self._source,
            subject=aggregate_id,
            data=data,
            dataschema=dataschema,
            traceparent=traceparent,
            tracestate=tracestate,
        )
        size = record_size(event)
        if size > self._max_event_bytes:
            raise EventTooLargeError(event_type, size, self._max_event_bytes)
        self._events.append((topic, aggregate_type, event))
        return event

    def publish(
        self,
        contract: PublishedType,
        payload: Payload | Mapping[str, Any],
        *,
        aggregate_type: str,
        aggregate_id: uuid.UUID,
        trace_context: Context | None = None,
    ) -> Event:
        """Emit a published event type: topic and schema come from its contract.

        `payload` is the contract model, or its data already dumped (when the caller kept it).
        """
        data = payload if isinstance(payload, Mapping) else payload.to_data()
        return self.emit(
            topic=contract.topic,
            event_type=contract.ce_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            data=data,
            dataschema=contract.dataschema,
            trace_context=trace_context,
        )

    @property
    def emitted(self) -> list[Event]:
        return [event for _, _, event in self._events]

    def outbox_rows(self) -> list[dict[str, Any]]:
        """The queued events as outbox rows (the table's columns), in the order emitted."""
        return [_outbox_row(*queued) for queued in self._events]

    def clear(self) -> None:
        self._events = []


class UnitOfWork(EventQueue):
    """One transaction. Use `async with uow:` then `await uow.commit()`; leaving uncommitted rolls back.

    Its events (`emit`, `publish`) are written to the outbox when it commits, in the same
    transaction as the change they announce."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        max_event_bytes: int = DEFAULT_MAX_REQUEST_SIZE,
    ) -> None:
        super().__init__(source=source, max_event_bytes=max_event_bytes)
        self._sessions = sessions
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self.clear()
        self._before_commit = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()

    async def read_without_transaction(self) -> None:
        """Run this unit of work's statements in autocommit mode, before the first of them.

        For a lone read that needs no transaction (a check before calling another system): the
        statement sees committed data just as it would inside one, and the BEGIN and ROLLBACK
        round trips, two of its three, are saved.
        """
        if self.session.in_transaction():
            raise RuntimeError("read_without_transaction must come before the first statement")
        await self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

    def before_commit(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` inside this transaction when it next commits (not if it rolls back).

        For work that must see everything the transaction did, whoever commits it: the case
        service moves a case's version past a write and answers its new ETag this way.
        """
        self._before_commit.append(step)

    async def commit(self) -> None:
        """Run the before-commit steps, write queued events to the outbox, commit it all at once."""
        steps, self._before_commit = self._before_commit, []
        for step in steps:
            await step()
        rows = self.outbox_rows()
        if rows:
            await self.session.execute(insert(outbox), rows)
        await self.session.commit()
        self.clear()

    async def rollback(self) -> None:
        await self.session.rollback()
        self.clear()
        self._before_commit = []


def _outbox_row(topic: str, aggregate_type: str, event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "aggregatetype": aggregate_type,
        "aggregateid": event.subject,
        "type": event.type,
        "topic": topic,
        "source": event.source,
        "time": event.time,
        "dataschema": event.dataschema,
        "payload": dict(event.data),
        "traceparent": event.traceparent,
        "tracestate": event.tracestate,
    }

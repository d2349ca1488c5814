"""The outbox relay: publishes committed outbox rows to Kafka, one leader per service schema.

Rows are read by the `published_at IS NULL` flag in id order (never an "id > last seen"
watermark, which skips rows from transactions that commit late) and are marked published only
after the broker has acknowledged every record of the batch. A crash between the two publishes a
batch again; consumers' inboxes absorb that. A session-level advisory lock elects the leader, so
several replicas never reorder one aggregate's events; LISTEN/NOTIFY wakes it, polling backs it up.

A row the producer refuses for good (a record over `max_request_size`) is parked with its reason
instead of being retried forever: an error is logged, `gmirs.outbox.parked` counts it, and the
operators see it (`GET /operator/outbox`, `gmirs-<service> outbox list`) and retry or discard it.
Later rows of the same aggregate are held behind a parked row, so its order is never broken;
other aggregates keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from opentelemetry import metrics, trace

from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.eventing.tables import notify_channel
from gmirs_runtime.telemetry import context_from_traceparent, current_traceparent
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_SELECT = """
SELECT id, event_id, aggregateid, type, topic, source, time, dataschema, payload,
       traceparent, tracestate
FROM outbox o WHERE published_at IS NULL AND parked_at IS NULL AND id > $1
AND NOT EXISTS (
    SELECT FROM outbox p
    WHERE p.parked_at IS NOT NULL AND p.aggregateid = o.aggregateid AND p.id < o.id
)
ORDER BY id LIMIT $2
"""
_MARK = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"
_PARK = "UPDATE outbox SET parked_at = now(), parked_reason = $2 WHERE id = $1"

LINGER_PER_ROW = 0.005
MAX_LINGER = 0.1
"""After a pass that published n rows, wait min(n x LINGER_PER_ROW, MAX_LINGER) before the next.
A pass costs two reads, a mark and a produce request whatever it carries, so under a steady load
each pass should take the rows of many commits: at 700 attendances a second the case process's
CPU per attendance was 1.30 ms with a fixed 25 ms linger and 1.15-1.20 ms with 100 ms. A quiet
relay's pass carries one row and waits 5 ms, so a trickle of events is not held back (the fixed
25 ms held each non-attendance that long); a busy one's waits grow with its passes up to 100 ms,
against a 24-hour promise (Kafka's own producers linger 5 to 100 ms for the same reason)."""


def linger_after(published: int, per_row: float, most: float) -> float:
    """How long to wait after a pass that published `published` rows."""
    return min(published * per_row, most)


UNPUBLISHABLE: tuple[type[Exception], ...] = (MessageSizeTooLargeError,)
"""Producer errors that retrying the same record can never get past."""

Stuck = tuple[Any, Exception]


class OutboxRelay:
    """Drains one schema's outbox into Kafka while it holds that schema's leader lock."""

    def __init__(
        self,
        *,
        dsn: str,
        schema: str,
        producer: AIOKafkaProducer,
        batch_size: int = 2000,
        poll_interval: float = 1.0,
        retry_interval: float = 2.0,
        linger_per_row: float = LINGER_PER_ROW,
        max_linger: float = MAX_LINGER,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._linger_per_row = linger_per_row
        self._max_linger = max_linger
        self._retry_interval = retry_interval
        self.is_leader = False
        self.published = 0
        self.passes = 0
        """Passes that published something (a busy relay's rows per pass: published / passes)."""
        self.parked = 0
        self._parked_counter = metrics.get_meter(
            __name__, meter_provider=meter_provider
        ).create_counter(
            "gmirs.outbox.parked",
            unit="{row}",
            description="Outbox rows the producer refused for good, parked for an operator.",
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, re-electing and reconnecting after failures."""
        while not stop.is_set():
            try:
                await self._lead(stop)
            except (TimeoutError, OSError, asyncpg.PostgresError, KafkaError) as exc:
                log.warning("outbox relay interrupted", extra={"error_class": type(exc).__name__})
            await first_of(stop, timeout=self._retry_interval)

    async def _lead(self, stop: asyncio.Event) -> None:
        settings = {"search_path": self._schema, "application_name": "outbox-relay"}
        conn = await asyncpg.connect(self._dsn, server_settings=settings)
        reader: asyncpg.Connection | None = None
        try:
            lock_name = f"gmirs_outbox:{self._schema}"
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_name):
                return
            self.is_leader = True
            reader = await asyncpg.connect(self._dsn, server_settings=settings)
            wake = asyncio.Event()
            await conn.add_listener(notify_channel(self._schema), lambda *_: wake.set())
            while not stop.is_set():
                wake.clear()
                if published := await self.drain(conn, reader):
                    self.passes += 1
                    linger = linger_after(published, self._linger_per_row, self._max_linger)
                    await first_of(stop, timeout=linger)  # busy: let the next rows gather
                await first_of(wake, stop, timeout=self._poll_interval)
        finally:
            self.is_leader = False
            for connection in (reader, conn):
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()

    async def drain(self, conn: asyncpg.Connection, reader: asyncpg.Connection) -> int:
        """Publish every unpublished row, batch by batch; return how many were published.

        Three things overlap: `reader` fetches the next batch while this one is handed to the
        producer, and `conn` marks the previous batch while this one waits for acknowledgements.
        A batch is marked only after all its records were acknowledged. Within one pass batches
        follow id order; a row that commits late is left for the next pass (rows of one aggregate
        are written under that aggregate's lock, so its events still leave in commit order).
        A row the producer refuses for good is parked after the rows before it are marked, and
        the pass starts again, now holding back the later rows of that aggregate.
        """
        total, acknowledged = 0, None
        rows = await reader.fetch(_SELECT, 0, self._batch_size)
        while rows:
            following = asyncio.ensure_future(
                reader.fetch(_SELECT, rows[-1]["id"], self._batch_size)
            )
            try:
                pending, stuck = await self._send_until_stuck(rows)
                if acknowledged:
                    await self._mark(conn, acknowledged)
                await asyncio.gather(*pending)
            except BaseException:
                await _cancel(following)
                raise
            acknowledged = [row["id"] for row in rows[: len(pending)]]
            total += len(acknowledged)
            if stuck is None:
                rows = await following
                continue
            await _cancel(following)
            await self._mark(conn, acknowledged)
            acknowledged = None
            await self._park(conn, *stuck)
            rows = await reader.fetch(_SELECT, 0, self._batch_size)
        if acknowledged:
            await self._mark(conn, acknowledged)
        return total

    async def _send_until_stuck(self, rows: list[Any]) -> tuple[list[Any], Stuck | None]:
        """Queue the rows in order up to the first the producer refuses for good (if any)."""
        pending = []
        for row in rows:
            try:
                pending.append(await self._send(row))
            except UNPUBLISHABLE as exc:
                return pending, (row, exc)
        return pending, None

    async def _park(self, conn: asyncpg.Connection, row: Any, exc: Exception) -> None:
        """Set the row aside with its reason and raise the alarm (no payload, no personal data)."""
        reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON]
        await conn.execute(_PARK, row["id"], reason)
        self.parked += 1
        self._parked_counter.add(1, {"topic": row["topic"], "error_class": type(exc).__name__})
        log.error(
            "outbox row cannot be published: parked for an operator; later events of its "
            "aggregate are held behind it",
            extra={
                "event_id": str(row["event_id"]),
                "event_type": row["type"],
                "topic": row["topic"],
                "aggregate_id": str(row["aggregateid"]),
                "error_class": type(exc).__name__,
            },
        )

    async def _mark(self, conn: asyncpg.Connection, ids: list[int]) -> None:
        await conn.execute(_MARK, ids)
        self.published += len(ids)

    async def _send(self, row: Any) -> Any:
        """Queue one record; returns the future that resolves when the broker acknowledges it."""
        event = _event(row)
        value = row["payload"].encode()
        if event.traceparent is None:
            return await self._producer.send(
                row["topic"], value=value, key=event.key, headers=to_headers(event)
            )
        parent = context_from_traceparent(event.traceparent, event.tracestate)
        with tracer.start_as_current_span(
            f"send {row['topic']}",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.name": "send",
                "messaging.destination.name": row["topic"],
                "messaging.message.id": str(event.id),
            },
        ):
            traceparent, tracestate = current_traceparent()
            event = replace(event, traceparent=traceparent, tracestate=tracestate)
            return await self._producer.send(
                row["topic"], value=value, key=event.key, headers=to_headers(event)
            )


MAX_REASON = 400


async def _cancel(future: asyncio.Future[Any]) -> None:
    future.cancel()
    with contextlib.suppress(BaseException):
        await future


def _event(row: Any) -> Event:
    """The row's CloudEvent attributes (data travels separately as the raw JSON value)."""
    return Event(
        type=row["type"],
        source=row["source"],
        subject=row["aggregateid"],
        data={},
        id=row["event_id"],
        time=row["time"],
        dataschema=row["dataschema"],
        traceparent=row["traceparent"],
        tracestate=row["tracestate"],
    )

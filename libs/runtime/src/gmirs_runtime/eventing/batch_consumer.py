"""A consumer for projections: a whole fetch applied in one transaction by one batch handler.

`EventConsumer` calls a handler per event (an inbox statement and the handler's own statements
for each), which suits services acting on events. A read model fed by thousands of events a
second needs set-at-a-time writes instead: here every record of one `getmany` is decoded and
parsed first, the inbox claims them all in one statement (`inbox.claim_many`: the ids it
returns are the new ones, the rest are duplicates), and the handler receives the new ones
together, in topic order, to write with a few multi-row statements.

Per-event guarantees are kept: a record that is not a CloudEvent, or whose payload its contract
refuses, is dead-lettered with its reason before the batch is applied; if the batch's
transaction fails for any other reason than the database or network, it is rolled back and its
events are applied one at a time (in-place retries, then the dead-letter topic for the one
that keeps failing), so one bad event cannot hold back the rest. Outages are waited out.
Offsets are committed after the database commits, as in `EventConsumer`. The cyclic garbage
collector is paused while a batch is worked on (see `eventing.collector` for why).

`group` names the inbox rows and the dead-letter and retry topics; `kafka_group` (default the
same) is the Kafka consumer group, so a projection can read the topics again under a new group
(a rebuild) while keeping one inbox and one set of dead letters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry import trace

from gmirs_runtime.eventing import inbox
from gmirs_runtime.eventing.collector import collector_paused, collector_resumed
from gmirs_runtime.eventing.consumer import (
    ConsumerStats,
    Record,
    RetryPolicy,
    commit_offsets,
    raw,
    send_dead_letter,
)
from gmirs_runtime.eventing.envelope import Event, MalformedEvent, from_record
from gmirs_runtime.eventing.errors import UnprocessableEvent, is_infrastructure_failure, parse_data
from gmirs_runtime.eventing.kafka import KafkaOptions, create_consumer
from gmirs_runtime.eventing.subscriptions import ConsumedType, U
from gmirs_runtime.eventing.topics import retry_topic, source_topic
from gmirs_runtime.telemetry import context_from_traceparent

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
_SAMPLED = 0x01
"""The W3C trace-flags bit saying the trace is recorded."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """An event with its payload parsed by its contract's model, and where it was read."""

    payload: Any
    event: Event
    record: Record

    @property
    def delivery(self) -> inbox.Delivery:
        r = self.record
        return inbox.Delivery(self.event, r.topic, r.partition, r.offset)


BatchHandler = Callable[[Sequence[Parsed], U], Awaitable[None]]
"""`handler(items, uow)`: new events only (duplicates dropped), in the order they were read."""


@dataclass(frozen=True, slots=True)
class HandlesBatches(Generic[U]):
    """`handler` for every event of `contracts` (by CloudEvents type); other types are ignored."""

    contracts: Sequence[ConsumedType[Any]]
    handler: BatchHandler[U]


@dataclass
class BatchConsumer(Generic[U]):
    """One consumer group member applying each fetch of `topics` in one transaction."""

    group: str
    topics: Sequence[str]
    handles: HandlesBatches[U]
    unit_of_work: Callable[[], U]
    kafka: KafkaOptions
    producer: AIOKafkaProducer
    kafka_group: str | None = None
    max_records: int = 5000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats: ConsumerStats = field(default_factory=ConsumerStats)
    assigned: asyncio.Event = field(default_factory=asyncio.Event)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    _models: Mapping[str, ConsumedType[Any]] = field(init=False, repr=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._models = {c.ce_type: c for c in self.handles.contracts}
        if len(self._models) != len(self.handles.contracts):
            raise ValueError("a contract is subscribed twice")

    @property
    def subscribed_topics(self) -> list[str]:
        return [*self.topics, *(retry_topic(t, self.group) for t in self.topics)]

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the current batch is finished first."""
        consumer = create_consumer(
            self.kafka, self.kafka_group or self.group, self.subscribed_topics
        )
        await consumer.start()
        self._consumer = consumer
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.max_records)
                if consumer.assignment():
                    self.assigned.set()
                records = [r for partition in batches.values() for r in partition]
                if not records:
                    continue
                with collector_paused():
                    await self._process(records)
                offsets = {tp: rs[-1].offset + 1 for tp, rs in batches.items()}
                await commit_offsets(consumer, offsets)
                self.committed.update(offsets)
        finally:
            self._consumer = None
            await consumer.stop()

    async def lag(self) -> int | None:
        """Records on this member's partitions not yet applied; None before it has partitions."""
        consumer = self._consumer
        if consumer is None or not consumer.assignment():
            return None
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        positions = {tp: await consumer.position(tp) for tp in partitions}
        return sum(
            int(max(0, ends[tp] - self.committed.get(tp, positions[tp]))) for tp in partitions
        )

    async def _process(self, records: Sequence[Record]) -> None:
        items = await self._parse_all(records)
        if not items:
            return
        while True:
            try:
                started = time.time_ns()
                with tracer.start_as_current_span(
                    f"process batch {self.group}",
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.operation.name": "process",
                        "messaging.consumer.group.name": self.group,
                        "messaging.batch.message_count": len(items),
                    },
                ) as batch:
                    await self._apply(items)
                self._trace_each(items, batch.get_span_context(), started)
                return
            except Exception as exc:
                if not is_infrastructure_failure(exc):
                    log.info(
                        "batch fell back to single events",
                        extra={"error_class": type(exc).__name__},
                    )
                    break
                log.warning("batch failed, retrying", exc_info=True)
                with collector_resumed():
                    await asyncio.sleep(self.retry.max_backoff)
        for item in items:
            await self._process_one(item)

    def _trace_each(self, items: Sequence[Parsed], batch: trace.SpanContext, started: int) -> None:
        """A `process <topic>` span in each sampled event's own trace, spanning the batch that
        applied it and linked to it: operators follow one referral's path into this service as
        they do into the per-event consumers (unsampled events cost nothing here)."""
        for item in items:
            traceparent = item.event.traceparent
            if not traceparent or not int(traceparent[-2:], 16) & _SAMPLED:
                continue
            tracer.start_span(
                f"process {source_topic(item.record.topic, self.group)}",
                context=context_from_traceparent(traceparent, item.event.tracestate),
                kind=trace.SpanKind.CONSUMER,
                links=[trace.Link(batch)],
                start_time=started,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.name": "process",
                    "messaging.destination.name": item.record.topic,
                    "messaging.consumer.group.name": self.group,
                    "messaging.message.id": str(item.event.id),
                    "cloudevents.event_type": item.event.type,
                },
            ).end()

    async def _parse_all(self, records: Sequence[Record]) -> list[Parsed]:
        """The batch's new-to-it events, parsed; unusable ones are dead-lettered now."""
        items: list[Parsed] = []
        seen: set[Any] = set()
        for record in records:
            try:
                event = from_record(*raw(record))
                contract = self._models.get(event.type)
                if contract is None:
                    self.stats.ignored += 1
                    continue
                payload = parse_data(contract.model.parse_tolerant, event.data)
            except (MalformedEvent, UnprocessableEvent) as exc:
                await self._dead_letter(record, exc, attempts=1)
                continue
            if event.id in seen:
                self.stats.duplicates += 1
                continue
            seen.add(event.id)
            items.append(Parsed(payload, event, record))
        return items

    async def _apply(self, items: Sequence[Parsed]) -> None:
        async with self.unit_of_work() as uow:
            new = await inbox.claim_many(
                uow.session, group=self.group, deliveries=[i.delivery for i in items]
            )
            # The batch holds no id twice (see _parse_all): as many claimed as read, all are new.
            fresh = items if len(new) == len(items) else [i for i in items if i.event.id in new]
            if fresh:
                await self.handles.handler(fresh, uow)
            await uow.commit()
        self.stats.applied += len(fresh)
        self.stats.duplicates += len(items) - len(fresh)

    async def _process_one(self, item: Parsed) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply([item])
                return
            except UnprocessableEvent as exc:
                await self._dead_letter(item, exc, attempts=attempt)
                return
            except Exception as exc:
                if not is_infrastructure_failure(exc) and attempt >= self.retry.attempts:
                    await self._dead_letter(item, exc, attempts=attempt)
                    return
                log.warning(
                    "event failed, retrying", extra={"event_id": str(item.event.id)}, exc_info=True
                )
                with collector_resumed():
                    await asyncio.sleep(self.retry.backoff(min(attempt, self.retry.attempts)))

    async def _dead_letter(
        self, item: Record | Parsed, exc: BaseException, *, attempts: int
    ) -> None:
        record = item.record if isinstance(item, Parsed) else item
        await send_dead_letter(self.producer, record, self.group, exc, attempts=attempts)
        self.stats.dead_lettered += 1

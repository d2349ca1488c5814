"""The consumer loop: apply each event once, commit offsets only after the database commits.

Each partition's records are first applied together in one transaction (fast path for replays
and rebuilds); if anything in the batch fails, the batch is rolled back and its records are
applied one at a time, so one bad record cannot hold back or corrupt the others. A record that
keeps failing goes to the group's dead-letter topic with its reason; a database or network
outage is waited out instead, because dead-lettering every record during an outage loses order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Protocol, TypeAlias

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import trace

from gmirs_runtime.eventing import inbox
from gmirs_runtime.eventing.dead_letters import dead_letter_headers
from gmirs_runtime.eventing.envelope import Event, MalformedEvent, from_record
from gmirs_runtime.eventing.errors import (
    UnprocessableEvent,
    describe_error,
    is_infrastructure_failure,
)
from gmirs_runtime.eventing.kafka import KafkaOptions, create_consumer
from gmirs_runtime.eventing.subscriptions import Handles, U, by_type
from gmirs_runtime.eventing.topics import dead_letter_topic, retry_topic, source_topic
from gmirs_runtime.telemetry import context_from_traceparent

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """In-place retries keep a partition in order; after `attempts` the record is dead-lettered."""

    attempts: int = 4
    initial_backoff: float = 0.2
    max_backoff: float = 5.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1)))


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass
class ConsumerStats:
    """What this member did since it started (tests and metrics read it)."""

    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0

    def count(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            if outcome is Outcome.APPLIED:
                self.applied += 1
            elif outcome is Outcome.DUPLICATE:
                self.duplicates += 1
            else:
                self.ignored += 1


class ConsumerMember(Protocol):
    """What a service process runs and reports for any consumer (per event, or in batches)."""

    @property
    def group(self) -> str: ...
    @property
    def topics(self) -> Sequence[str]: ...
    @property
    def stats(self) -> ConsumerStats: ...
    @property
    def assigned(self) -> asyncio.Event: ...
    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass
class EventConsumer(Generic[U]):
    """One consumer group member applying its subscriptions (by CloudEvents type) to `topics`."""

    group: str
    topics: Sequence[str]
    subscriptions: Sequence[Handles[Any, U]]
    unit_of_work: Callable[[], U]
    kafka: KafkaOptions
    producer: AIOKafkaProducer
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats: ConsumerStats = field(default_factory=ConsumerStats)
    assigned: asyncio.Event = field(default_factory=asyncio.Event)
    _handlers: Mapping[str, Handles[Any, U]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._handlers = by_type(self.subscriptions)

    @property
    def subscribed_topics(self) -> list[str]:
        return [*self.topics, *(retry_topic(t, self.group) for t in self.topics)]

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the current batch is finished first."""
        consumer = create_consumer(self.kafka, self.group, self.subscribed_topics)
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200)
                if consumer.assignment():
                    self.assigned.set()
                for partition, records in batches.items():
                    await self._process_partition(records)
                    await commit_offsets(consumer, {partition: records[-1].offset + 1})
        finally:
            await consumer.stop()

    async def _process_partition(self, records: Sequence[Record]) -> None:
        if len(records) > 1:
            try:
                await self._apply_together(records)
                return
            except Exception as exc:
                log.info(
                    "batch fell back to single records", extra={"error_class": type(exc).__name__}
                )
        for record in records:
            await self._process_one(record)

    async def _apply_together(self, records: Sequence[Record]) -> None:
        async with self.unit_of_work() as uow:
            outcomes = [
                await self._apply(uow, record, from_record(*raw(record))) for record in records
            ]
            await uow.commit()
        self.stats.count(outcomes)

    async def _process_one(self, record: Record) -> None:
        try:
            event = from_record(*raw(record))
        except MalformedEvent as exc:
            await self._dead_letter(record, exc, attempts=1)
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.unit_of_work() as uow:
                    outcome = await self._apply(uow, record, event)
                    await uow.commit()
            except UnprocessableEvent as exc:
                await self._dead_letter(record, exc, attempts=attempt)
                return
            except Exception as exc:
                if not is_infrastructure_failure(exc) and attempt >= self.retry.attempts:
                    await self._dead_letter(record, exc, attempts=attempt)
                    return
                log.warning(
                    "event failed, retrying", extra={"event_id": str(event.id)}, exc_info=True
                )
                await asyncio.sleep(self.retry.backoff(min(attempt, self.retry.attempts)))
            else:
                self.stats.count([outcome])
                return

    async def _apply(self, uow: U, record: Record, event: Event) -> Outcome:
        subscription = self._handlers.get(event.type)
        if subscription is None:
            return Outcome.IGNORED
        parent = context_from_traceparent(event.traceparent, event.tracestate)
        with tracer.start_as_current_span(
            f"process {source_topic(record.topic, self.group)}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.name": "process",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": str(event.id),
                "cloudevents.event_type": event.type,
            },
        ):
            claimed = await inbox.claim(
                uow.session,
                group=self.group,
                event=event,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
            if not claimed:
                return Outcome.DUPLICATE
            await subscription.apply(event, uow)
            return Outcome.APPLIED

    async def _dead_letter(self, record: Record, exc: BaseException, *, attempts: int) -> None:
        await send_dead_letter(self.producer, record, self.group, exc, attempts=attempts)
        self.stats.dead_lettered += 1


async def send_dead_letter(
    producer: AIOKafkaProducer, record: Record, group: str, exc: BaseException, *, attempts: int
) -> None:
    """Copy `record` to `group`'s dead-letter topic with the reason in `dlt_*` headers."""
    original = source_topic(record.topic, group)
    headers = [
        *((k, v) for k, v in record.headers if not k.startswith("dlt_")),
        *dead_letter_headers(
            record, group=group, error=exc, reason=describe_error(exc), attempts=attempts
        ),
    ]
    await producer.send_and_wait(
        dead_letter_topic(original, group), key=record.key, value=record.value, headers=headers
    )
    log.error(
        "event dead-lettered",
        extra={
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "consumer_group": group,
            "error_class": type(exc).__name__,
        },
    )


def raw(record: Record) -> tuple[bytes | None, bytes | None, Any]:
    return record.key, record.value, record.headers


async def commit_offsets(consumer: Any, offsets: Mapping[TopicPartition, int]) -> None:
    """Commit after the database did; a failure only means a re-read the inbox absorbs."""
    try:
        await consumer.commit(dict(offsets))
    except (CommitFailedError, KafkaError) as exc:
        # The partition moved to another member during a rebalance; it will re-read from the
        # last committed offset and the inbox will skip what was already applied.
        log.warning("offset commit failed", extra={"error_class": type(exc).__name__})

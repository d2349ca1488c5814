"""aiokafka clients configured for the platform's guarantees.

Producers wait for all in-sync replicas (acks=all). The idempotent producer is a setting because
Apache Kafka supports it and the local Tansu broker does not; correctness never depends on it,
since consumers de-duplicate through the inbox. `max_request_size` is both the producer's limit and
the one the unit of work checks each event against (`record_size`), so an event the producer
would refuse is never committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from gmirs_runtime.eventing.envelope import Event, encode_data, to_headers

DEFAULT_MAX_REQUEST_SIZE = 1_048_576
"""aiokafka's default, and Kafka's default `message.max.bytes` (about 1 MiB)."""


@dataclass(frozen=True, slots=True)
class KafkaOptions:
    """Connection and group-timing options shared by every client of one process."""

    bootstrap_servers: str
    client_id: str
    enable_idempotence: bool = False
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 500
    fetch_max_wait_ms: int = 50
    max_poll_records: int = 500
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE

    @property
    def request_timeout_ms(self) -> int:
        # Tansu holds JoinGroup for up to half the session timeout: requests must outlast that.
        return max(40000, self.session_timeout_ms * 2 + 5000)


def create_producer(options: KafkaOptions) -> AIOKafkaProducer:
    """A producer that acknowledges only after every in-sync replica has the record."""
    return AIOKafkaProducer(
        bootstrap_servers=options.bootstrap_servers,
        client_id=options.client_id,
        acks="all",
        enable_idempotence=options.enable_idempotence,
        linger_ms=1,
        max_batch_size=256 * 1024,
        max_request_size=options.max_request_size,
        request_timeout_ms=options.request_timeout_ms,
    )


def create_consumer(options: KafkaOptions, group: str, topics: list[str]) -> AIOKafkaConsumer:
    """A group member that never auto-commits: offsets move only after the database commits."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=options.bootstrap_servers,
        client_id=options.client_id,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=options.session_timeout_ms,
        heartbeat_interval_ms=options.heartbeat_interval_ms,
        fetch_max_wait_ms=options.fetch_max_wait_ms,
        max_poll_records=options.max_poll_records,
        request_timeout_ms=options.request_timeout_ms,
        metadata_max_age_ms=5000,
    )


def record_size(event: Event) -> int:
    """The bytes the producer will count for `event` (value, key and headers), as aiokafka does.

    The relay sends the payload as PostgreSQL renders JSONB, which adds a space after each `:`
    and `,` of the compact JSON; counting every `:` and `,` (those inside strings too) never
    underestimates it.
    """
    value = encode_data(event.data)
    rendered = len(value) + value.count(b":") + value.count(b",")
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(
        event.key, value, to_headers(event)
    )
    return size + rendered - len(value)

"""aiokafka clients configured for the platform's guarantees.

Producers wait for all in-sync replicas (acks=all). The idempotent producer is a setting because
Apache Kafka supports it and the local Tansu broker does not; correctness never depends on it,
since consumers de-duplicate through the inbox. `max_request_size` is both the producer's limit and
the one the unit of work checks each event against (`record_size`, an upper bound), so an event the producer
would refuse is never committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gmirs_runtime.eventing.envelope import CONTENT_TYPE, SPEC_VERSION, Event, encode_data
from gmirs_runtime.eventing.partitioner import partition_of

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
    """A producer that acknowledges only after every in-sync replica has the record; keys are
    partitioned as every Kafka client does, with a cheaper murmur2 (`partitioner`)."""
    return AIOKafkaProducer(
        bootstrap_servers=options.bootstrap_servers,
        client_id=options.client_id,
        acks="all",
        enable_idempotence=options.enable_idempotence,
        linger_ms=1,
        partitioner=partition_of,
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
    """An upper bound of the bytes the producer will count for `event` (value, key, headers).

    aiokafka's own estimate needs the header list built (tens of microseconds, on every write
    path); this bound takes the variable parts from the event, the fixed-length ones (ids,
    timestamp) at their longest and every varint at its widest, so it exceeds aiokafka's
    figure by at most about 200 bytes and is never below it. The relay sends the payload as
    PostgreSQL renders JSONB, which adds a space after each `:` and `,` of the compact JSON;
    counting every `:` and `,` (those inside strings too) never underestimates that either.
    """
    value = encode_data(event.data)
    variable = (
        len(event.source.encode())
        + len(event.type.encode())
        + len((event.dataschema or "").encode())
        + len((event.traceparent or "").encode())
        + len((event.tracestate or "").encode())
    )
    payload = len(value) + value.count(b":") + value.count(b",")
    return _RECORD_OVERHEAD + _KEY_LENGTH + _FIXED_HEADERS + variable + payload


_KEY_LENGTH = 36  # the aggregate UUID as text
_HEADER_NAMES = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "content-type",
    "ce_dataschema",
    "traceparent",
    "tracestate",
)
_LONGEST_TIME = len("2026-12-06T03:33:27.123456+00:00")
_FIXED_HEADERS = (
    sum(len(name) for name in _HEADER_NAMES)
    + len(SPEC_VERSION)
    + 36
    + _LONGEST_TIME
    + 36
    + len(CONTENT_TYPE)
)
# Batch header (61) + record length, attributes, timestamp/offset deltas, key and value lengths,
# header count (5+1+10+5+5+5+5) + a name and a value length per header (10 each).
_RECORD_OVERHEAD = 61 + 36 + 10 * len(_HEADER_NAMES)

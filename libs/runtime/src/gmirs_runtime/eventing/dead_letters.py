"""Dead letters: what a consumer group could not apply, kept in Kafka with the reason.

Each group has its own `<topic>.<group>.dlt`. Operators list and inspect dead letters straight
from that topic and replay one by re-publishing it, unchanged, to `<topic>.<group>.retry`, which
only that group reads; the inbox makes a replay of something already applied a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from gmirs_runtime.eventing.envelope import header_map
from gmirs_runtime.eventing.topics import retry_topic, source_topic

REPLAY_HEADER = "gmirs_replay_of"


def dead_letter_headers(
    record: Any, *, group: str, error: BaseException, reason: str, attempts: int
) -> list[tuple[str, bytes]]:
    """Headers that say where a dead letter came from and why it failed."""
    return [
        ("dlt_original_topic", record.topic.encode()),
        ("dlt_original_partition", str(record.partition).encode()),
        ("dlt_original_offset", str(record.offset).encode()),
        ("dlt_error_class", type(error).__name__.encode()),
        ("dlt_error_message", reason.encode()),
        ("dlt_consumer_group", group.encode()),
        ("dlt_attempts", str(attempts).encode()),
        ("dlt_at", datetime.now(UTC).isoformat().encode()),
    ]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of a dead-letter topic. `value` may hold personal data: show it only to operators."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def meta(self) -> dict[str, str]:
        return header_map(self.headers)

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith("dlt_") and k != REPLAY_HEADER]

    def summary(self) -> dict[str, Any]:
        """Everything an operator needs to decide, without the payload."""
        meta = self.meta
        return {
            "dlt_topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "event_id": meta.get("ce_id"),
            "event_type": meta.get("ce_type"),
            "original_topic": meta.get("dlt_original_topic"),
            "original_partition": _int(meta.get("dlt_original_partition")),
            "original_offset": _int(meta.get("dlt_original_offset")),
            "consumer_group": meta.get("dlt_consumer_group"),
            "error_class": meta.get("dlt_error_class"),
            "error_message": meta.get("dlt_error_message"),
            "attempts": _int(meta.get("dlt_attempts")),
            "dead_lettered_at": meta.get("dlt_at"),
        }


def _int(value: str | None) -> int | None:
    return int(value) if value and value.lstrip("-").isdigit() else None


@asynccontextmanager
async def _reader(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A started group-less consumer, stopped on exit."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=50,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        # Let aiokafka's own background task take its first step: stopped before that (a topic
        # with no partitions returns at once), the task is cancelled before it can catch the
        # cancellation, and stop() raises CancelledError (a 500 text/plain on the operator API).
        await asyncio.sleep(0)
        yield reader
    finally:
        await reader.stop()


async def read_dead_letters(
    bootstrap: str, dlt_topic: str, *, timeout: float = 10.0
) -> list[DeadLetter]:
    """Every record currently in `dlt_topic`, oldest first per partition (no group, no commits)."""
    async with _reader(bootstrap) as reader:
        # Metadata fetched at start: a topic nobody has dead-lettered to yet has no partitions.
        partitions = reader.partitions_for_topic(dlt_topic) or set()
        tps = [TopicPartition(dlt_topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        return await _read_until(reader, ends, timeout)


async def _read_until(
    reader: AIOKafkaConsumer, ends: dict[TopicPartition, int], timeout: float
) -> list[DeadLetter]:
    found: list[DeadLetter] = []
    remaining = {tp: end for tp, end in ends.items() if end > 0}
    async with asyncio.timeout(timeout):
        while remaining:
            batches = await reader.getmany(timeout_ms=200)
            for tp, records in batches.items():
                found.extend(_dead_letter(r) for r in records if r.offset < ends[tp])
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.pop(tp, None)
    return found


def _dead_letter(record: Any) -> DeadLetter:
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=tuple((k, v or b"") for k, v in record.headers),
    )


async def find_dead_letter(
    bootstrap: str, dlt_topic: str, partition: int, offset: int, *, timeout: float = 5.0
) -> DeadLetter | None:
    """The dead letter at one position, or None if there is none."""
    async with _reader(bootstrap) as reader:
        tp = TopicPartition(dlt_topic, partition)
        if partition not in (reader.partitions_for_topic(dlt_topic) or set()):
            return None
        reader.assign([tp])
        end = (await reader.end_offsets([tp]))[tp]
        if offset < 0 or offset >= end:
            return None
        reader.seek(tp, offset)
        async with asyncio.timeout(timeout):
            while True:
                for record in (await reader.getmany(tp, timeout_ms=200)).get(tp, []):
                    if record.offset == offset:
                        return _dead_letter(record)


async def replay(producer: AIOKafkaProducer, letter: DeadLetter, *, group: str) -> str:
    """Re-publish a dead letter to its group's retry topic; returns that topic."""
    original = letter.meta.get("dlt_original_topic")
    if not original:
        raise ValueError("dead letter has no dlt_original_topic header")
    topic = retry_topic(source_topic(original, group), group)
    marker = f"{letter.topic}:{letter.partition}:{letter.offset}".encode()
    headers: Sequence[tuple[str, bytes]] = [*letter.original_headers, (REPLAY_HEADER, marker)]
    await producer.send_and_wait(topic, key=letter.key, value=letter.value, headers=list(headers))
    return topic

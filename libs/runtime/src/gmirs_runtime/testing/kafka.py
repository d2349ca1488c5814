"""Test helpers that read what was really published, and wait for it without sleeping blindly.

Readers take every partition by manual assignment from the beginning, with no consumer group (so no slow
group join on Tansu) and a small fetch wait. Every wait is bounded and says what it saw when it gives up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

Record: TypeAlias = ConsumerRecord  # ConsumerRecord[bytes, bytes]: key and value are raw bytes
RecordPredicate = Callable[[Any], bool]
_POLL_MS = 100


async def read_topic(
    bootstrap: str, topic: str, *, timeout: float = 10.0, min_count: int = 0
) -> list[Record]:
    """Every record in `topic` up to its end offsets at the time of reading, ordered by (partition, offset).

    With `min_count`, keep reading until at least that many arrived. A topic that does not exist yet counts
    as empty (it is not auto-created by reading). Raises TimeoutError after `timeout` seconds.
    """
    records: list[Record] = []
    async with _TopicReader(bootstrap, topic) as reader:
        try:
            async with asyncio.timeout(timeout) as scope:
                while True:
                    records += await reader.poll()
                    if len(records) >= min_count and await reader.caught_up():
                        return sorted(records, key=lambda r: (r.partition, r.offset))
        except TimeoutError:
            if not scope.expired():
                raise
            raise TimeoutError(
                f"read_topic({topic!r}): {len(records)} records after {timeout:g}s, "
                f"wanted at least {min_count}, {reader.describe()}; {_summary(records)}"
            ) from None


async def wait_for_records(
    bootstrap: str,
    topic: str,
    predicate: RecordPredicate,
    *,
    count: int = 1,
    timeout: float = 15.0,
) -> list[Record]:
    """Read `topic` from the beginning until `count` records satisfy `predicate`; return the matches.

    The result holds every match read so far, which can be more than `count` (records arrive in batches).
    Raises TimeoutError naming what was seen if fewer than `count` match within `timeout` seconds.
    """
    seen: list[Record] = []
    matches: list[Record] = []
    async with _TopicReader(bootstrap, topic) as reader:
        try:
            async with asyncio.timeout(timeout) as scope:
                while len(matches) < count:
                    batch = await reader.poll()
                    seen += batch
                    matches += [record for record in batch if predicate(record)]
        except TimeoutError:
            if not scope.expired():
                raise
            raise TimeoutError(
                f"wait_for_records({topic!r}): {len(matches)} of {count} matching records after "
                f"{timeout:g}s; {len(seen)} records read, {reader.describe()}; {_summary(seen)}"
            ) from None
    return matches


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 15.0,
    interval: float = 0.1,
    what: str | None = None,
) -> None:
    """Await `check()` every `interval` seconds until it returns True; TimeoutError after `timeout`.

    Exceptions raised by `check` propagate at once: a broken check should fail loudly, not be retried.
    """
    attempts = 0
    try:
        async with asyncio.timeout(timeout) as scope:
            while True:
                attempts += 1
                if await check():
                    return
                await asyncio.sleep(interval)
    except TimeoutError:
        if not scope.expired():
            raise  # raised by the check itself
        name = what or getattr(check, "__qualname__", repr(check))
        raise TimeoutError(
            f"eventually: {name} still false after {timeout:g}s ({attempts} checks)"
        ) from None


class _TopicReader:
    """A group-less consumer that assigns itself all partitions of one topic once the topic exists."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.partitions: list[TopicPartition] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
            request_timeout_ms=10_000,
        )
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000)

    async def __aenter__(self) -> _TopicReader:
        await self._admin.start()
        await self._consumer.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def poll(self) -> list[Record]:
        """Records fetched in one short poll (none while the topic does not exist)."""
        if not self.partitions and not await self._assign():
            await asyncio.sleep(_POLL_MS / 1000)
            return []
        batches = await self._consumer.getmany(timeout_ms=_POLL_MS)
        return [record for batch in batches.values() for record in batch]

    async def caught_up(self) -> bool:
        """True once every partition's position reached its current end offset (or the topic is absent)."""
        if not self.partitions:
            return True
        ends = await self._consumer.end_offsets(self.partitions)
        for partition in self.partitions:
            if await self._consumer.position(partition) < ends[partition]:
                return False
        return True

    def describe(self) -> str:
        if not self.partitions:
            return "topic does not exist"
        return f"{len(self.partitions)} partitions"

    async def _assign(self) -> bool:
        # Listing all topics does not auto-create this one, unlike a metadata request naming it.
        described = await self._admin.describe_topics()
        ids = [
            p["partition"] for t in described if t["topic"] == self.topic for p in t["partitions"]
        ]
        if not ids:
            return False
        self.partitions = [TopicPartition(self.topic, i) for i in sorted(ids)]
        self._consumer.assign(self.partitions)
        await self._consumer.seek_to_beginning(*self.partitions)
        return True


def _summary(records: list[Record], last: int = 5) -> str:
    """The last few records as partition@offset, key and CloudEvents type: enough to see what went wrong."""
    if not records:
        return "nothing read"
    shown = []
    for record in records[-last:]:
        ce_type = (next((v for k, v in record.headers if k == "ce_type"), None) or b"").decode(
            errors="replace"
        )
        shown.append(
            f"p{record.partition}@{record.offset} key={record.key!r} ce_type={ce_type or '-'}"
        )
    return "last records: " + "; ".join(shown)

"""Operator actions on dead letters, shared by the HTTP API and the command line.

Listing shows reasons, never payloads. Showing a payload and replaying are audited, and each
replay is recorded so an operator can see what has already been sent back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gmirs_runtime import audit
from gmirs_runtime.eventing.dead_letters import (
    DeadLetter,
    find_dead_letter,
    read_dead_letters,
    replay,
)
from gmirs_runtime.eventing.tables import dead_letter_replays
from gmirs_runtime.eventing.topics import dead_letter_topic


class UnknownDeadLetterError(LookupError):
    """No dead letter at that position in any of this service's dead-letter topics."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A (topic, consumer group) pair whose dead letters this service owns."""

    topic: str
    group: str

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.topic, self.group)


@dataclass
class DeadLetterOperations:
    bootstrap: str
    subscriptions: Sequence[Subscription]
    sessions: async_sessionmaker[AsyncSession]
    producer: Callable[[], AIOKafkaProducer]

    async def list(self) -> list[dict[str, Any]]:
        """Summaries of every dead letter of every subscription, with replay history."""
        replays = await self._replays()
        found: list[dict[str, Any]] = []
        for sub in self.subscriptions:
            for letter in await read_dead_letters(self.bootstrap, sub.dead_letter_topic):
                summary = letter.summary()
                summary["replayed_at"] = replays.get(
                    (letter.topic, letter.partition, letter.offset)
                )
                found.append(summary)
        return found

    async def show(
        self, dlt_topic: str, partition: int, offset: int, *, actor: str, reason: str
    ) -> tuple[DeadLetter, dict[str, Any]]:
        """One dead letter with its payload; the access is audited."""
        letter = await self._find(dlt_topic, partition, offset)
        async with self.sessions() as session, session.begin():
            await audit.record(
                session,
                actor=actor,
                action="dead-letter.viewed",
                resource_type="dead-letter",
                resource_id=f"{dlt_topic}:{partition}:{offset}",
                reason=reason,
            )
        return letter, letter.summary()

    async def replay(
        self, dlt_topic: str, partition: int, offset: int, *, actor: str, reason: str
    ) -> str:
        """Send a dead letter back to its group; returns the retry topic it went to."""
        letter = await self._find(dlt_topic, partition, offset)
        group = letter.meta.get("dlt_consumer_group", "")
        target = await replay(self.producer(), letter, group=group)
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(dead_letter_replays).values(
                    consumer_group=group,
                    dlt_topic=dlt_topic,
                    dlt_partition=partition,
                    dlt_offset=offset,
                    event_id=letter.meta.get("ce_id") or None,
                    replayed_by=actor,
                )
            )
            await audit.record(
                session,
                actor=actor,
                action="dead-letter.replayed",
                resource_type="dead-letter",
                resource_id=f"{dlt_topic}:{partition}:{offset}",
                reason=reason,
            )
        return target

    async def _find(self, dlt_topic: str, partition: int, offset: int) -> DeadLetter:
        if dlt_topic not in {s.dead_letter_topic for s in self.subscriptions}:
            raise UnknownDeadLetterError(dlt_topic)
        letter = await find_dead_letter(self.bootstrap, dlt_topic, partition, offset)
        if letter is None:
            raise UnknownDeadLetterError(f"{dlt_topic}:{partition}:{offset}")
        return letter

    async def _replays(self) -> dict[tuple[str, int, int], str]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(
                    dead_letter_replays.c.dlt_topic,
                    dead_letter_replays.c.dlt_partition,
                    dead_letter_replays.c.dlt_offset,
                    dead_letter_replays.c.replayed_at,
                )
            )
            return {(r[0], r[1], r[2]): r[3].isoformat() for r in rows}

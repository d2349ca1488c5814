"""The live projection: a batch consumer under the current generation's Kafka group.

When a rebuild switches generations it records the new Kafka group; this member notices within
`poll_seconds`, finishes its batch and rejoins under that group, which starts where the
rebuild's consumer stopped. Between the switch and the rejoin it may apply events to the new
tables under the old group's offsets: the inbox was switched with the tables, so what the
rebuild applied is a duplicate there and the rest is applied once; nothing is lost either,
since the new group re-reads everything after the rebuild's last commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gmirs_metrics.adapters.facts_generations import current_generation
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.projections.project import GROUP, TOPICS, handles
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import Infrastructure
from gmirs_runtime.eventing.batch_consumer import BatchConsumer
from gmirs_runtime.eventing.consumer import ConsumerStats

log = logging.getLogger(__name__)

MemberFactory = Callable[[str], BatchConsumer[MetricsUnitOfWork]]
"""Builds the batch consumer for a Kafka group (sharing this member's stats and `assigned`)."""


def projection_consumer(
    infra: Infrastructure[MetricsUnitOfWork], settings: MetricsSettings, kafka_group: str
) -> BatchConsumer[MetricsUnitOfWork]:
    """The projection's batch consumer on `infra`'s database, under `kafka_group`.

    The one place it is put together: the live member, a rebuild and the benchmark use it.
    """
    return BatchConsumer(
        group=GROUP,
        topics=TOPICS,
        handles=handles(),
        unit_of_work=infra.unit_of_work,
        kafka=infra.kafka,
        producer=infra.producer,
        kafka_group=kafka_group,
        max_records=settings.projection_batch_records,
    )


@dataclass
class LiveProjection:
    group: str
    topics: Sequence[str]
    engine: AsyncEngine
    member: MemberFactory
    poll_seconds: float = 1.0
    stats: ConsumerStats = field(default_factory=ConsumerStats)
    assigned: asyncio.Event = field(default_factory=asyncio.Event)
    kafka_group: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume under the current generation's group, rejoining when it changes."""
        while not stop.is_set():
            self.kafka_group = await self._current()
            consumer = self.member(self.kafka_group)
            consumer.stats, consumer.assigned = self.stats, self.assigned
            switched = asyncio.Event()
            watcher = asyncio.create_task(self._watch(stop, switched, self.kafka_group))
            try:
                await consumer.run(switched)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _current(self) -> str:
        async with self.engine.connect() as conn:
            return (await current_generation(conn, self.group)).kafka_group

    async def _watch(self, stop: asyncio.Event, switched: asyncio.Event, kafka_group: str) -> None:
        """Set `switched` when the service stops or a rebuild switched to another group."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)
            if stop.is_set() or await self._generation_moved(kafka_group):
                switched.set()
                return

    async def _generation_moved(self, kafka_group: str) -> bool:
        try:
            return await self._current() != kafka_group
        except (OSError, SQLAlchemyError):
            log.warning("generation check failed; keeping the current group", exc_info=True)
            return False

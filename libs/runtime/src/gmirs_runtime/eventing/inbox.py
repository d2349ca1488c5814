"""The inbox: proof, inside the handler's own transaction, that a group has applied an event.

Writing the row in the same transaction as the side effects makes redeliveries, replays and
duplicate publications harmless: the second claim finds the row and the handler is skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import CursorResult, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.tables import inbox


async def claim(
    session: AsyncSession, *, group: str, event: Event, topic: str, partition: int, offset: int
) -> bool:
    """Record that `group` processes `event` now; False if it already has (a duplicate)."""
    statement = (
        insert(inbox)
        .values(
            consumer_group=group,
            event_id=event.id,
            event_type=event.type,
            topic=topic,
            partition=partition,
            offset=offset,
        )
        .on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


_CLAIM_MANY = text(
    """
    WITH claimed AS (
        INSERT INTO inbox (consumer_group, event_id, event_type, topic, partition, "offset")
        SELECT :group, c.event_id, c.event_type, c.topic, c.partition, c.offset
        FROM unnest(
            CAST(:ids AS uuid[]), CAST(:types AS text[]), CAST(:topics AS text[]),
            CAST(:partitions AS int4[]), CAST(:offsets AS int8[])
        ) AS c(event_id, event_type, topic, partition, "offset")
        ON CONFLICT (consumer_group, event_id) DO NOTHING
        RETURNING event_id
    )
    SELECT array_agg(event_id) FROM claimed
    """
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event and where it was read from (what the inbox row records)."""

    event: Event
    topic: str
    partition: int
    offset: int


async def claim_many(
    session: AsyncSession, *, group: str, deliveries: Sequence[Delivery]
) -> set[uuid.UUID]:
    """Claim several events in one statement; the ids not claimed before (the rest are duplicates).

    With one id twice in `deliveries`, DO NOTHING keeps the first and returns the id once. The
    ids come back as one array in one row (a row per id cost more than the insert).
    """
    claimed = await session.scalar(
        _CLAIM_MANY,
        {
            "group": group,
            "ids": [d.event.id for d in deliveries],
            "types": [d.event.type for d in deliveries],
            "topics": [d.topic for d in deliveries],
            "partitions": [d.partition for d in deliveries],
            "offsets": [d.offset for d in deliveries],
        },
    )
    return set(claimed or ())

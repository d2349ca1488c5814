"""The inbox: proof, inside the handler's own transaction, that a group has applied an event.

Writing the row in the same transaction as the side effects makes redeliveries, replays and
duplicate publications harmless: the second claim finds the row and the handler is skipped.
"""

from __future__ import annotations

from sqlalchemy import CursorResult
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

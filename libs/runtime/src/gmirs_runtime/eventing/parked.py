"""Operator actions on outbox rows the relay parked, shared by the HTTP API and the command line.

Listing shows the reason and how many later events of the aggregate are held behind the row,
never the payload. Retrying clears the parking so the relay tries again (after the limit was
raised, say); discarding deletes the row for good and lets the held events go. Both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gmirs_runtime import audit
from gmirs_runtime.eventing.tables import outbox

_held = outbox.alias("held")
_HELD_BEHIND = (
    select(func.count())
    .where(
        _held.c.aggregateid == outbox.c.aggregateid,
        _held.c.id > outbox.c.id,
        _held.c.published_at.is_(None),
    )
    .scalar_subquery()
)
_PARKED = and_(outbox.c.parked_at.is_not(None), outbox.c.published_at.is_(None))


class UnknownParkedRowError(LookupError):
    """No parked outbox row with that id."""


@dataclass
class ParkedOutbox:
    sessions: async_sessionmaker[AsyncSession]

    async def list(self) -> list[dict[str, Any]]:
        """Every parked row, oldest first, with its reason and the events held behind it."""
        query = (
            select(
                outbox.c.id,
                outbox.c.event_id,
                outbox.c.aggregatetype.label("aggregate_type"),
                outbox.c.aggregateid.label("aggregate_id"),
                outbox.c.type.label("event_type"),
                outbox.c.topic,
                outbox.c.created_at,
                outbox.c.parked_at,
                outbox.c.parked_reason.label("reason"),
                _HELD_BEHIND.label("held_behind"),
            )
            .where(_PARKED)
            .order_by(outbox.c.id)
        )
        async with self.sessions() as session:
            return [dict(row) for row in (await session.execute(query)).mappings()]

    async def retry(self, row_id: int, *, actor: str, reason: str) -> None:
        """Un-park the row: the relay tries it again, before the events held behind it."""
        clear = update(outbox).values(parked_at=None, parked_reason=None)
        await self._act(clear, row_id, actor=actor, reason=reason, action="outbox.retried")

    async def discard(self, row_id: int, *, actor: str, reason: str) -> None:
        """Delete the row (its event is never published); the events held behind it flow on."""
        await self._act(
            delete(outbox), row_id, actor=actor, reason=reason, action="outbox.discarded"
        )

    async def _act(
        self, statement: Any, row_id: int, *, actor: str, reason: str, action: str
    ) -> None:
        async with self.sessions() as session, session.begin():
            event_id = (
                await session.execute(
                    statement.where(outbox.c.id == row_id, _PARKED).returning(outbox.c.event_id)
                )
            ).scalar_one_or_none()
            if event_id is None:
                raise UnknownParkedRowError(row_id)
            await audit.record(
                session,
                actor=actor,
                action=action,
                resource_type="outbox-event",
                resource_id=str(event_id),
                reason=reason,
            )

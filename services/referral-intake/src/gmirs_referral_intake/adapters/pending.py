"""Pending messages: ones whose processing failed transiently and will be retried.

Messages pushed over HTTP are retried by the PendingRetrier from here. SQS messages are retried
by SQS itself (the message stays in the queue); their rows only make the wait visible to
operators and are removed when the message is processed or handed to the dead-letter queue.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

SQS = "sqs"  # retried by the queue, not by the retrier

pending_messages = Table(
    "pending_messages",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("key", Text, nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
)
_SUMMARY = [c for c in pending_messages.c if c.name != "raw"]
_c = pending_messages.c


@dataclass(frozen=True)
class PendingSummary:
    """A pending message without its content: safe to list."""

    id: uuid.UUID
    key: str
    source: str
    reason: str
    attempts: int
    first_seen_at: datetime
    last_attempt_at: datetime
    next_attempt_at: datetime


@dataclass(frozen=True)
class PendingMessage:
    summary: PendingSummary
    raw: str


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


async def record(
    session: AsyncSession,
    *,
    key: str,
    source: str,
    raw: str,
    reason: str,
    retry_in: float,
    attempts: int | None = None,
) -> uuid.UUID:
    """Insert or update the pending row for `key`; `attempts` None counts one more."""
    values = insert(pending_messages).values(
        id=uuid.uuid4(),
        key=key,
        source=source,
        raw=raw,
        reason=reason,
        attempts=attempts or 1,
        first_seen_at=func.now(),
        last_attempt_at=func.now(),
        next_attempt_at=func.now() + _seconds(retry_in),
    )
    statement = values.on_conflict_do_update(
        index_elements=[_c.key],
        set_={
            "reason": values.excluded.reason,
            "attempts": values.excluded.attempts if attempts else _c.attempts + 1,
            "last_attempt_at": func.now(),
            "next_attempt_at": values.excluded.next_attempt_at,
        },
    ).returning(_c.id)
    pending_id: uuid.UUID = (await session.execute(statement)).scalar_one()
    return pending_id


async def clear(session: AsyncSession, *, key: str) -> None:
    await session.execute(delete(pending_messages).where(_c.key == key))


async def remove(session: AsyncSession, pending_id: uuid.UUID) -> None:
    await session.execute(delete(pending_messages).where(_c.id == pending_id))


async def claim_due(session: AsyncSession, *, limit: int, lease: float) -> list[PendingMessage]:
    """Take up to `limit` due messages the retrier owns, pushing them `lease` seconds ahead.

    SKIP LOCKED and the lease let several replicas retry side by side without doubling up; a
    replica that dies mid-retry leaves its messages due again when the lease runs out.
    """
    due = (
        select(_c.id)
        .where(_c.source != SQS, _c.next_attempt_at <= func.now())
        .order_by(_c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(pending_messages)
        .where(_c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=func.now() + _seconds(lease))
        .returning(*_SUMMARY, _c.raw)
    )
    rows = (await session.execute(statement)).mappings()
    messages = []
    for row in rows:
        fields = dict(row)
        raw = fields.pop("raw")
        messages.append(PendingMessage(PendingSummary(**fields), raw))
    return messages


async def reschedule(
    session: AsyncSession, pending_id: uuid.UUID, *, reason: str, retry_in: float
) -> None:
    await session.execute(
        update(pending_messages)
        .where(_c.id == pending_id)
        .values(
            reason=reason,
            attempts=_c.attempts + 1,
            last_attempt_at=func.now(),
            next_attempt_at=func.now() + _seconds(retry_in),
        )
    )


async def list_summaries(session: AsyncSession, *, limit: int = 100) -> list[PendingSummary]:
    """Soonest retry first."""
    query = select(*_SUMMARY).order_by(_c.next_attempt_at).limit(limit)
    return [PendingSummary(**row) for row in (await session.execute(query)).mappings()]

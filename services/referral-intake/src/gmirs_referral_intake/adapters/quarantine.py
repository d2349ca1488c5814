"""The quarantine: messages intake can never process as they are, kept with the reason why.

Nothing here commits: `hold` joins the caller's transaction, so a message is quarantined in the
same commit as whatever else the caller records (and an SQS message is deleted only after). The
raw text may hold personal data; it is read only through `get`, which operators reach through an
audited action (handlers/quarantine_ops.py).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

SOURCES = frozenset({"sqs", "sns-http", "bare", "poller", "pilot-csv"})
HELD, REPLAYED, DISCARDED = "held", "replayed", "discarded"
STATUSES = (HELD, REPLAYED, DISCARDED)

quarantine = Table(
    "quarantine",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("source", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", Text),
)
_SUMMARY = [c for c in quarantine.c if c.name not in ("raw", "digest")]
_HELD_ONLY = quarantine.c.status == literal_column(f"'{HELD}'")
"""The predicate of the partial unique index `quarantine_held_digest`, as a literal in the SQL.

PostgreSQL matches ON CONFLICT's WHERE to a partial index when it plans the statement: with a
bound parameter it matches only while the statement gets custom plans, and from about the sixth
execution on a connection the generic plan fails with "no unique or exclusion constraint".
"""


@dataclass(frozen=True)
class QuarantineSummary:
    """A held message without its content: safe to list."""

    id: uuid.UUID
    source: str
    reason: str
    status: str
    first_seen_at: datetime
    last_seen_at: datetime
    attempts: int
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class QuarantinedMessage:
    summary: QuarantineSummary
    raw: str


async def hold(session: AsyncSession, *, source: str, raw: str, reason: str) -> uuid.UUID:
    """Quarantine `raw` (or count another arrival of it while held); the caller commits."""
    if source not in SOURCES:
        raise ValueError(f"unknown quarantine source {source!r}")
    values = insert(quarantine).values(
        id=uuid.uuid4(),
        source=source,
        raw=raw,
        digest=hashlib.sha256(raw.encode()).hexdigest(),
        reason=reason,
        status=HELD,
        first_seen_at=func.now(),
        last_seen_at=func.now(),
        attempts=1,
    )
    statement = values.on_conflict_do_update(
        index_elements=[quarantine.c.digest],
        index_where=_HELD_ONLY,
        set_={
            "attempts": quarantine.c.attempts + 1,
            "last_seen_at": func.now(),
            "reason": values.excluded.reason,
        },
    ).returning(quarantine.c.id)
    held: uuid.UUID = (await session.execute(statement)).scalar_one()
    return held


async def list_summaries(
    session: AsyncSession, *, status: str | None = HELD, limit: int = 100
) -> list[QuarantineSummary]:
    """Most recently seen first; `status` None lists every status."""
    query = select(*_SUMMARY).order_by(quarantine.c.last_seen_at.desc()).limit(limit)
    if status is not None:
        query = query.where(quarantine.c.status == status)
    rows = (await session.execute(query)).mappings()
    return [QuarantineSummary(**row) for row in rows]


async def get(session: AsyncSession, message_id: uuid.UUID) -> QuarantinedMessage | None:
    row = (
        (
            await session.execute(
                select(*_SUMMARY, quarantine.c.raw).where(quarantine.c.id == message_id)
            )
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    fields = dict(row)
    raw = fields.pop("raw")
    return QuarantinedMessage(QuarantineSummary(**fields), raw)


async def resolve(
    session: AsyncSession, message_id: uuid.UUID, *, status: str, actor: str
) -> QuarantineSummary | None:
    """Mark a held message replayed or discarded; None if it is not (or no longer) held."""
    if status not in (REPLAYED, DISCARDED):
        raise ValueError(f"cannot resolve a quarantined message as {status!r}")
    statement = (
        update(quarantine)
        .where(quarantine.c.id == message_id, quarantine.c.status == HELD)
        .values(status=status, resolved_at=func.now(), resolved_by=actor)
        .returning(*_SUMMARY)
    )
    row = (await session.execute(statement)).mappings().one_or_none()
    return QuarantineSummary(**row) if row else None


async def note_failed_replay(session: AsyncSession, message_id: uuid.UUID, *, reason: str) -> None:
    """A replay found the message still unusable: keep it held with the new reason."""
    await session.execute(
        update(quarantine)
        .where(quarantine.c.id == message_id, quarantine.c.status == HELD)
        .values(reason=reason, attempts=quarantine.c.attempts + 1, last_seen_at=func.now())
    )

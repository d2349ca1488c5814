"""What intake remembers of R&M: the events it has applied, and which referral is whose.

`rm_events` is the de-duplication record: one row per event identity, claimed in the same
transaction as the events it caused, so a redelivery finds the row and changes nothing. Our
referral for an R&M referral is found by the R&M id it carries, or else by its R&M reference
number (a referral entered directly or imported before R&M's event arrived).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import CursorResult
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_referral_intake.domain.rm_envelope import RmEnvelope

metadata = sa.MetaData()
rm_events = sa.Table(
    "rm_events",
    metadata,
    sa.Column("identity", sa.Uuid, primary_key=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("rm_referral_id", sa.Uuid),
    sa.Column("referral_id", sa.Uuid),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)

# Our referral for an R&M referral: by the R&M id it carries, else the oldest holding its
# reference number (both expression-indexed). A null parameter matches nothing.
_FIND_SQL = (
    "SELECT id, referral FROM ("
    " (SELECT id, referral, 0 AS pick FROM referrals"
    "   WHERE referral->>'rm_referral_id' = CAST(:rm_id AS text) LIMIT 1)"
    " UNION ALL"
    " (SELECT id, referral, 1 FROM referrals"
    "   WHERE referral->>'reference_number' = CAST(:reference AS text)"
    "   ORDER BY received_at, id LIMIT 1)"
    ") AS candidates ORDER BY pick LIMIT 1"
)
_FIND = sa.text(_FIND_SQL)
_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
# The check made on every event before R&M is called, in one round trip (most events are new,
# and three misses would otherwise cost three statements).
_SEEN = "SELECT EXISTS (SELECT 1 FROM rm_events WHERE identity = :identity)"
_SEEN_AND_FOUND = sa.text(
    f"{_SEEN}, held.id, held.referral FROM (SELECT 1) AS one"
    f" LEFT JOIN LATERAL ({_FIND_SQL}) AS held ON true"
)


@dataclass(frozen=True)
class KnownReferral:
    """Our referral and what R&M events about it need to name."""

    referral_id: uuid.UUID
    crn: str
    reference_number: str | None


async def seen_and_found(
    session: AsyncSession,
    identity: uuid.UUID,
    *,
    rm_referral_id: uuid.UUID | None,
    reference_number: str | None,
) -> tuple[bool, KnownReferral | None]:
    """Whether the event was applied already (a cheap check before calling R&M), and our
    referral for the R&M referral as `find_referral` finds it, in one statement."""
    params = {"identity": identity, **_find_params(rm_referral_id, reference_number)}
    seen_before, referral_id, data = (await session.execute(_SEEN_AND_FOUND, params)).one()
    return bool(seen_before), _known(referral_id, data)


async def claim(
    session: AsyncSession,
    envelope: RmEnvelope,
    *,
    rm_referral_id: uuid.UUID | None,
    referral_id: uuid.UUID | None,
) -> bool:
    """Record the event as applied in this transaction; False when it already was."""
    statement = (
        insert(rm_events)
        .values(
            identity=envelope.identity,
            event_type=envelope.event_type,
            rm_referral_id=rm_referral_id,
            referral_id=referral_id,
            occurred_at=envelope.occurred_at,
            processed_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["identity"])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def lock_rm_referral(session: AsyncSession, rm_referral_id: uuid.UUID) -> None:
    """Serialise, until commit, every transaction about one R&M referral (no racing creators)."""
    await session.execute(_LOCK, {"key": f"rm-referral:{rm_referral_id}"})


async def find_referral(
    session: AsyncSession, *, rm_referral_id: uuid.UUID | None, reference_number: str | None
) -> KnownReferral | None:
    """Our referral for an R&M referral, by its R&M id, else by its reference number."""
    params = _find_params(rm_referral_id, reference_number)
    row = (await session.execute(_FIND, params)).first()
    return None if row is None else _known(*row)


def _find_params(rm_referral_id: uuid.UUID | None, reference_number: str | None) -> dict[str, Any]:
    return {
        "rm_id": str(rm_referral_id) if rm_referral_id else None,
        "reference": reference_number or None,
    }


def _known(referral_id: uuid.UUID | None, data: Any) -> KnownReferral | None:
    if referral_id is None:
        return None
    return KnownReferral(referral_id, data["person"]["crn"], data.get("reference_number"))


ASSIGNED = "intervention.referral.assigned"
RECONCILED_ASSIGNMENT = "reconciliation.referral.assigned"
"""`rm_events.event_type` of an assignment announced by reconciliation before its R&M event came."""
_RECONCILED_NAMESPACE = uuid.UUID("8d3b6f0e-2c1a-5e4f-9b7d-6a5c4e3f2d1b")
_ASSIGNMENT_RECORDED = sa.text(
    "SELECT EXISTS (SELECT 1 FROM rm_events WHERE rm_referral_id = :rm_id"
    " AND event_type IN ('intervention.referral.assigned', 'reconciliation.referral.assigned'))"
)


def reconciled_assignment_identity(rm_referral_id: uuid.UUID, username: str) -> uuid.UUID:
    return uuid.uuid5(_RECONCILED_NAMESPACE, f"{rm_referral_id}|{username}")


async def claim_reconciled_assignment(
    session: AsyncSession, *, rm_referral_id: uuid.UUID, referral_id: uuid.UUID, username: str
) -> bool:
    """Record that reconciliation announces this assignment; False if any assignment of the
    referral was recorded already (by its R&M event or an earlier round)."""
    found = await session.scalar(_ASSIGNMENT_RECORDED, {"rm_id": rm_referral_id})
    if found:
        return False
    statement = (
        insert(rm_events)
        .values(
            identity=reconciled_assignment_identity(rm_referral_id, username),
            event_type=RECONCILED_ASSIGNMENT,
            rm_referral_id=rm_referral_id,
            referral_id=referral_id,
            occurred_at=datetime.now(UTC),
            processed_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["identity"])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def take_reconciled_assignment(
    session: AsyncSession, *, rm_referral_id: uuid.UUID, username: str
) -> bool:
    """True (once) when reconciliation announced this assignment before its R&M event arrived."""
    identity = reconciled_assignment_identity(rm_referral_id, username)
    result = await session.execute(
        sa.delete(rm_events).where(
            rm_events.c.identity == identity, rm_events.c.event_type == RECONCILED_ASSIGNMENT
        )
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1

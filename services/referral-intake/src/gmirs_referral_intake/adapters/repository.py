"""Intake records by id, by external key (what makes intake idempotent) and by reference number."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_referral_intake.adapters.tables import Referral, ReferralRecord

REFERRALS = ReferralRecord.__table__  # type: ignore[attr-defined]
_SELECT = select(*REFERRALS.c)
_REFERENCE = REFERRALS.c.referral[
    "reference_number"
].astext  # indexed (referrals_by_reference_number)
# One lock per reference number, taken in one fixed order so that batches never deadlock.
_LOCK_REFERENCES = text(
    "SELECT pg_advisory_xact_lock(k) FROM ("
    " SELECT DISTINCT hashtextextended('reference:' || r, 0) AS k FROM unnest(CAST(:refs AS text[])) r"
    ") keys ORDER BY k"
)


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, records: Sequence[Referral]) -> set[str]:
        """Insert in one statement; the external keys that were new (the others existed)."""
        if not records:
            return set()
        # Core insert on the table: the ORM's bulk-insert path costs more than the database work.
        statement = (
            insert(REFERRALS)
            .on_conflict_do_nothing(index_elements=["external_key"])
            .returning(REFERRALS.c.external_key)
        )
        rows = [record.as_row() for record in records]
        return set((await self._session.execute(statement, rows)).scalars())

    async def by_external_key(self, external_key: str) -> Referral | None:
        return (await self.by_external_keys([external_key])).get(external_key)

    async def by_external_keys(self, external_keys: Collection[str]) -> dict[str, Referral]:
        query = _SELECT.where(REFERRALS.c.external_key.in_(external_keys))
        found = await self._fetch(query)
        return {record.external_key: record for record in found}

    async def lock_reference_numbers(self, references: Collection[str]) -> None:
        """Serialise, until commit, every transaction creating a referral with these numbers."""
        await self._session.execute(_LOCK_REFERENCES, {"refs": sorted(references)})

    async def first_by_reference_numbers(self, references: Collection[str]) -> dict[str, Referral]:
        """The oldest record holding each R&M reference number (the one all sources share)."""
        query = (
            _SELECT.where(_REFERENCE.in_(references))
            .order_by(_REFERENCE, REFERRALS.c.received_at, REFERRALS.c.id)
            .ext(distinct_on(_REFERENCE))
        )
        found = await self._fetch(query)
        return {record.referral["reference_number"]: record for record in found}

    async def get(self, referral_id: uuid.UUID) -> Referral | None:
        found = await self._fetch(_SELECT.where(REFERRALS.c.id == referral_id))
        return found[0] if found else None

    async def _fetch(self, query: Select[Any]) -> list[Referral]:
        return [Referral(**row) for row in (await self._session.execute(query)).mappings()]

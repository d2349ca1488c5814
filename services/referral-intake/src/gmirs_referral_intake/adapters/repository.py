"""Intake records by id and by external key (the identity that makes intake idempotent)."""

from __future__ import annotations

import uuid

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_referral_intake.adapters.tables import ReferralRecord

REFERRALS = ReferralRecord.__table__  # type: ignore[attr-defined]


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: ReferralRecord) -> bool:
        """Insert; False when a record with the same external key already exists."""
        # Core insert on the table: the ORM's bulk-insert path costs more than the database work.
        statement = (
            insert(REFERRALS)
            .values(**record.model_dump())
            .on_conflict_do_nothing(index_elements=["external_key"])
        )
        result = await self._session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def by_external_key(self, external_key: str) -> ReferralRecord | None:
        query = select(ReferralRecord).where(ReferralRecord.external_key == external_key)  # type: ignore[arg-type]
        return (await self._session.execute(query)).scalar_one_or_none()

    async def get(self, referral_id: uuid.UUID) -> ReferralRecord | None:
        return await self._session.get(ReferralRecord, referral_id)

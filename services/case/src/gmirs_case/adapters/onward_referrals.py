"""Onward referrals: their table and repository."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Uuid, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import _ts, case_reference
from gmirs_case.domain.onward_referrals import OnwardReferral


class OnwardReferralRow(SQLModel, table=True):
    __tablename__ = "onward_referrals"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=case_reference())
    agency: str
    need: str
    referred_at: datetime = Field(sa_column=_ts())
    outcome: str
    consent_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey("consents.id"), nullable=False))
    recorded_at: datetime = Field(sa_column=_ts())
    outcome_recorded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class OnwardReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case_id: uuid.UUID, referral: OnwardReferral) -> None:
        values = {**record_of(referral), "case_id": case_id}
        await self._session.execute(insert(OnwardReferralRow).values(**values))

    async def list(self, case_id: uuid.UUID) -> list[OnwardReferral]:
        query = (
            select(OnwardReferralRow)
            .where(col(OnwardReferralRow.case_id) == case_id)
            .order_by(col(OnwardReferralRow.referred_at), col(OnwardReferralRow.id))
        )
        rows = (await self._session.execute(query)).scalars().all()
        return [from_record(OnwardReferral, row) for row in rows]

    async def get(self, case_id: uuid.UUID, referral_id: uuid.UUID) -> OnwardReferral | None:
        query = select(OnwardReferralRow).where(
            col(OnwardReferralRow.case_id) == case_id, col(OnwardReferralRow.id) == referral_id
        )
        row = (await self._session.execute(query)).scalar_one_or_none()
        return None if row is None else from_record(OnwardReferral, row)

    async def save_outcome(self, referral: OnwardReferral) -> None:
        statement = (
            update(OnwardReferralRow)
            .where(col(OnwardReferralRow.id) == referral.id)
            .values(
                outcome=referral.outcome.value, outcome_recorded_at=referral.outcome_recorded_at
            )
        )
        await self._session.execute(statement)

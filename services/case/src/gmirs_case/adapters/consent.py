"""Consents to share: their table and repository."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import _ts, case_reference
from gmirs_case.domain.consent import Consent, ShareScope


class ConsentRow(SQLModel, table=True):
    __tablename__ = "consents"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=case_reference())
    partner: str
    scopes: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    given_at: datetime = Field(sa_column=_ts())
    recorded_by: str
    recorded_at: datetime = Field(sa_column=_ts())
    withdrawn_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    withdrawal_recorded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case_id: uuid.UUID, consent: Consent) -> None:
        await self._session.execute(insert(ConsentRow).values(**_values(case_id, consent)))

    async def save_withdrawal(self, consent: Consent) -> None:
        await self._session.execute(
            update(ConsentRow)
            .where(col(ConsentRow.id) == consent.id)
            .values(
                withdrawn_at=consent.withdrawn_at,
                withdrawal_recorded_at=consent.withdrawal_recorded_at,
            )
        )

    async def list(self, case_id: uuid.UUID) -> list[Consent]:
        """Every consent the case has, given or withdrawn, in the order they were given."""
        query = (
            select(ConsentRow)
            .where(col(ConsentRow.case_id) == case_id)
            .order_by(col(ConsentRow.given_at), col(ConsentRow.id))
        )
        rows = (await self._session.execute(query)).scalars().all()
        return [_consent(row) for row in rows]


def _values(case_id: uuid.UUID, consent: Consent) -> dict[str, Any]:
    values = record_of(consent)
    return {**values, "case_id": case_id, "scopes": [s.value for s in consent.scopes]}


def _consent(row: ConsentRow) -> Consent:
    return from_record(Consent, row, scopes=tuple(ShareScope(s) for s in row.scopes))

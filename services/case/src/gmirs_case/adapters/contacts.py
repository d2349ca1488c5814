"""Contact attempts: their table and repository (a case's attempts, newest first)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import _ts, case_reference
from gmirs_case.domain.contacts import ContactAttempt


class ContactAttemptRow(SQLModel, table=True):
    __tablename__ = "contact_attempts"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=case_reference())
    method: str
    outcome: str
    occurred_at: datetime = Field(sa_column=_ts())
    recorded_at: datetime = Field(sa_column=_ts())


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case_id: uuid.UUID, attempt: ContactAttempt) -> None:
        values = {**record_of(attempt), "case_id": case_id}
        await self._session.execute(insert(ContactAttemptRow).values(**values))

    async def list(
        self, case_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[ContactAttempt], int]:
        """A page of the case's attempts, most recent first, and how many there are."""
        of_case = col(ContactAttemptRow.case_id) == case_id
        query = (
            select(ContactAttemptRow)
            .where(of_case)
            .order_by(col(ContactAttemptRow.occurred_at).desc(), col(ContactAttemptRow.id))
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._session.execute(query)).scalars().all()
        counted = select(func.count()).select_from(ContactAttemptRow).where(of_case)
        total = int((await self._session.execute(counted)).scalar_one())
        return [from_record(ContactAttempt, row) for row in rows], total

"""Mitigations recorded on a case: their table and repository (newest first)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import _ts, case_reference
from gmirs_case.domain.mitigations import Mitigation

MAX_PER_CASE = 200
"""More than this on one case is not a real case's history; the list returns the newest."""


class MitigationRow(SQLModel, table=True):
    __tablename__ = "kpi_mitigations"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=case_reference())
    measure: str
    reason: str
    note: str | None = None
    occurred_at: datetime = Field(sa_column=_ts())
    recorded_at: datetime = Field(sa_column=_ts())
    recorded_by: str


class MitigationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case_id: uuid.UUID, mitigation: Mitigation) -> None:
        values = {**record_of(mitigation), "case_id": case_id}
        await self._session.execute(insert(MitigationRow).values(**values))

    async def of_case(self, case_id: uuid.UUID) -> list[Mitigation]:
        query = (
            select(MitigationRow)
            .where(col(MitigationRow.case_id) == case_id)
            .order_by(col(MitigationRow.recorded_at).desc(), col(MitigationRow.id))
            .limit(MAX_PER_CASE)
        )
        rows = (await self._session.execute(query)).scalars().all()
        return [from_record(Mitigation, row) for row in rows]

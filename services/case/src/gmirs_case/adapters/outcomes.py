"""Outcome assessments: one row each, its area scores as one JSON list (written whole, so an
assessment is never half-stored), and the repository."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import _ts, case_reference
from gmirs_case.domain.outcomes import AreaScore, OutcomeAssessment


class OutcomeAssessmentRow(SQLModel, table=True):
    __tablename__ = "outcome_assessments"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=case_reference())
    stage: str
    areas: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    occurred_at: datetime = Field(sa_column=_ts())
    recorded_at: datetime = Field(sa_column=_ts())
    corrects: uuid.UUID | None = None


class OutcomeAssessmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case_id: uuid.UUID, assessment: OutcomeAssessment) -> None:
        values = {
            **record_of(assessment),
            "case_id": case_id,
            "areas": [record_of(s) for s in assessment.areas],
        }
        await self._session.execute(insert(OutcomeAssessmentRow).values(**values))

    async def list(self, case_id: uuid.UUID) -> list[OutcomeAssessment]:
        """Every assessment of the case, corrected ones included, in the order recorded."""
        query = (
            select(OutcomeAssessmentRow)
            .where(col(OutcomeAssessmentRow.case_id) == case_id)
            .order_by(col(OutcomeAssessmentRow.recorded_at), col(OutcomeAssessmentRow.id))
        )
        rows = (await self._session.execute(query)).scalars().all()
        return [_assessment(row) for row in rows]


def _assessment(row: OutcomeAssessmentRow) -> OutcomeAssessment:
    areas = tuple(from_record(AreaScore, _Attributes(a)) for a in row.areas)
    return from_record(OutcomeAssessment, row, areas=areas)


class _Attributes:
    """A stored JSON object read like a row (`from_record` reads attributes)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

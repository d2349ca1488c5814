"""Action plan versions: one row each, goals and activities as JSON lists written whole with the
version (never half-stored), and the repository. Only sharing and approval are ever updated;
the migration's trigger refuses any other change to a stored version."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, UniqueConstraint, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import _ts, case_reference
from gmirs_case.domain.action_plans import ActionPlan, Activity, Goal

PROGRESS_COLUMNS = ("shared_at", "shared_recorded_at", "approved_at", "approved_recorded_at")


class ActionPlanRow(SQLModel, table=True):
    __tablename__ = "action_plans"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(sa_column=case_reference())
    version: int
    goals: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    activities: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    number_of_sessions: int
    agreed_by: str
    agreed_at: datetime = Field(sa_column=_ts())
    recorded_at: datetime = Field(sa_column=_ts())
    shared_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    shared_recorded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    approved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    approved_recorded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ActionPlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case_id: uuid.UUID, plan: ActionPlan) -> None:
        values = {
            **record_of(plan),
            "case_id": case_id,
            "goals": [record_of(goal) for goal in plan.goals],
            "activities": [record_of(activity) for activity in plan.activities],
        }
        await self._session.execute(insert(ActionPlanRow).values(**values))

    async def list(self, case_id: uuid.UUID) -> list[ActionPlan]:
        """Every version of the case's plan, oldest first."""
        query = (
            select(ActionPlanRow)
            .where(col(ActionPlanRow.case_id) == case_id)
            .order_by(col(ActionPlanRow.version))
        )
        rows = (await self._session.execute(query)).scalars().all()
        return [_plan(row) for row in rows]

    async def get(self, case_id: uuid.UUID, version: int) -> ActionPlan | None:
        query = select(ActionPlanRow).where(
            col(ActionPlanRow.case_id) == case_id, col(ActionPlanRow.version) == version
        )
        row = (await self._session.execute(query)).scalars().one_or_none()
        return None if row is None else _plan(row)

    async def record_progress(self, plan: ActionPlan) -> None:
        """Store when the version was shared and approved (its content is never rewritten)."""
        values = {name: getattr(plan, name) for name in PROGRESS_COLUMNS}
        statement = update(ActionPlanRow).where(col(ActionPlanRow.id) == plan.id).values(**values)
        await self._session.execute(statement)


def _plan(row: ActionPlanRow) -> ActionPlan:
    goals = tuple(from_record(Goal, SimpleNamespace(**g)) for g in row.goals)
    activities = tuple(from_record(Activity, SimpleNamespace(**a)) for a in row.activities)
    return from_record(ActionPlan, row, goals=goals, activities=activities)

"""Tables and repository for case notes (append-only) and tasks."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_case.domain.casework import Note, Task, TaskKind

metadata = MetaData()

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("author_client", Text, nullable=False),
    Column("author_worker", Text),
    Column("text", Text, nullable=False),
    Column("sensitive", Boolean, nullable=False),
)

case_tasks = Table(
    "case_tasks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("hub_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("worker", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column("done_by", Text),
)


class CaseworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_note(self, note: Note) -> None:
        await self._session.execute(insert(case_notes).values(**asdict(note)))

    async def notes(self, case_id: uuid.UUID, *, limit: int, offset: int) -> tuple[list[Note], int]:
        """A page of a case's notes, oldest first, and their total."""
        where = case_notes.c.case_id == case_id
        query = select(case_notes).where(where).order_by(case_notes.c.written_at, case_notes.c.id)
        rows = (await self._session.execute(query.limit(limit).offset(offset))).mappings()
        total = (await self._session.execute(select(func.count()).where(where))).scalar_one()
        return [Note(**row) for row in rows], int(total)

    async def add_task(self, task: Task) -> None:
        await self._session.execute(insert(case_tasks).values(**asdict(task)))

    async def task(self, case_id: uuid.UUID, task_id: uuid.UUID) -> Task | None:
        query = select(case_tasks).where(
            case_tasks.c.id == task_id, case_tasks.c.case_id == case_id
        )
        row = (await self._session.execute(query.with_for_update())).mappings().one_or_none()
        return None if row is None else _task(row)

    async def mark_done(self, task_id: uuid.UUID, *, at: datetime, by: str) -> None:
        await self._session.execute(
            update(case_tasks).where(case_tasks.c.id == task_id).values(done_at=at, done_by=by)
        )

    async def tasks(
        self,
        *,
        hub_id: str | None,
        worker: str | None,
        overdue_before: date | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Task], int]:
        """A page of tasks (soonest due first): one hub's or all (None), one worker's or all,
        and with `overdue_before`, only the open ones due before that day."""
        conditions = []
        if hub_id is not None:
            conditions.append(case_tasks.c.hub_id == hub_id)
        if worker is not None:
            conditions.append(case_tasks.c.worker == worker)
        if overdue_before is not None:
            conditions += [case_tasks.c.done_at.is_(None), case_tasks.c.due_on < overdue_before]
        query = select(case_tasks).where(*conditions)
        query = query.order_by(case_tasks.c.due_on, case_tasks.c.id).limit(limit).offset(offset)
        rows = (await self._session.execute(query)).mappings()
        counted = select(func.count()).select_from(case_tasks).where(*conditions)
        total = (await self._session.execute(counted)).scalar_one()
        return [_task(row) for row in rows], int(total)


def _task(row: object) -> Task:
    values = dict(row)  # type: ignore[call-overload]
    return Task(**{**values, "kind": TaskKind(values["kind"])})

"""Group and family sessions as stored, always within one hub's scope unless the caller sees all.

The register is not a table of its own: it is the appointments that name the session (one per
case, a unique index), so a person's place and their attendance are one row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, Table, Text, Uuid, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gmirs_case.adapters.appointments import (
    history_table,
    nested_of,
    nested_values,
    rescheduled_of,
)
from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.tables import AppointmentRow, CaseRow
from gmirs_case.domain.appointment_values import Rescheduled
from gmirs_case.domain.group_sessions import GroupSession

metadata = MetaData()
group_sessions = Table(
    "group_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("hub_id", Text, nullable=False),
    Column("session_type", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("delivery_type", Text, nullable=False),
    Column("nps_office_code", Text),
    Column("address", JSONB),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancellation_reason", Text),
    Column("cancellation_note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
group_session_reschedules = history_table("group_session_reschedules", "group_session_id")
NESTED = frozenset({"address", "cancellation", "reschedules"})


class GroupSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, group_session: GroupSession) -> None:
        await self._session.execute(insert(group_sessions).values(**_values(group_session)))

    async def get(
        self, session_id: uuid.UUID, *, hub_id: str | None, for_update: bool = False
    ) -> GroupSession | None:
        """The session if it exists and is `hub_id`'s (None: every hub)."""
        query = select(group_sessions).where(group_sessions.c.id == session_id)
        if hub_id is not ALL_HUBS:
            query = query.where(group_sessions.c.hub_id == hub_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).one_or_none()
        if row is None:
            return None
        history = group_session_reschedules
        earlier = await self._session.execute(
            select(history).where(history.c.group_session_id == session_id).order_by(history.c.id)
        )
        reschedules = [rescheduled_of(r) for r in earlier]
        return from_record(GroupSession, row, reschedules=reschedules, **nested_of(row))

    async def page(
        self, *, hub_id: str | None, starts_from: datetime | None, limit: int, offset: int
    ) -> list[tuple[GroupSession, int]]:
        """Sessions soonest first (from `starts_from`), each with how many are on its register."""
        places = (
            select(func.count())
            .where(col(AppointmentRow.group_session_id) == group_sessions.c.id)
            .scalar_subquery()
        )
        query = select(group_sessions, places.label("places"))
        if hub_id is not ALL_HUBS:
            query = query.where(group_sessions.c.hub_id == hub_id)
        if starts_from is not None:
            query = query.where(group_sessions.c.starts_at >= starts_from)
        query = query.order_by(group_sessions.c.starts_at, group_sessions.c.id)
        rows = await self._session.execute(query.limit(limit).offset(offset))
        return [
            (from_record(GroupSession, row, reschedules=[], **nested_of(row)), row.places)
            for row in rows
        ]

    async def save(self, group_session: GroupSession) -> None:
        """Store the session's times and cancellation (its place never changes)."""
        values = _values(group_session)
        changed = {k: values[k] for k in ("starts_at", "ends_at", *_CANCELLATION)}
        await self._session.execute(
            update(group_sessions).where(group_sessions.c.id == group_session.id).values(changed)
        )

    async def add_reschedule(self, session_id: uuid.UUID, earlier: Rescheduled) -> None:
        await self._session.execute(
            insert(group_session_reschedules).values(
                group_session_id=session_id, **record_of(earlier)
            )
        )

    async def register(
        self, session_id: uuid.UUID, *, hub_id: str
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(case id, appointment id) of each place on the register whose case is `hub_id`'s."""
        query = (
            select(col(AppointmentRow.case_id), col(AppointmentRow.id))
            .join(CaseRow, col(CaseRow.id) == col(AppointmentRow.case_id))
            .where(col(AppointmentRow.group_session_id) == session_id)
            .where(col(CaseRow.hub_id) == hub_id)
            .order_by(col(AppointmentRow.case_id))
        )
        return [(row.case_id, row.id) for row in await self._session.execute(query)]


_CANCELLATION = ("cancelled_at", "cancellation_reason", "cancellation_note")


def _values(group_session: GroupSession) -> dict[str, Any]:
    return {**record_of(group_session, leave_out=NESTED), **nested_values(group_session)}

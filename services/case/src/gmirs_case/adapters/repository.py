"""Loads and stores cases, always within one hub's scope unless the caller sees every hub.

Scoping lives here, in one place, so no route can forget it: a hub asking for another hub's
case gets nothing, exactly as if the case did not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_case.adapters import appointments as stored
from gmirs_case.adapters.records import columns_of, from_record, record_of
from gmirs_case.adapters.tables import AppointmentRow, CaseRow
from gmirs_case.domain.appointment_values import Rescheduled
from gmirs_case.domain.model import Appointment, Attendance, Case

ALL_HUBS = None


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, case: Case) -> bool:
        """Insert a new case; False if one already exists for the referral."""
        statement = (
            insert(CaseRow)
            .values(**_case_values(case))
            .on_conflict_do_nothing(index_elements=["referral_id"])
        )
        result = await self._session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def get(
        self, case_id: uuid.UUID, *, hub_id: str | None, for_update: bool = False
    ) -> Case | None:
        """The case if it exists and is visible to `hub_id` (None: every hub)."""
        return await self._find(CaseRow.id == case_id, hub_id=hub_id, for_update=for_update)  # type: ignore[arg-type]

    async def for_referral(self, referral_id: uuid.UUID) -> Case | None:
        """The referral's case, locked (the consumer applies R&M progress to it)."""
        condition = CaseRow.referral_id == referral_id
        return await self._find(condition, hub_id=ALL_HUBS, for_update=True)  # type: ignore[arg-type]

    async def move_to_hub(self, case_id: uuid.UUID, hub_id: str) -> None:
        await self._session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id)  # type: ignore[arg-type]
            .values(hub_id=hub_id, version=CaseRow.version + 1)
        )

    async def _find(
        self, condition: ColumnElement[bool], *, hub_id: str | None, for_update: bool
    ) -> Case | None:
        query = select(CaseRow).where(condition)
        if hub_id is not ALL_HUBS:
            query = query.where(CaseRow.hub_id == hub_id)  # type: ignore[arg-type]
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        appointments = await self._session.execute(
            select(AppointmentRow)
            .where(AppointmentRow.case_id == row.id)  # type: ignore[arg-type]
            .order_by(AppointmentRow.starts_at)  # type: ignore[arg-type]
        )
        history = await stored.reschedules_of_case(self._session, row.id)
        return _to_case(row, [_to_appointment(a, history[a.id]) for a in appointments.scalars()])

    async def save_appointment(self, case: Case, appointment: Appointment) -> None:
        """Insert or update one appointment and bump the case version."""
        values = _appointment_values(case.id, appointment)
        statement = insert(AppointmentRow).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_={k: statement.excluded[k] for k in values if k not in {"id", "case_id"}},
        )
        await self._session.execute(statement)
        await self._session.execute(
            update(CaseRow).where(CaseRow.id == case.id).values(version=CaseRow.version + 1)  # type: ignore[arg-type]
        )


ATTENDANCE_COLUMNS = {"recorded_at": "attendance_recorded_at"}
"""Attendance is stored flat on its appointment's row; only this column name differs."""


def _case_values(case: Case) -> dict[str, Any]:
    return {**record_of(case, leave_out={"appointments"}), "version": 1}


def _appointment_values(case_id: uuid.UUID, a: Appointment) -> dict[str, Any]:
    attendance = (
        record_of(a.attendance, rename=ATTENDANCE_COLUMNS)
        if a.attendance
        else dict.fromkeys(columns_of(Attendance, rename=ATTENDANCE_COLUMNS))
    )
    own = record_of(a, leave_out={"attendance", *stored.NESTED})
    return {**own, "case_id": case_id, **attendance, **stored.nested_values(a)}


def _to_case(row: CaseRow, appointments: list[Appointment]) -> Case:
    return from_record(Case, row, appointments=appointments)


def _to_appointment(row: AppointmentRow, history: list[Rescheduled]) -> Appointment:
    attendance = None
    if row.attended is not None and row.attendance_recorded_at is not None:
        attendance = from_record(Attendance, row, rename=ATTENDANCE_COLUMNS)
    nested = stored.nested_of(row)
    return from_record(Appointment, row, attendance=attendance, reschedules=history, **nested)

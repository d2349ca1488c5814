"""Loads and stores cases, always within one hub's scope unless the caller sees every hub.

Scoping lives here, in one place, so no route can forget it: a hub asking for another hub's
case gets nothing, exactly as if the case did not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gmirs_case.adapters.tables import AppointmentRow, CaseRow
from gmirs_case.domain.model import (
    Appointment,
    AppointmentKind,
    Attendance,
    Attended,
    Case,
    DeliveryType,
    NoSessionReason,
)

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
        query = select(CaseRow).where(CaseRow.id == case_id)  # type: ignore[arg-type]
        if hub_id is not ALL_HUBS:
            query = query.where(CaseRow.hub_id == hub_id)  # type: ignore[arg-type]
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        appointments = await self._session.execute(
            select(AppointmentRow)
            .where(AppointmentRow.case_id == case_id)  # type: ignore[arg-type]
            .order_by(AppointmentRow.starts_at)  # type: ignore[arg-type]
        )
        return _to_case(row, [_to_appointment(a) for a in appointments.scalars()])

    async def list(self, *, hub_id: str | None, limit: int, offset: int) -> tuple[list[Case], int]:
        """A page of cases visible to `hub_id`, newest first, and the total count."""
        query = select(CaseRow)
        counted = select(func.count()).select_from(CaseRow)
        if hub_id is not ALL_HUBS:
            query = query.where(CaseRow.hub_id == hub_id)  # type: ignore[arg-type]
            counted = counted.where(CaseRow.hub_id == hub_id)  # type: ignore[arg-type]
        query = (
            query.order_by(col(CaseRow.opened_at).desc(), col(CaseRow.id))
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._session.execute(query)).scalars().all()
        total = int((await self._session.execute(counted)).scalar_one())
        return [_to_case(r, []) for r in rows], total

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


def _case_values(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "referral_id": case.referral_id,
        "hub_id": case.hub_id,
        "probation_delivery_unit": case.probation_delivery_unit,
        "crn": case.crn,
        "reference_number": case.reference_number,
        "rm_referral_id": case.rm_referral_id,
        "opened_at": case.opened_at,
        "version": 1,
    }


def _appointment_values(case_id: uuid.UUID, a: Appointment) -> dict[str, Any]:
    att = a.attendance
    return {
        "id": a.id,
        "case_id": case_id,
        "kind": a.kind.value,
        "session_number": a.session_number,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "delivery_type": a.delivery_type.value,
        "booked_at": a.booked_at,
        "attended": att.attended.value if att else None,
        "session_happened": att.session_happened if att else None,
        "no_session_reason": att.no_session_reason.value if att and att.no_session_reason else None,
        "notify_pp_of_concerns": att.notify_pp_of_concerns if att else None,
        "attendance_recorded_at": att.recorded_at if att else None,
    }


def _to_case(row: CaseRow, appointments: list[Appointment]) -> Case:
    return Case(
        id=row.id,
        referral_id=row.referral_id,
        hub_id=row.hub_id,
        probation_delivery_unit=row.probation_delivery_unit,
        crn=row.crn,
        reference_number=row.reference_number,
        rm_referral_id=row.rm_referral_id,
        opened_at=row.opened_at,
        appointments=appointments,
    )


def _to_appointment(row: AppointmentRow) -> Appointment:
    attendance = None
    if row.attended is not None and row.attendance_recorded_at is not None:
        attendance = Attendance(
            attended=Attended(row.attended),
            session_happened=bool(row.session_happened),
            no_session_reason=NoSessionReason(row.no_session_reason)
            if row.no_session_reason
            else None,
            notify_pp_of_concerns=bool(row.notify_pp_of_concerns),
            recorded_at=row.attendance_recorded_at,
        )
    return Appointment(
        id=row.id,
        kind=AppointmentKind(row.kind),
        session_number=row.session_number,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        delivery_type=DeliveryType(row.delivery_type),
        booked_at=row.booked_at,
        attendance=attendance,
    )

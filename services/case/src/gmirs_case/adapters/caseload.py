"""The caseload query behind `GET /cases`: newest first, filtered, searched, paged by keyset.

Every filter is one condition in `_conditions`, so one added later (the lifecycle `state`, the
assigned worker, overdue actions: columns other changes are adding) is one line there and one
field on `CaseloadFilter`. Search is a prefix of the CRN or the reference number, upper-cased on
both sides to meet the `upper(...) text_pattern_ops` indexes of revision 0006. Names (stored
apart, in `case_people`) are the seam: an `EXISTS` on that table joins `_search` when it lands.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gmirs_case.adapters.lifecycle import LifecycleRow
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.tables import CaseRow

Position = tuple[datetime, uuid.UUID]
"""Where a page ends: the last case's (opened_at, id)."""


@dataclass(frozen=True, slots=True)
class CaseloadFilter:
    hub_id: str | None
    probation_delivery_unit: str | None = None
    opened_from: datetime | None = None
    opened_before: datetime | None = None
    search: str | None = None
    state: str | None = None


def _conditions(f: CaseloadFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.hub_id is not ALL_HUBS:
        conditions.append(col(CaseRow.hub_id) == f.hub_id)
    if f.probation_delivery_unit is not None:
        conditions.append(col(CaseRow.probation_delivery_unit) == f.probation_delivery_unit)
    if f.opened_from is not None:
        conditions.append(col(CaseRow.opened_at) >= f.opened_from)
    if f.opened_before is not None:
        conditions.append(col(CaseRow.opened_at) < f.opened_before)
    if f.search is not None:
        conditions.append(_search(f.search))
    if f.state is not None:
        in_state = select(LifecycleRow.case_id).where(col(LifecycleRow.state) == f.state)  # type: ignore[call-overload]
        conditions.append(col(CaseRow.id).in_(in_state))
    return conditions


def _search(term: str) -> ColumnElement[bool]:
    """CRN or reference number starting with `term` (letters, digits and '-' only: no wildcards)."""
    prefix = term.upper() + "%"
    return or_(
        func.upper(col(CaseRow.crn)).like(prefix),
        func.upper(col(CaseRow.reference_number)).like(prefix),
    )


class CaseloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self, f: CaseloadFilter, *, limit: int, after: Position | None = None, offset: int = 0
    ) -> list[CaseRow]:
        """Up to `limit` cases, newest first, after `after` (or skipping `offset`)."""
        query: Select[Any] = select(CaseRow).where(*_conditions(f))
        if after is not None:
            query = query.where(tuple_(col(CaseRow.opened_at), col(CaseRow.id)) < tuple_(*after))
        query = query.order_by(col(CaseRow.opened_at).desc(), col(CaseRow.id).desc())
        rows = await self._session.execute(query.limit(limit).offset(offset))
        return list(rows.scalars().all())

    async def count(self, f: CaseloadFilter) -> int:
        counted = select(func.count()).select_from(CaseRow).where(*_conditions(f))
        return int((await self._session.execute(counted)).scalar_one())

    async def version(self, case_id: uuid.UUID, *, hub_id: str | None, lock: bool) -> int | None:
        """The case's version if the caller may see it (locked for the write about to follow)."""
        query = select(col(CaseRow.version)).where(col(CaseRow.id) == case_id)
        if hub_id is not ALL_HUBS:
            query = query.where(col(CaseRow.hub_id) == hub_id)
        if lock:
            query = query.with_for_update()
        return (await self._session.execute(query)).scalar_one_or_none()

    async def advance_version(self, case_id: uuid.UUID, *, read: int) -> int:
        """Move the locked case's version one past `read`, unless this transaction already did.

        A write that bumps the version itself (an appointment, a reallocation) is not counted
        twice: the row is locked, so a version other than `read` is this transaction's own.
        """
        version = col(CaseRow.version)
        moved = case((version == read, read + 1), else_=version)
        statement = (
            update(CaseRow)
            .where(col(CaseRow.id) == case_id)
            .values(version=moved)
            .returning(version)
        )
        return int((await self._session.execute(statement)).scalar_one())

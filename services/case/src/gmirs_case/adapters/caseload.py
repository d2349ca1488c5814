"""The caseload query behind `GET /cases`: newest first, filtered, searched, paged by keyset.

Every filter is one condition in `_conditions` and one field on `CaseloadFilter`. The assigned
worker is a semi-join on `worker_assignments` (by referral, indexed by worker in revision 0014);
overdue actions a semi-join on the open tasks due before a day (a partial index of revision
0014 holds only open tasks, so it stays small however many are done). Search matches the start of the CRN or the reference number (upper-cased on
both sides to meet the `upper(...) text_pattern_ops` indexes of revision 0006) or, from three
characters, any part of the person's name (`case_people.search_name`, case-folded, through the
trigram index of revision 0011). A page is read as the summary's columns only, from `cases`
alone: the lifecycle state is kept there too (revision 0015's trigger), so neither a page nor a
state filter joins `case_lifecycle` (the state filter is an index scan in page order), and no
domain object is built per row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Insert,
    RowMapping,
    Select,
    case,
    func,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gmirs_case.adapters.casework import case_tasks
from gmirs_case.adapters.people import case_people, worker_assignments
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.tables import CaseRow

Position = tuple[datetime, uuid.UUID]
"""Where a page ends: the last case's (opened_at, id)."""

NAME_SEARCH_FROM = 3
"""Names match from this many characters (a trigram index needs three to narrow anything)."""

_SUMMARY = (
    col(CaseRow.id),
    col(CaseRow.referral_id),
    col(CaseRow.hub_id),
    col(CaseRow.probation_delivery_unit),
    col(CaseRow.reference_number),
    col(CaseRow.opened_at),
    col(CaseRow.state),
)


@dataclass(frozen=True, slots=True)
class CaseloadFilter:
    hub_id: str | None
    probation_delivery_unit: str | None = None
    opened_from: datetime | None = None
    opened_before: datetime | None = None
    search: str | None = None
    """A CRN or reference number prefix, or part of a name: normalised as `search_name` is."""
    state: str | None = None
    worker: str | None = None
    """Only the cases assigned to this worker."""
    overdue_before: date | None = None
    """Only the cases with an open task due before this day (today, where the service is)."""


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
        conditions.append(col(CaseRow.state) == f.state)
    if f.worker is not None:
        assigned = worker_assignments.c.worker == f.worker
        conditions.append(
            col(CaseRow.referral_id).in_(select(worker_assignments.c.referral_id).where(assigned))
        )
    if f.overdue_before is not None:
        conditions.append(col(CaseRow.id).in_(_overdue(f.hub_id, f.overdue_before)))
    return conditions


def _overdue(hub_id: str | None, before: date) -> Select[tuple[uuid.UUID]]:
    """The cases with an open task due before `before` (the hub's only, when one is given)."""
    query = select(case_tasks.c.case_id).where(
        case_tasks.c.done_at.is_(None), case_tasks.c.due_on < before
    )
    if hub_id is not ALL_HUBS:
        query = query.where(case_tasks.c.hub_id == hub_id)
    return query


def _search(term: str) -> ColumnElement[bool]:
    """CRN or reference number starting with `term`, or (from three characters) a name holding it.

    The matches are a union of what each index finds, not an OR in one filter: an OR made the
    planner walk the whole caseload in date order testing every case (20 ms for a hub, 280 ms
    over every hub, at 100,000 cases); the union is a few index lookups, then a sort of the hits.
    """
    prefix = _escaped(term.upper()) + "%"
    arms = [
        select(col(CaseRow.id)).where(func.upper(col(CaseRow.crn)).like(prefix)),
        select(col(CaseRow.id)).where(func.upper(col(CaseRow.reference_number)).like(prefix)),
    ]
    if len(term) >= NAME_SEARCH_FROM:
        named = case_people.c.search_name.like(f"%{_escaped(term)}%")
        arms.append(select(case_people.c.case_id).where(named))
    return col(CaseRow.id).in_(union(*arms))


def _escaped(text: str) -> str:
    """`text` matched literally by LIKE (its default escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CaseloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self,
        f: CaseloadFilter,
        *,
        limit: int,
        after: Position | None = None,
        offset: int = 0,
        audited: Insert | None = None,
    ) -> list[RowMapping]:
        """Up to `limit` case summaries with their state, newest first, after `after` (or `offset`).

        `audited`, an audit row's INSERT, is sent in the same statement (a data-modifying CTE,
        which PostgreSQL runs exactly once whether or not it is referenced): the row and the
        page it describes are written and read together, in one round trip.
        """
        query = select(*_SUMMARY).where(*_conditions(f))
        if audited is not None:
            query = query.add_cte(audited.cte("audited"))
        if after is not None:
            query = query.where(tuple_(col(CaseRow.opened_at), col(CaseRow.id)) < tuple_(*after))
        query = query.order_by(col(CaseRow.opened_at).desc(), col(CaseRow.id).desc())
        rows = await self._session.execute(query.limit(limit).offset(offset))
        return list(rows.mappings().all())

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

"""The caseload query behind `GET /cases`: newest first, filtered, searched, paged by keyset.

Every filter is one condition in `_conditions` and one field on `CaseloadFilter`. The assigned
worker is kept on `cases` by revision 0016's triggers (an index scan in page order); overdue
actions a semi-join on the open tasks due before a day (a partial index of revision
0014 holds only open tasks, so it stays small however many are done). Search matches the start of the CRN or the reference number (upper-cased on
both sides to meet the `upper(...) text_pattern_ops` indexes of revision 0006) or, from three
characters and when it holds no digit, any part of the person's name (`case_people.search_name`, case-folded, through the
trigram index of revision 0011). A page is read as the summary's columns only, from `cases`
alone: the lifecycle state is kept there too (revision 0015's trigger), so neither a page nor a
state filter joins `case_lifecycle` (the state filter is an index scan in page order), and no
domain object is built per row. Each shape of the statement (which filters it has) is compiled
once and sent straight through asyncpg with the request's values (gmirs_runtime.precompiled).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    BindParameter,
    ClauseElement,
    ColumnElement,
    Integer,
    Select,
    bindparam,
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
from gmirs_case.adapters.people import case_people
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.tables import CaseRow
from gmirs_runtime import audit
from gmirs_runtime.precompiled import Compiled, Shapes, fetch

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


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which conditions a caseload statement has: each shape is compiled once."""

    every_hub: bool
    unit: bool
    opened_from: bool
    opened_before: bool
    search: bool
    name_search: bool
    state: bool
    worker: bool
    overdue: bool
    after: bool = False
    audited: bool = False
    count: bool = False

    @classmethod
    def of(cls, f: CaseloadFilter, **rest: bool) -> _Shape:
        return cls(
            every_hub=f.hub_id is ALL_HUBS,
            unit=f.probation_delivery_unit is not None,
            opened_from=f.opened_from is not None,
            opened_before=f.opened_before is not None,
            search=f.search is not None,
            name_search=f.search is not None and _may_be_a_name(f.search),
            state=f.state is not None,
            worker=f.worker is not None,
            overdue=f.overdue_before is not None,
            **rest,
        )


def _may_be_a_name(term: str) -> bool:
    """From three characters, and no digit: a term with a digit is a CRN's or a reference's
    start, and looking for it in names too cost a trigram scan (5 ms at 100,000 cases)."""
    return len(term) >= NAME_SEARCH_FROM and not any(c.isdigit() for c in term)


def _values(f: CaseloadFilter) -> dict[str, Any]:
    """The bind parameters' values (a shape uses those its conditions name)."""
    term = f.search or ""
    return {
        "hub_id": f.hub_id,
        "unit": f.probation_delivery_unit,
        "opened_from": f.opened_from,
        "opened_before": f.opened_before,
        "prefix": _escaped(term.upper()) + "%",
        "name": f"%{_escaped(term)}%",
        "state": f.state,
        "worker": f.worker,
        "overdue_before": f.overdue_before,
    }


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not shape.every_hub:
        conditions.append(col(CaseRow.hub_id) == bindparam("hub_id"))
    if shape.unit:
        conditions.append(col(CaseRow.probation_delivery_unit) == bindparam("unit"))
    if shape.opened_from:
        conditions.append(col(CaseRow.opened_at) >= bindparam("opened_from"))
    if shape.opened_before:
        conditions.append(col(CaseRow.opened_at) < bindparam("opened_before"))
    if shape.search:
        conditions.append(_search(shape.name_search, shape.every_hub))
    if shape.state:
        conditions.append(col(CaseRow.state) == bindparam("state"))
    if shape.worker:
        conditions.append(col(CaseRow.worker) == bindparam("worker"))
    if shape.overdue:
        conditions.append(col(CaseRow.id).in_(_overdue(shape.every_hub)))
    return conditions


def _overdue(every_hub: bool) -> Select[tuple[uuid.UUID]]:
    """The cases with an open task due before a day (the hub's only, unless every hub's)."""
    query = select(case_tasks.c.case_id).where(
        case_tasks.c.done_at.is_(None), case_tasks.c.due_on < bindparam("overdue_before")
    )
    if not every_hub:
        query = query.where(case_tasks.c.hub_id == bindparam("hub_id"))
    return query


def _search(by_name: bool, every_hub: bool) -> ColumnElement[bool]:
    """CRN or reference number starting with the term, or (from three characters) a name holding it.

    The matches are a union of what each index finds, not an OR in one filter: an OR made the
    planner walk the whole caseload in date order testing every case (20 ms for a hub, 280 ms
    over every hub, at 100,000 cases); the union is a few index lookups, then a sort of the hits.
    A hub's CRN and reference arms name the hub, to meet revision 0018's per-hub indexes.
    """
    prefix: BindParameter[str] = bindparam("prefix")
    arms = [
        select(col(CaseRow.id)).where(func.upper(col(CaseRow.crn)).like(prefix)),
        select(col(CaseRow.id)).where(func.upper(col(CaseRow.reference_number)).like(prefix)),
    ]
    if not every_hub:
        arms = [arm.where(col(CaseRow.hub_id) == bindparam("hub_id")) for arm in arms]
    if by_name:
        arms.append(
            select(case_people.c.case_id).where(case_people.c.search_name.like(bindparam("name")))
        )
    return col(CaseRow.id).in_(union(*arms))


def _escaped(text: str) -> str:
    """`text` matched literally by LIKE (its default escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _statement(shape: _Shape) -> ClauseElement:
    """The page (or, for `count`, the number of matches) of a shape, with bind parameters."""
    if shape.count:
        return select(func.count().label("n")).select_from(CaseRow).where(*_conditions(shape))
    query = select(*_SUMMARY).where(*_conditions(shape))
    if shape.audited:
        query = query.add_cte(audit.entry_template().cte("audited"))
    if shape.after:
        after = tuple_(bindparam("after_at"), bindparam("after_id"))
        query = query.where(tuple_(col(CaseRow.opened_at), col(CaseRow.id)) < after)
    query = query.order_by(col(CaseRow.opened_at).desc(), col(CaseRow.id).desc())
    return query.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))


_SHAPES = Shapes(_statement)


def page_statement(f: CaseloadFilter, *, after: bool = False, audited: bool = False) -> Compiled:
    """The compiled page statement for `f`'s filters (the caseload bench's floor runs it too)."""
    return _SHAPES[_Shape.of(f, after=after, audited=audited)]


def page_values(
    f: CaseloadFilter,
    *,
    limit: int,
    offset: int = 0,
    after: Position | None = None,
    audited: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The page statement's bind parameters' values."""
    values = {**_values(f), **(audited or {}), "limit": limit, "offset": offset}
    if after is not None:
        values["after_at"], values["after_id"] = after
    return values


async def read_page(
    connection: asyncpg.Connection,
    f: CaseloadFilter,
    *,
    limit: int,
    after: Position | None = None,
    offset: int = 0,
    audited: Mapping[str, str | None] | None = None,
) -> Sequence[Mapping[str, Any]]:
    """Up to `limit` case summaries with their state, newest first, after `after` (or `offset`).

    `audited`, an audit row's values (`audit.row_values`), is written by the same
    statement (a data-modifying CTE, which PostgreSQL runs exactly once whether or not it is
    referenced): the row and the page it describes are written and read together, in one
    round trip, without a transaction (`DirectConnections`): the statement is compiled once per
    shape and sent straight through asyncpg (gmirs_runtime.precompiled).
    """
    statement = page_statement(f, after=after is not None, audited=audited is not None)
    values = page_values(f, limit=limit, offset=offset, after=after, audited=audited)
    return await fetch(connection, statement, values)


async def count_matching(connection: asyncpg.Connection, f: CaseloadFilter) -> int:
    rows = await fetch(connection, _SHAPES[_Shape.of(f, count=True)], _values(f))
    return int(rows[0]["n"])


class CaseloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

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

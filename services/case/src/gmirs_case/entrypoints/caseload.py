"""`GET /cases`: the caller's caseload newest first, filtered, searched and paged by cursor.

A first page (no `cursor`) asked `with_total=true` carries `total`, the number of cases matching
the filters (a count costs as much as the page itself at 10,000 cases a hub, so only on request);
each page carries `next_cursor` (and `next`, the same query for the following page) until the last. Paging
by cursor never repeats or skips a case while cases are opened: new cases sort before the first
page. `offset` still works for existing clients (without `total` past the first page it would
count on every page, and `total` is given only with `with_total=true`); it cannot be combined with a cursor.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel

from gmirs_case.adapters.caseload import CaseloadFilter
from gmirs_case.adapters.records import from_record
from gmirs_case.domain.model import Case
from gmirs_case.entrypoints.deps import CaseWorker, UoW, hub_scope
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.entrypoints.schemas import CaseSummary
from gmirs_contracts.case_lifecycle import CaseState as StateName
from gmirs_contracts.common import Day, ProbationDeliveryUnit
from gmirs_runtime.cursors import CursorQuery, decode_cursor, encode_cursor, scope_of
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["cases"])

Search = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=40,
        pattern=r"^[A-Za-z0-9-]+$",
        description="The start of a CRN or an R&M reference number (any case).",
    ),
]


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int | None
    """Cases matching the filters, when asked (`with_total=true`) on a first page; else None."""
    limit: int
    offset: int
    next_cursor: str | None
    next: str | None


@router.get("", responses=problem_responses(422))
async def list_cases(
    request: Request,
    principal: CaseWorker,
    uow: UoW,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
    cursor: Annotated[str | None, CursorQuery] = None,
    probation_delivery_unit: ProbationDeliveryUnit | None = None,
    opened_from: Annotated[
        Day | None, Query(description="Opened on or after this day (UTC).")
    ] = None,
    opened_to: Annotated[
        Day | None, Query(description="Opened on or before this day (UTC).")
    ] = None,
    q: Search = None,
    state: StateName | None = None,
    with_total: Annotated[
        bool, Query(description="Count the matching cases (first page only): costs a count.")
    ] = False,
) -> CasePage:
    """The caller's caseload, newest first (a hub: its own cases; the lead provider: all)."""
    wanted = CaseloadFilter(
        hub_id=hub_scope(principal),
        probation_delivery_unit=probation_delivery_unit,
        opened_from=_start_of(opened_from),
        opened_before=_start_of(opened_to + timedelta(days=1) if opened_to else None),
        search=q,
        state=state,
    )
    scope = scope_of({k: v for k, v in request.query_params.items() if k in _FILTERS})
    if cursor is not None and offset:
        raise Problem(422, detail="Give either cursor or offset, not both.")
    after = decode_cursor(cursor, scope) if cursor is not None else None
    rows = await uow.caseload.page(wanted, limit=limit + 1, after=after, offset=offset)
    total = await uow.caseload.count(wanted) if with_total and cursor is None else None
    items = [CaseSummary.model_validate(from_record(Case, r, appointments=[])) for r in rows]
    next_cursor = None
    if len(items) > limit:
        items, last = items[:limit], items[limit - 1]
        next_cursor = encode_cursor(last.opened_at, last.id, scope)
    return CasePage(
        items=items,
        total=total,
        limit=limit,
        offset=offset,
        next_cursor=next_cursor,
        next=_next_link(request, next_cursor),
    )


_FILTERS = ("probation_delivery_unit", "opened_from", "opened_to", "q", "state")


def _start_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


def _next_link(request: Request, next_cursor: str | None) -> str | None:
    if next_cursor is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in (*_FILTERS, "limit")]
    return f"{request.url.path}?{urlencode([*kept, ('cursor', next_cursor)])}"

"""`GET /cases`: the caller's caseload newest first, filtered, searched and paged by cursor.

A first page (no `cursor`) asked `with_total=true` carries `total`, the number of cases matching
the filters (a count costs as much as the page itself at 10,000 cases a hub, so only on request);
each page carries `next_cursor` (and `next`, the same query for the following page) until the last. Paging
by cursor never repeats or skips a case while cases are opened: new cases sort before the first
page. `offset` still works for existing clients (without `total` past the first page it would
count on every page, and `total` is given only with `with_total=true`); it cannot be combined with a cursor.

`worker` keeps the cases assigned to that worker; `overdue=true` the cases with an open task due
before today (in Greater Manchester, by the service's clock, as `GET /tasks?overdue=true`).

`q` finds a CRN or reference number by its start, or a person by any part of their name (from
three characters, with no digit). A search reads personal data (who matches a name), so it is audited: who
searched, and in which caseload, never the term. A list holds its database connection only for
its statements (checked out of the pool past the unit of work, autocommit: no BEGIN or ROLLBACK
round trips; the audit row is written by the page's own statement, so a search and its audit row
succeed or fail together), never while the page is serialised and sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from pydantic import BaseModel

from gmirs_case.adapters.caseload import CaseloadFilter, count_matching, read_page
from gmirs_case.domain.casework import today
from gmirs_case.domain.people import normalised_name
from gmirs_case.entrypoints.access import Now
from gmirs_case.entrypoints.deps import CaseWorker, Direct, hub_scope
from gmirs_case.entrypoints.routing import case_router
from gmirs_case.entrypoints.schemas import CaseSummary
from gmirs_contracts.case_lifecycle import CaseState as StateName
from gmirs_contracts.case_people import WorkerUsername
from gmirs_contracts.common import Day, ProbationDeliveryUnit
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal
from gmirs_runtime.cursors import CursorQuery, decode_cursor, encode_cursor, scope_of
from gmirs_runtime.json_body import json_response
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = case_router(prefix="/cases", tags=["cases"])

Search = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=60,
        pattern=r"^[^\x00-\x1f\x7f%_\\]+$",
        description=(
            "The start of a CRN or an R&M reference number, or (from three characters, with no digit) any part"
            " of the person's name; any letter case. The search is audited (never its term)."
        ),
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


@router.get("", response_model=CasePage, responses=problem_responses(422))
async def list_cases(
    request: Request,
    principal: CaseWorker,
    reads: Direct,
    now: Now,
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
    worker: Annotated[
        WorkerUsername | None, Query(description="Only the cases assigned to this worker.")
    ] = None,
    overdue: Annotated[
        bool, Query(description="Only the cases with an open task due before today.")
    ] = False,
    with_total: Annotated[
        bool, Query(description="Count the matching cases (first page only): costs a count.")
    ] = False,
) -> Response:
    """The caller's caseload, newest first (a hub: its own cases; the lead provider: all)."""
    wanted = CaseloadFilter(
        hub_id=hub_scope(principal),
        probation_delivery_unit=probation_delivery_unit,
        opened_from=_start_of(opened_from),
        opened_before=_start_of(opened_to + timedelta(days=1) if opened_to else None),
        search=_search_term(q),
        state=state,
        worker=worker,
        overdue_before=today(now) if overdue else None,
    )
    scope = scope_of({k: v for k, v in request.query_params.items() if k in _FILTERS})
    if cursor is not None and offset:
        raise Problem(422, detail="Give either cursor or offset, not both.")
    after = decode_cursor(cursor, scope) if cursor is not None else None
    audited = _search_audit(principal, wanted.hub_id) if wanted.search is not None else None
    async with reads.connection() as connection:  # back before the page is built and sent
        rows = await read_page(
            connection, wanted, limit=limit + 1, after=after, offset=offset, audited=audited
        )
        counted = with_total and cursor is None
        total = await count_matching(connection, wanted) if counted else None
    next_cursor = None
    if len(rows) > limit:
        rows, last = rows[:limit], rows[limit - 1]
        next_cursor = encode_cursor(last["opened_at"], last["id"], scope)
    page = {  # CasePage's fields, in its order: the rows are CaseSummary's typed columns
        "items": [dict(row) for row in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_cursor": next_cursor,
        "next": _next_link(request, next_cursor),
    }
    return json_response(page)


_FILTERS = (
    "probation_delivery_unit",
    "opened_from",
    "opened_to",
    "q",
    "state",
    "worker",
    "overdue",
)


def _search_term(q: str | None) -> str | None:
    """The term as names are stored for search (case-folded, single-spaced); 422 if blank."""
    if q is None:
        return None
    term = normalised_name(q)
    if len(term) < 2:
        raise Problem(
            422,
            detail="Search for at least two characters.",
            errors=[{"field": "query.q", "message": "at least two characters"}],
        )
    return term


def _search_audit(principal: Principal, hub_id: str | None) -> dict[str, str | None]:
    """Who searched which caseload (a hub's, or every hub's); the term is never kept. Sent in
    the page's own statement: the search and its audit row are one atomic write and read."""
    return audit.row_values(
        actor=principal.client_id,
        action="search",
        resource_type="caseload",
        resource_id=hub_id or "all-hubs",
    )


def _start_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


def _next_link(request: Request, next_cursor: str | None) -> str | None:
    if next_cursor is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in (*_FILTERS, "limit")]
    return f"{request.url.path}?{urlencode([*kept, ('cursor', next_cursor)])}"

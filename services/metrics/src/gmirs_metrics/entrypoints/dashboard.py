"""The dashboard: one HTML page per month for the lead provider and commissioners.

Authentication is the API's own: every request carries the person's bearer access token, put
there by the single sign-on gateway in front of the service (an authenticating reverse proxy
that holds the session and forwards `Authorization: Bearer ...`), exactly as every other call
of this API. So the page sets no cookie, holds no token in script (there is no script), and its
links (the pack, other months) are plain GETs through the same gateway. The page takes its
figures from the `FiguresSource` the composition root hands over; viewing it is audited.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from gmirs_metrics.domain.figures import FiguresSource, MonthlyFigures
from gmirs_metrics.domain.periods import UK
from gmirs_metrics.entrypoints.activity import (
    COMMISSIONER,
    LEAD,
    MONTH_PATTERN,
    Now,
    UoW,
    reportable_month,
)
from gmirs_metrics.web import dashboard_page
from gmirs_runtime import audit
from gmirs_runtime.auth import authenticated_router, principal_of
from gmirs_runtime.problems import Problem, problem_responses

router = authenticated_router(roles=(COMMISSIONER, LEAD), tags=["dashboard"])
STYLESHEET = (Path(dashboard_page.__file__).parent / "dashboard.css").read_bytes()
TREND_MONTHS = 6
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'none'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def figures_source(request: Request) -> FiguresSource:
    source: FiguresSource = request.app.state.figures
    return source


Figures = Annotated[FiguresSource, Depends(figures_source)]


def latest_month(now: datetime) -> date:
    """The last complete month, the dashboard's default."""
    first = now.astimezone(UK).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def months_before(month: date, count: int) -> list[date]:
    """`count` months ending with `month`, oldest first."""
    months = [month]
    while len(months) < count:
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    return months


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **problem_responses(422),
    },
)
async def dashboard(
    request: Request,
    source: Figures,
    uow: UoW,
    clock: Now,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, examples=["2026-11"])] = None,
) -> HTMLResponse:
    """The month's KPI tiles, borough trends, 24-hour report chart, activity and pack links
    (the last complete month when none is asked for)."""
    latest = latest_month(clock())
    chosen = latest if month is None else reportable_month(month, clock(), "query.month")
    if chosen > latest:
        raise Problem(
            422,
            detail="The dashboard shows complete months only.",
            errors=[{"field": "query.month", "message": "the month is not complete yet"}],
        )
    history: list[MonthlyFigures] = [
        await source.figures_for(m) for m in months_before(chosen, TREND_MONTHS)
    ]
    await audit.record(
        uow.session,
        actor=principal_of(request).client_id,
        action="dashboard.viewed",
        resource_type="dashboard",
        resource_id=f"{chosen:%Y-%m}",
    )
    await uow.commit()
    page = dashboard_page.render(history[-1], history, latest)
    return HTMLResponse(page, headers=HEADERS)


@router.get(
    "/dashboard/static/dashboard.css",
    response_class=Response,
    responses={200: {"content": {"text/css": {"schema": {"type": "string"}}}}},
)
async def dashboard_stylesheet() -> Response:
    """The dashboard's only stylesheet (served here: the page loads nothing from elsewhere)."""
    return Response(
        STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )

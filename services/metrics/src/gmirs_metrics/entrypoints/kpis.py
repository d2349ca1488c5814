"""`GET /kpis`: a month's KPIs (DS1-DS5, KP1-KP6, PM001, SL002), the 24-hour report times and
distance travelled, per hub and overall. Aggregates only; every read is audited.

Commissioners, the lead provider and operators read every hub; a hub reads its own hub only.
"Now" is the service's clock (`app.state.clock`: the wall clock, or one tests control): a case
still inside its window at that moment is pending, not failed. The readings where the specification allows
two come from settings (`app.state.kpi_readings`, see MEASURES.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.adapters.kpi_calendar import MonthWindow
from gmirs_metrics.adapters.kpi_queries import KpiMonth
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.figures import ALL_HUBS, Status
from gmirs_metrics.domain.kpi_readings import KpiReadings
from gmirs_metrics.domain.periods import parse_month
from gmirs_metrics.entrypoints.activity import Now
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.deps import unit_of_work
from gmirs_runtime.problems import Problem, problem_responses

router = authenticated_router(tags=["kpis"])
Reader = Annotated[
    Principal, Depends(require_roles("commissioner", "lead-provider", "operator", "hub"))
]
UoW = Annotated[MetricsUnitOfWork, Depends(unit_of_work)]
Month = Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
Hub = Annotated[str | None, Query(pattern=r"^[a-z-]{1,40}$", examples=["bolton"])]
FIRST_YEAR, LAST_YEAR = 2000, 2199


class KpiFigureOut(BaseModel):
    code: str
    area: str
    numerator: int
    denominator: int
    percentage: float | None
    target_percent: float | None
    status: Status
    mitigated: int
    pending: int
    excluded: int


class ReportTimesOut(BaseModel):
    area: str
    due: int
    completed_in_time: int
    p50_seconds: int | None
    p95_seconds: int | None
    max_seconds: int | None
    escalations: int
    breaches_by_cause: dict[str, int]


class DistanceTravelledOut(BaseModel):
    area: str
    outcome_area: str
    people: int
    mean_change: float | None


class MonthKpis(BaseModel):
    month: date
    as_of: datetime
    """The clock's time the figures were judged at (pending cases are inside their window)."""
    hub: str | None
    kpis: list[KpiFigureOut]
    reports: list[ReportTimesOut]
    distance: list[DistanceTravelledOut]


def _month(text: str) -> date:
    try:
        first_day = parse_month(text)
    except ValueError:
        raise Problem(422, detail="month must look like 2026-11") from None
    if not FIRST_YEAR <= first_day.year <= LAST_YEAR:
        raise Problem(422, detail=f"month must be between {FIRST_YEAR} and {LAST_YEAR}")
    return first_day


def _hub_in_view(principal: Principal, hub: str | None) -> str | None:
    """The hub whose figures the caller may see: a hub caller sees only its own."""
    if hub is not None and hub not in HUB_IDS:
        raise Problem(422, detail="hub must be one of the Greater Manchester hubs")
    if principal.has_any_role("commissioner", "lead-provider", "operator"):
        return hub
    if hub is not None and hub != principal.tenant_id:
        raise Problem(403, detail="A hub may read its own hub's figures only.")
    if principal.tenant_id not in HUB_IDS:
        raise Problem(403, detail="The client's token names no hub.")
    return principal.tenant_id


@router.get("/kpis", responses=problem_responses(422))
async def month_kpis(
    request: Request, month: Month, principal: Reader, uow: UoW, clock: Now, hub: Hub = None
) -> MonthKpis:
    """A month's KPIs with numerator, denominator, percentage, target and status, the 24-hour
    report times and distance travelled; per hub and `all` (only `hub`'s rows when given)."""
    first_day = _month(month)
    in_view = _hub_in_view(principal, hub)
    readings: KpiReadings = getattr(request.app.state, "kpi_readings", KpiReadings())
    window = MonthWindow(first_day, clock())
    figures = await uow.kpi_queries(readings).month(window)
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action="read",
        resource_type="kpis",
        resource_id=f"{month}/{in_view or ALL_HUBS}",
    )
    await uow.commit()
    return _render(first_day, window.now, in_view, figures)


def _render(month: date, as_of: datetime, hub: str | None, figures: KpiMonth) -> MonthKpis:
    def shown(area: str) -> bool:
        return hub is None or area == hub

    return MonthKpis(
        month=month,
        as_of=as_of,
        hub=hub,
        kpis=[
            KpiFigureOut(
                code=f.code,
                area=f.area,
                numerator=f.numerator,
                denominator=f.denominator,
                percentage=f.percentage,
                target_percent=f.target_percent,
                status=f.status,
                mitigated=f.mitigated,
                pending=f.pending,
                excluded=f.excluded,
            )
            for f in figures.kpis
            if shown(f.area)
        ],
        reports=[ReportTimesOut(**vars(r)) for r in figures.reports if shown(r.area)],
        distance=[DistanceTravelledOut(**vars(d)) for d in figures.distance if shown(d.area)],
    )

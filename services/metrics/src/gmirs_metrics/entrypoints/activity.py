"""The provider's own activity figures (Appendix A indicators 12 to 16), entered through the API.

`PUT /activity/{month}/{hub_id}/{measure}` sets one figure: the lead provider for any hub (or for
itself, `lead-provider`), a hub for its own borough only. Entering the same value again changes
nothing (idempotent); a new value replaces the old one. Each change is audited (who, which
figure); the figures are about the service, not about people, so reading them is not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.indicators_activity import (
    ACTIVITY_AREAS,
    EARLIEST_MONTH,
    MEASURES,
    value_problem,
)
from gmirs_metrics.domain.periods import UK, parse_month
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.deps import unit_of_work
from gmirs_runtime.problems import Problem, problem_responses

HUB, LEAD, COMMISSIONER, OPERATOR = "hub", "lead-provider", "commissioner", "operator"
router = authenticated_router(tags=["provider activity"])
Entrant = Annotated[Principal, Depends(require_roles(HUB, LEAD))]
Reader = Annotated[Principal, Depends(require_roles(HUB, LEAD, COMMISSIONER, OPERATOR))]
UoW = Annotated[MetricsUnitOfWork, Depends(unit_of_work)]
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, examples=["2026-11"])]
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, examples=["2026-11"])]
Area = Annotated[
    str,
    Path(pattern="^(" + "|".join(ACTIVITY_AREAS) + ")$", description="A hub, or lead-provider."),
]
Measure = Annotated[str, Path(pattern="^(" + "|".join(MEASURES) + ")$")]
Clock = Callable[[], datetime]


def app_clock(request: Request) -> Clock:
    """The service's clock (tests set one they control)."""
    clock: Clock = request.app.state.clock
    return clock


Now = Annotated[Clock, Depends(app_clock)]


class ActivityValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Decimal = Field(
        description="A count (a whole number), hours or pounds (at most two decimal places)."
    )


class ActivityFigure(BaseModel):
    hub_id: str = Field(description="A hub, or lead-provider.")
    measure: str
    indicator: str = Field(description="The Appendix A indicator it reports (A12 to A16).")
    label: str
    unit: str
    value: Decimal = Field(
        description="Exact, as a string: a count has no decimals, hours and pounds two."
    )
    entered_at: datetime


class ActivityMonth(BaseModel):
    month: date
    figures: list[ActivityFigure]


def reportable_month(text: str, now: datetime, field: str = "path.month") -> date:
    """The month a figure is for: not before the service, not after the current month
    (`field` names where the month was given, in the problem document)."""
    local = now.astimezone(UK)
    try:
        month = parse_month(text)
    except ValueError:
        month = EARLIEST_MONTH.replace(year=EARLIEST_MONTH.year - 1)  # refused below
    if month < EARLIEST_MONTH or month > date(local.year, local.month, 1):
        raise Problem(
            422,
            detail=f"month must be between {EARLIEST_MONTH:%Y-%m} and the current month",
            errors=[{"field": field, "message": "not a month that can be reported"}],
        )
    return month


def hub_scope(principal: Principal) -> str | None:
    """A hub user's own hub; None (every area) for the other roles."""
    if HUB not in principal.roles:
        return None
    if principal.tenant_id is None:
        raise Problem(403, detail="A hub token must name its hub.")
    return principal.tenant_id


@router.put("/activity/{month}/{hub_id}/{measure}", responses=problem_responses(403, 422))
async def enter_activity(
    month: MonthPath,
    hub_id: Area,
    measure: Measure,
    body: ActivityValue,
    principal: Entrant,
    uow: UoW,
    clock: Now,
) -> ActivityFigure:
    """Set one month's figure for a hub (or the lead provider); the same value again is a no-op."""
    now = clock()
    first_day = reportable_month(month, now)
    scope = hub_scope(principal)
    if scope is not None and scope != hub_id:
        raise Problem(403, detail="A hub enters figures for its own hub only.")
    definition = MEASURES[measure]
    problem = value_problem(definition, body.value)
    if problem is not None:
        raise Problem(422, detail=problem, errors=[{"field": "body.value", "message": problem}])
    stored = await uow.provider_activity.put(
        month=first_day,
        hub=hub_id,
        measure=measure,
        value=body.value,
        by=principal.client_id,
        at=now,
    )
    if stored:
        await audit.record(
            uow.session,
            actor=principal.client_id,
            action="provider-activity.entered",
            resource_type="provider-activity",
            resource_id=f"{month}/{hub_id}/{measure}",
        )
    entries = await uow.provider_activity.for_month(first_day, hub_id)
    await uow.commit()
    entry = next(e for e in entries if e.measure == measure)
    return _figure(entry.area, entry.measure, entry.value, entry.entered_at)


@router.get("/activity", responses=problem_responses(422))
async def list_activity(
    month: MonthQuery, principal: Reader, uow: UoW, clock: Now
) -> ActivityMonth:
    """The figures entered for a month: every area's, or a hub's own."""
    first_day = reportable_month(month, clock())
    entries = await uow.provider_activity.for_month(first_day, hub_scope(principal))
    figures = [_figure(e.area, e.measure, e.value, e.entered_at) for e in entries]
    return ActivityMonth(month=first_day, figures=figures)


def _figure(area: str, measure: str, value: Decimal, entered_at: datetime) -> ActivityFigure:
    definition = MEASURES[measure]
    return ActivityFigure(
        hub_id=area,
        measure=measure,
        indicator=definition.indicator,
        label=definition.label,
        unit=definition.unit,
        value=value.quantize(Decimal(1) if definition.whole else Decimal("0.01")),
        entered_at=entered_at,
    )

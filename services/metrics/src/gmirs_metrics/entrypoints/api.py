"""KPI reads. Aggregates only: no personal data leaves this API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.periods import parse_month
from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.deps import unit_of_work
from gmirs_runtime.problems import Problem, problem_responses

router = authenticated_router(prefix="/kpis", tags=["kpis"])
Reader = Annotated[Principal, Depends(require_roles("commissioner", "lead-provider", "operator"))]
UoW = Annotated[MetricsUnitOfWork, Depends(unit_of_work)]
Month = Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]


class BoroughCount(BaseModel):
    hub_id: str
    referrals: int


class ReferralsByBorough(BaseModel):
    month: date
    boroughs: list[BoroughCount]
    total: int


@router.get("/referrals-by-borough", responses=problem_responses(422))
async def referrals_by_borough(month: Month, principal: Reader, uow: UoW) -> ReferralsByBorough:
    """Referrals received in a month, per borough hub (`unrouted`: held for the lead provider)."""
    try:
        first_day = parse_month(month)
    except ValueError:
        raise Problem(422, detail="month must look like 2026-11") from None
    counts = await uow.referral_counts.for_month(first_day)
    boroughs = [BoroughCount(hub_id=hub, referrals=n) for hub, n in counts]
    return ReferralsByBorough(
        month=first_day, boroughs=boroughs, total=sum(b.referrals for b in boroughs)
    )

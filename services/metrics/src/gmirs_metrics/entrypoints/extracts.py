"""`GET /extracts/cases.csv?month=`: the commissioner's case-level extract, the one place a
row per case leaves metrics. Only the allowed fields (domain/pack_extract.py), CSV-injection
safe, audited (who, when, which month, how many rows) in the read's own transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from gmirs_metrics.adapters.pack_csv import MEDIA_TYPE, csv_bytes
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.pack_extract import EXTRACT_HEADER
from gmirs_metrics.domain.periods import parse_month
from gmirs_metrics.entrypoints.pack import MONTH_PATTERN, audit_reason
from gmirs_runtime import audit
from gmirs_runtime.auth import authenticated_router, principal_of
from gmirs_runtime.deps import unit_of_work
from gmirs_runtime.problems import problem_responses

router = authenticated_router(prefix="/extracts", tags=["extracts"], roles=("commissioner",))
UoW = Annotated[MetricsUnitOfWork, Depends(unit_of_work)]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, examples=["2026-11"])]


@router.get(
    "/cases.csv",
    response_class=Response,
    responses={
        200: {"description": "One row per case, allowed fields only.", "content": {MEDIA_TYPE: {}}},
        **problem_responses(422),
    },
)
async def cases_csv(request: Request, month: Month, uow: UoW) -> Response:
    """Cases whose referral was sent in the month: ids, hub, PDU, milestone dates, closure
    reason and outcome counts. Never names, CRN, dates of birth or free text."""
    principal = principal_of(request)
    rows = await uow.case_extract.for_month(parse_month(month))
    filename = f"gmirs-cases-{month}.csv"
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action="extract",
        resource_type="case-extract",
        resource_id=filename,
        reason=f"{audit_reason(request)} ({len(rows)} cases)",
    )
    await uow.commit()
    return Response(
        csv_bytes(EXTRACT_HEADER, rows),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )

"""Operators watch the statutory reports: open, at risk and breached, with causes; retry now.

Operator role only. Reports hold ids, the hub, times and causes, never personal data; reading
the list and retrying are both audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, status

from gmirs_notify.domain.report import ReportStatus
from gmirs_notify.entrypoints.deps import Operator, UoW
from gmirs_notify.entrypoints.report_schemas import ReportPage, ReportRead, ReportStatusName
from gmirs_notify.handlers import reports as handlers
from gmirs_notify.handlers.clock import Clock
from gmirs_runtime import audit
from gmirs_runtime.auth import authenticated_router
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = authenticated_router(prefix="/operator/reports", tags=["reports"])


def app_clock(request: Request) -> Clock:
    """The service's clock (tests move it forward)."""
    clock: Clock = request.app.state.clock
    return clock


Now = Annotated[Clock, Depends(app_clock)]


@router.get("", responses=problem_responses(422))
async def list_reports(
    principal: Operator,
    uow: UoW,
    status: ReportStatusName | None = None,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> ReportPage:
    """Reports, earliest deadline first: `open` (unacknowledged), `at_risk` (escalated, not yet
    breached), `breached` (deadline missed, even if acknowledged late) or `acknowledged`."""
    wanted = ReportStatus(status) if status is not None else None
    found, total = await uow.reports.page(status=wanted, limit=limit, offset=offset)
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action="report.listed",
        resource_type="report",
        reason=f"status={status or 'any'}",
    )
    await uow.commit()
    items = [ReportRead.of(r) for r in found]
    return ReportPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/{report_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409),
)
async def retry_report(
    report_id: uuid.UUID, principal: Operator, uow: UoW, clock: Now
) -> ReportRead:
    """Retry now: the report's pending webhook deliveries fall due, an unsent escalation email is
    tried again, and the clock judges the report at once. 409 once the report is acknowledged."""
    try:
        report = await handlers.retry_now(uow, report_id, actor=principal.client_id, now=clock())
    except handlers.ReportNotFoundError:
        raise Problem(404, detail="No such report.") from None
    except handlers.ReportCompleteError:
        raise Problem(
            409, detail="The report is acknowledged; there is nothing to retry."
        ) from None
    await uow.commit()
    return ReportRead.of(report)

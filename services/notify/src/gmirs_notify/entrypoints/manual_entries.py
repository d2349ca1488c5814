"""The manual-entry queue: what a hub must enter in R&M by hand, and the person's confirmation.

Hub users see their own hub's queue (another hub's is 404, as if it did not exist); the lead
provider sees every hub's. Each entry carries what is needed to find the session in R&M and
enter the non-attendance: the referral reference, the CRN (R&M's search key), the session number,
the appointment's times, the link to the session in R&M and the facts; never the person's name.
Reading the queue (it holds CRNs) and confirming are audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from gmirs_notify.entrypoints.deps import UoW
from gmirs_notify.entrypoints.manual_entry_schemas import ManualEntryPage, ManualEntryRead
from gmirs_notify.entrypoints.reports import Now
from gmirs_notify.handlers import manual_entries as handlers
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal, authenticated_router, require_roles
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

HUB, LEAD_PROVIDER = "hub", "lead-provider"
router = authenticated_router(tags=["manual entries"])
HubWorker = Annotated[Principal, Depends(require_roles(HUB, LEAD_PROVIDER))]


def hub_scope(principal: Principal) -> str | None:
    """A hub user's own hub; every hub (None) for the lead provider."""
    if HUB in principal.roles:
        if principal.tenant_id is None:
            raise Problem(403, detail="A hub token must name its hub.")
        return principal.tenant_id
    return handlers.ALL_HUBS


def rm_ui_base_url(request: Request) -> str:
    """R&M's web address (`RM_UI_BASE_URL`), for each entry's link to the referral."""
    url: str = request.app.state.rm_ui_base_url
    return url


@router.get("/hubs/{hub_id}/manual-entries", responses=problem_responses(404, 422))
async def list_manual_entries(
    hub_id: str,
    principal: HubWorker,
    uow: UoW,
    request: Request,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> ManualEntryPage:
    """Non-attendance R&M refused from the platform, earliest deadline first: enter each in R&M
    by hand, then confirm it (POST /manual-entries/{report_id}/done)."""
    scope = hub_scope(principal)
    if scope not in (handlers.ALL_HUBS, hub_id):
        raise Problem(404, detail="No such hub.")
    found = await uow.rm_writebacks.manual_queue(hub_id, limit=limit, offset=offset)
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action="manual-entry.listed",
        resource_type="hub",
        resource_id=hub_id,
    )
    await uow.commit()
    link = rm_ui_base_url(request)
    items = [ManualEntryRead.of(w, link) for w in found]
    return ManualEntryPage(items=items, limit=limit, offset=offset)


@router.post("/manual-entries/{report_id}/done", responses=problem_responses(404, 409))
async def confirm_manual_entry(
    report_id: uuid.UUID, principal: HubWorker, uow: UoW, clock: Now, request: Request
) -> ManualEntryRead:
    """I entered this non-attendance in R&M: completes its report (once; again answers the same).
    409 if the report is not waiting for a manual entry."""
    policy = request.app.state.report_policy
    try:
        done = await handlers.confirm_done(
            uow,
            report_id,
            actor=principal.client_id,
            hub_scope=hub_scope(principal),
            now=clock(),
            policy=policy,
        )
    except handlers.ManualEntryNotFoundError:
        raise Problem(404, detail="No such manual entry.") from None
    except handlers.NotOnQueueError:
        raise Problem(409, detail="This report is not waiting for a manual entry.") from None
    await uow.commit()
    return ManualEntryRead.of(done, rm_ui_base_url(request))

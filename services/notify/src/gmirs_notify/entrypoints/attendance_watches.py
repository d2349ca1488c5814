"""Operators see the attendance watchdog: appointments watched, and those warned as at risk.

Operator role only. A watch holds ids, the hub and times, never personal data; reading the list
is audited like the reports list.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel

from gmirs_notify.domain.attendance_watch import OPEN_STATES, Watch, WatchdogPolicy, WatchState
from gmirs_notify.entrypoints.deps import Operator, UoW, Watching
from gmirs_runtime import audit
from gmirs_runtime.auth import authenticated_router
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import problem_responses

router = authenticated_router(prefix="/operator/attendance-watches", tags=["attendance watchdog"])
WatchStatus = Literal["watching", "warned", "recorded", "cancelled"]


class WatchRead(BaseModel):
    appointment_id: uuid.UUID
    case_id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    appointment_kind: Literal["initial-assessment", "session"]
    status: WatchStatus
    appointment_ends_at: AwareDatetime
    warn_at: AwareDatetime
    """When the watchdog warns (or warned) if attendance is still unrecorded."""
    warned_at: AwareDatetime | None
    email_sent_at: AwareDatetime | None
    """When the hub's named contact was emailed (null: not yet, or Notify is off)."""
    closed_at: AwareDatetime | None
    """When attendance was recorded or the appointment cancelled."""

    @classmethod
    def of(cls, w: Watch, policy: WatchdogPolicy) -> WatchRead:
        return cls(
            appointment_id=w.appointment_id,
            case_id=w.case_id,
            referral_id=w.referral_id,
            hub_id=w.hub_id,
            appointment_kind=w.appointment_kind,
            status=w.state.value,
            appointment_ends_at=w.ends_at,
            warn_at=policy.warn_at(w.ends_at),
            warned_at=w.warned_at,
            email_sent_at=w.email_sent_at,
            closed_at=w.closed_at,
        )


class WatchPage(BaseModel):
    items: list[WatchRead]
    total: int
    limit: int
    offset: int


@router.get("", responses=problem_responses(422))
async def list_watches(
    principal: Operator,
    uow: UoW,
    policy: Watching,
    status: WatchStatus | None = None,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> WatchPage:
    """Watched appointments, earliest end first: `warned` (attendance still unrecorded after
    the watchdog's delay: at risk), `watching`, `recorded` or `cancelled`; by default the open
    ones (watching and warned)."""
    states = [WatchState(status)] if status is not None else list(OPEN_STATES)
    found, total = await uow.watches.page(states=states, limit=limit, offset=offset)
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action="attendance-watch.listed",
        resource_type="attendance-watch",
        reason=f"status={status or 'open'}",
    )
    await uow.commit()
    items = [WatchRead.of(w, policy) for w in found]
    return WatchPage(items=items, total=total, limit=limit, offset=offset)

"""Operators watch the 24-hour promise: each report's deadline, attempts and acknowledgement.

Bodies are never returned (they hold personal data); a case id is enough to investigate.
"""

from __future__ import annotations

from typing import Annotated

from gmirs_notify.adapters.views import list_deliveries
from gmirs_notify.entrypoints.deps import Operator, UoW
from gmirs_notify.entrypoints.schemas import DeliveryPage, DeliveryRead, DeliveryStatusName
from gmirs_runtime.auth import authenticated_router
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import problem_responses

router = authenticated_router(prefix="/deliveries", tags=["deliveries"])


@router.get("", responses=problem_responses(422))
async def get_deliveries(
    principal: Operator,
    uow: UoW,
    status: DeliveryStatusName | None = None,
    limit: Annotated[int, page_limit(500)] = 100,
    offset: PageOffset = 0,
) -> DeliveryPage:
    """Deliveries, earliest deadline first, optionally of one status."""
    found, total = await list_deliveries(uow.session, status=status, limit=limit, offset=offset)
    items = [DeliveryRead.of(d) for d in found]
    return DeliveryPage(items=items, total=total, limit=limit, offset=offset)

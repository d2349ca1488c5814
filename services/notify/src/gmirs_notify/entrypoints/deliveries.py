"""Operators watch the 24-hour promise: each report's deadline, attempts and acknowledgement.

Bodies are never returned (they hold personal data); a case id is enough to investigate.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import status as http_status

from gmirs_notify.adapters.views import list_deliveries
from gmirs_notify.domain.subscription import SubscriptionInactiveError
from gmirs_notify.entrypoints.deps import Operator, SubscriptionManager, UoW, owner_scope
from gmirs_notify.entrypoints.schemas import DeliveryPage, DeliveryRead, DeliveryStatusName
from gmirs_notify.handlers.redelivery import DeliveryNotFoundError, redeliver
from gmirs_runtime.auth import authenticated_router
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

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


@router.post(
    "/{delivery_id}/redelivery",
    status_code=http_status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409),
)
async def request_redelivery(
    delivery_id: uuid.UUID, principal: SubscriptionManager, uow: UoW
) -> None:
    """Send this delivery again now, with the same webhook-id (the receiver dedupes).

    A probation system may redeliver its own endpoints' deliveries; operators any. The attempt
    appears in the endpoint's delivery log, marked manual.
    """
    try:
        await redeliver(
            delivery_id,
            uow=uow,
            owner=owner_scope(principal),
            actor=principal.client_id,
            now=datetime.now(UTC),
        )
    except DeliveryNotFoundError:
        raise Problem(404, detail="No such delivery.") from None
    except SubscriptionInactiveError:
        raise Problem(409, detail="The delivery's subscription is no longer active.") from None
    await uow.commit()

"""Looking after one endpoint: a test ping, switching it off and on, and its delivery log.

Same roles and scoping as the rest of the subscriptions API: a probation system acts on its own
endpoints only (another's answers 404), operators on every one. Bodies never appear in the log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from gmirs_notify.adapters.views import attempts_of, list_deliveries
from gmirs_notify.domain.subscription import SubscriptionInactiveError
from gmirs_notify.entrypoints.deps import OutboundSender, SubscriptionManager, UoW, owner_scope
from gmirs_notify.entrypoints.schemas import (
    AttemptRead,
    DeliveryLogItem,
    DeliveryLogPage,
    DeliveryRead,
    DeliveryStatusName,
    PingResult,
    SubscriptionRead,
)
from gmirs_notify.handlers import subscriptions as handlers
from gmirs_notify.handlers.ping import ping
from gmirs_notify.handlers.subscriptions import SubscriptionNotFoundError
from gmirs_runtime.auth import Principal, authenticated_router
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses

router = authenticated_router(prefix="/subscriptions", tags=["subscriptions"])
NOT_FOUND = "No such subscription."
INACTIVE = "The subscription is no longer active."


@router.post("/{subscription_id}/ping", responses=problem_responses(404, 409))
async def ping_subscription(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW, sender: OutboundSender
) -> PingResult:
    """Send a signed `ping` webhook now; the answer is the receiver's status and latency."""
    try:
        message_id, outcome = await ping(
            subscription_id,
            uow=uow,
            sender=sender,
            owner=owner_scope(principal),
            actor=principal.client_id,
            now=datetime.now(UTC),
        )
    except SubscriptionNotFoundError:
        raise Problem(404, detail=NOT_FOUND) from None
    except SubscriptionInactiveError:
        raise Problem(409, detail=INACTIVE) from None
    await uow.commit()
    return PingResult.of(message_id, outcome)


@router.post("/{subscription_id}/disable", responses=problem_responses(404, 409))
async def disable_subscription(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW
) -> SubscriptionRead:
    """Stop sending; new deliveries are still recorded and wait, unsent, until enabled."""
    return await _switch(subscription_id, principal, uow, enabled=False)


@router.post("/{subscription_id}/enable", responses=problem_responses(404, 409))
async def enable_subscription(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW
) -> SubscriptionRead:
    """Start sending again; the deliveries that waited go out at once."""
    return await _switch(subscription_id, principal, uow, enabled=True)


async def _switch(
    subscription_id: uuid.UUID, principal: Principal, uow: UoW, *, enabled: bool
) -> SubscriptionRead:
    try:
        subscription = await handlers.set_enabled(
            subscription_id,
            enabled=enabled,
            uow=uow,
            owner=owner_scope(principal),
            actor=principal.client_id,
        )
    except SubscriptionNotFoundError:
        raise Problem(404, detail=NOT_FOUND) from None
    except SubscriptionInactiveError:
        raise Problem(409, detail=INACTIVE) from None
    await uow.commit()
    return SubscriptionRead.of(subscription)


@router.get("/{subscription_id}/deliveries", responses=problem_responses(404, 422))
async def subscription_delivery_log(
    subscription_id: uuid.UUID,
    principal: SubscriptionManager,
    uow: UoW,
    status: DeliveryStatusName | None = None,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> DeliveryLogPage:
    """The endpoint's deliveries, earliest deadline first, each with every attempt."""
    try:
        await handlers.visible(uow, subscription_id, owner_scope(principal))
    except SubscriptionNotFoundError:
        raise Problem(404, detail=NOT_FOUND) from None
    found, total = await list_deliveries(
        uow.session, status=status, limit=limit, offset=offset, subscription_id=subscription_id
    )
    attempts = await attempts_of(uow.session, [d.id for d in found])
    items = [
        DeliveryLogItem(
            **DeliveryRead.of(d).model_dump(),
            attempt_log=[AttemptRead.of(a) for a in attempts.get(d.id, [])],
        )
        for d in found
    ]
    return DeliveryLogPage(items=items, total=total, limit=limit, offset=offset)

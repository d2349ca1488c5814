"""Manual redelivery of one delivery: a person asks for it to be sent again, now.

The delivery becomes pending and due at once, keeping its id, so the new attempt carries the same
`webhook-id` and body and a receiver that already has it dedupes. A report that was acknowledged
stays acknowledged (its first acknowledgement time is the KPI's); the attempt is marked manual in
the log. An endpoint that is disabled receives it when enabled; a removed one never does (409).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.subscription import SubscriptionInactiveError
from gmirs_notify.handlers.subscriptions import SubscriptionNotFoundError, visible
from gmirs_runtime import audit


class DeliveryNotFoundError(LookupError):
    """No delivery with that id is visible to the caller."""


async def redeliver(
    delivery_id: uuid.UUID,
    *,
    uow: NotifyUnitOfWork,
    owner: str | None,
    actor: str,
    now: datetime,
) -> None:
    subscription_id = await uow.deliveries.subscription_of(delivery_id)
    if subscription_id is None:
        raise DeliveryNotFoundError(str(delivery_id))
    try:
        subscription = await visible(uow, subscription_id, owner)
    except SubscriptionNotFoundError:
        raise DeliveryNotFoundError(str(delivery_id)) from None
    if not subscription.active:
        raise SubscriptionInactiveError("the subscription is no longer active")
    await uow.deliveries.request_redelivery(delivery_id, now=now)
    await uow.deliveries.wake_dispatchers()
    await audit.record(
        uow.session,
        actor=actor,
        action="delivery.redelivery-requested",
        resource_type="delivery",
        resource_id=str(delivery_id),
    )

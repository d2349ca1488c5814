"""A test ping: one signed `ping` webhook sent now, so a subscriber can check its verifier.

Sent whether the endpoint is enabled or not (checking it before enabling is the point), never to
a removed one. The ping is not a delivery: it is audited, not retried and not in the log.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gmirs_contracts.webhooks import PING, PingData, WebhookPing
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.delivery import AttemptOutcome
from gmirs_notify.domain.subscription import SubscriptionInactiveError
from gmirs_notify.handlers.deliver import Sender
from gmirs_notify.handlers.subscriptions import audit_action, visible


async def ping(
    subscription_id: uuid.UUID,
    *,
    uow: NotifyUnitOfWork,
    sender: Sender,
    owner: str | None,
    actor: str,
    now: datetime,
) -> tuple[str, AttemptOutcome]:
    """Send the ping and return its webhook-id and the receiver's answer."""
    subscription = await visible(uow, subscription_id, owner)
    if not subscription.active:
        raise SubscriptionInactiveError("the subscription is no longer active")
    body = WebhookPing(type=PING, timestamp=now, data=PingData(subscription_id=subscription.id))
    message_id = f"msg_ping_{uuid.uuid4().hex}"
    outcome = await sender.post(
        subscription.url, body.model_dump_json(), message_id, subscription.signing_secrets(now)
    )
    await audit_action(uow, actor, "pinged", subscription.id)
    return message_id, outcome

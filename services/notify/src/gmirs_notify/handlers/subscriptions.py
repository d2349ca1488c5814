"""Probation systems (and operators) register, rotate and remove webhook endpoints.

Every change is audited. A URL is vetted against the SSRF policy before it is stored; the secret
is returned to the caller once and never logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gmirs_notify.adapters.guard import vet_url
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.domain.subscription import Subscription, new_secret
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.handlers.failures import delivery_failed
from gmirs_runtime import audit

RESOURCE = "subscription"
GONE_REASON = "endpoint-gone"
REMOVED_REASON = "removed"


class SubscriptionNotFoundError(LookupError):
    """No subscription with that id is visible to the caller."""


@dataclass(frozen=True, slots=True)
class RegisterSubscription:
    owner_client_id: str
    url: str
    description: str | None
    event_types: tuple[str, ...]
    hub_ids: tuple[str, ...] = ()
    pdu_codes: tuple[str, ...] = ()
    partner: str | None = None


async def register_subscription(
    command: RegisterSubscription, *, uow: NotifyUnitOfWork, policy: TargetPolicy, now: datetime
) -> Subscription:
    """Vet the URL (TargetRefusedError if refused), then store the endpoint with a new secret."""
    await vet_url(command.url, policy)
    subscription = Subscription(
        id=uuid.uuid4(),
        owner_client_id=command.owner_client_id,
        url=command.url.strip(),
        description=command.description,
        event_types=tuple(dict.fromkeys(command.event_types)),
        secret=new_secret(),
        created_at=now,
        hub_ids=tuple(dict.fromkeys(command.hub_ids)),
        pdu_codes=tuple(dict.fromkeys(command.pdu_codes)),
        partner=command.partner,
    )
    await uow.subscriptions.add(subscription)
    await _audit(uow, command.owner_client_id, "created", subscription.id)
    return subscription


async def remove_subscription(
    subscription_id: uuid.UUID,
    *,
    uow: NotifyUnitOfWork,
    owner: str | None,
    actor: str,
    now: datetime,
    policy: ReportPolicy,
) -> Subscription:
    """Deactivate the endpoint (idempotent); its pending deliveries are failed (their reports
    escalated)."""
    subscription = await _locked(uow, subscription_id, owner)
    if await deactivate(uow, subscription, now=now, reason=REMOVED_REASON, policy=policy):
        await _audit(uow, actor, "deactivated", subscription.id)
    return subscription


async def rotate_secret(
    subscription_id: uuid.UUID,
    *,
    uow: NotifyUnitOfWork,
    owner: str | None,
    actor: str,
    now: datetime,
) -> Subscription:
    """Issue a new secret; the previous one keeps signing until retired or its grace ends."""
    subscription = await _locked(uow, subscription_id, owner)
    subscription.rotate_secret(now)
    await uow.subscriptions.save(subscription)
    await _audit(uow, actor, "secret-rotated", subscription.id)
    return subscription


async def retire_previous_secret(
    subscription_id: uuid.UUID, *, uow: NotifyUnitOfWork, owner: str | None, actor: str
) -> Subscription:
    subscription = await _locked(uow, subscription_id, owner)
    subscription.retire_previous_secret()
    await uow.subscriptions.save(subscription)
    await _audit(uow, actor, "previous-secret-retired", subscription.id)
    return subscription


async def set_enabled(
    subscription_id: uuid.UUID,
    *,
    enabled: bool,
    uow: NotifyUnitOfWork,
    owner: str | None,
    actor: str,
) -> Subscription:
    """Switch delivery to the endpoint on or off (idempotent, audited when it changes).

    While disabled its deliveries are still created and wait, unsent; enabling wakes the
    dispatchers so they go out at once, each with its original webhook-id.
    """
    subscription = await _locked(uow, subscription_id, owner)
    if subscription.set_enabled(enabled):
        await uow.subscriptions.save(subscription)
        await _audit(uow, actor, "enabled" if enabled else "disabled", subscription.id)
        if enabled:
            await uow.deliveries.wake_dispatchers()
    return subscription


async def deactivate(
    uow: NotifyUnitOfWork,
    subscription: Subscription,
    *,
    now: datetime,
    reason: str,
    policy: ReportPolicy,
) -> bool:
    """Stop delivering to an endpoint and fail what was waiting for it; False if already inactive."""
    if not subscription.deactivate(now, reason):
        return False
    await uow.subscriptions.save(subscription)
    for delivery in await uow.deliveries.cancel_pending(subscription.id, reason=reason, now=now):
        await delivery_failed(uow, delivery, reason, now=now, policy=policy)
    return True


async def visible(
    uow: NotifyUnitOfWork, subscription_id: uuid.UUID, owner: str | None
) -> Subscription:
    """The subscription if `owner` may see it; SubscriptionNotFoundError otherwise."""
    subscription = await uow.subscriptions.get(subscription_id, owner=owner)
    if subscription is None:
        raise SubscriptionNotFoundError(str(subscription_id))
    return subscription


async def _locked(
    uow: NotifyUnitOfWork, subscription_id: uuid.UUID, owner: str | None
) -> Subscription:
    subscription = await uow.subscriptions.get(subscription_id, owner=owner, for_update=True)
    if subscription is None:
        raise SubscriptionNotFoundError(str(subscription_id))
    return subscription


async def audit_action(
    uow: NotifyUnitOfWork, actor: str, verb: str, subscription_id: uuid.UUID
) -> None:
    await _audit(uow, actor, verb, subscription_id)


async def _audit(uow: NotifyUnitOfWork, actor: str, verb: str, subscription_id: uuid.UUID) -> None:
    await audit.record(
        uow.session,
        actor=actor,
        action=f"{RESOURCE}.{verb}",
        resource_type=RESOURCE,
        resource_id=str(subscription_id),
    )

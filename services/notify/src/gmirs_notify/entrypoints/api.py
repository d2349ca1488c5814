"""Probation systems manage their webhook endpoints here; operators manage every endpoint.

A probation system sees only the subscriptions it created: another client's subscription answers
404, exactly like one that does not exist. Secrets appear in a response only when created.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Response, status

from gmirs_notify.domain.subscription import SubscriptionInactiveError
from gmirs_notify.domain.targets import TargetRefusedError
from gmirs_notify.entrypoints.deps import (
    Policy,
    Reporting,
    SubscriptionManager,
    UoW,
    owner_scope,
)
from gmirs_notify.entrypoints.schemas import (
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionRead,
)
from gmirs_notify.handlers import subscriptions as handlers
from gmirs_notify.handlers.subscriptions import RegisterSubscription, SubscriptionNotFoundError
from gmirs_runtime.auth import authenticated_router
from gmirs_runtime.paging import PageOffset, page_limit
from gmirs_runtime.problems import Problem, problem_responses, problem_type

router = authenticated_router(prefix="/subscriptions", tags=["subscriptions"])


def _not_found() -> Problem:
    return Problem(404, detail="No such subscription.")


def _inactive() -> Problem:
    return Problem(409, detail="The subscription is no longer active.")


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(422))
async def create_subscription(
    body: SubscriptionCreate,
    principal: SubscriptionManager,
    uow: UoW,
    policy: Policy,
    response: Response,
) -> SubscriptionCreated:
    """Register an endpoint; the response holds its signing secret, which is never shown again."""
    command = RegisterSubscription(
        owner_client_id=principal.client_id,
        url=body.url,
        description=body.description,
        event_types=tuple(body.event_types),
        hub_ids=tuple(body.hub_ids),
        pdu_codes=tuple(body.pdu_codes),
        partner=body.partner,
    )
    try:
        subscription = await handlers.register_subscription(
            command, uow=uow, policy=policy, now=datetime.now(UTC)
        )
    except TargetRefusedError as exc:
        raise Problem(
            422,
            title="Webhook target refused",
            detail=f"The webhook URL is not allowed: {exc}.",
            type=problem_type("webhook-target-refused"),
        ) from None
    await uow.commit()
    response.headers["Location"] = f"/subscriptions/{subscription.id}"
    return SubscriptionCreated(
        **SubscriptionRead.of(subscription).model_dump(), secret=subscription.secret
    )


@router.get("", responses=problem_responses(422))
async def list_subscriptions(
    principal: SubscriptionManager,
    uow: UoW,
    limit: Annotated[int, page_limit(200)] = 50,
    offset: PageOffset = 0,
) -> SubscriptionPage:
    """The caller's endpoints (every endpoint for operators), newest first."""
    found, total = await uow.subscriptions.page(
        owner=owner_scope(principal), limit=limit, offset=offset
    )
    items = [SubscriptionRead.of(s) for s in found]
    return SubscriptionPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{subscription_id}", responses=problem_responses(404))
async def get_subscription(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW
) -> SubscriptionRead:
    subscription = await uow.subscriptions.get(subscription_id, owner=owner_scope(principal))
    if subscription is None:
        raise _not_found()
    return SubscriptionRead.of(subscription)


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
async def delete_subscription(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW, reporting: Reporting
) -> None:
    """Deactivate the endpoint; deliveries still waiting for it are failed, not sent (their
    reports escalated)."""
    try:
        await handlers.remove_subscription(
            subscription_id,
            uow=uow,
            owner=owner_scope(principal),
            actor=principal.client_id,
            now=datetime.now(UTC),
            policy=reporting,
        )
    except SubscriptionNotFoundError:
        raise _not_found() from None
    await uow.commit()


@router.post("/{subscription_id}/rotate-secret", responses=problem_responses(404, 409))
async def rotate_subscription_secret(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW
) -> SecretRotated:
    """A new secret; both old and new sign deliveries for 24 hours or until the old is retired."""
    try:
        subscription = await handlers.rotate_secret(
            subscription_id,
            uow=uow,
            owner=owner_scope(principal),
            actor=principal.client_id,
            now=datetime.now(UTC),
        )
    except SubscriptionNotFoundError:
        raise _not_found() from None
    except SubscriptionInactiveError:
        raise _inactive() from None
    await uow.commit()
    return SecretRotated(
        id=subscription.id,
        secret=subscription.secret,
        previous_secret_expires_at=subscription.previous_secret_expires_at,
    )


@router.post("/{subscription_id}/retire-previous-secret", responses=problem_responses(404, 409))
async def retire_previous_subscription_secret(
    subscription_id: uuid.UUID, principal: SubscriptionManager, uow: UoW
) -> SubscriptionRead:
    """Stop signing with the previous secret once the receiver verifies with the new one."""
    try:
        subscription = await handlers.retire_previous_secret(
            subscription_id, uow=uow, owner=owner_scope(principal), actor=principal.client_id
        )
    except SubscriptionNotFoundError:
        raise _not_found() from None
    except SubscriptionInactiveError:
        raise _inactive() from None
    await uow.commit()
    return SubscriptionRead.of(subscription)

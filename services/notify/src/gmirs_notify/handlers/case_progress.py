"""Action plans agreed and cases closed reach the endpoints that ask for them, with consent.

Unlike the statutory non-attendance report, these are shared only where the person consented:
an endpoint gets one only if its `partner` is named (case and surrounding spaces ignored) in a
consent of that case, with scope `progress` or `all`, that is not withdrawn when notify handles
the event. An endpoint that asked but may not have it gets a `skipped_events` row saying why.
Their `due_at` is a service level (recorded + 24 h), not a statutory deadline: they are never
escalated as reports at risk, but a permanent failure is recorded like any other.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gmirs_contracts import webhooks
from gmirs_contracts.case_lifecycle import ActionPlanAgreed, CaseClosed
from gmirs_notify.adapters.case_facts import CaseFacts
from gmirs_notify.adapters.deliveries import NewDelivery
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.subscription import ACTION_PLAN_AGREED, CASE_CLOSED, Subscription
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.telemetry import current_traceparent

log = logging.getLogger(__name__)
SERVICE_LEVEL = timedelta(hours=24)
NO_CONSENT = "no-consent"
NO_PARTNER = "no-partner"


async def action_plan_agreed(agreed: ActionPlanAgreed, event: Event, uow: NotifyUnitOfWork) -> None:
    facts = await uow.case_facts.case(agreed.case_id)
    data = webhooks.ActionPlanAgreedData(
        **_common(agreed, facts),
        version=agreed.version,
        number_of_sessions=agreed.number_of_sessions,
    )
    now = datetime.now(UTC)
    body = webhooks.ActionPlanAgreedAlert(type=ACTION_PLAN_AGREED, timestamp=now, data=data)
    await _deliver(
        ACTION_PLAN_AGREED, body.to_data(), agreed.case_id, agreed.hub_id, event, uow, now
    )


async def case_closed(closed: CaseClosed, event: Event, uow: NotifyUnitOfWork) -> None:
    facts = await uow.case_facts.case(closed.case_id)
    data = webhooks.CaseClosedData(
        **_common(closed, facts),
        closure_reason=closed.closure_reason,
        reason_settled=closed.reason_settled,
    )
    now = datetime.now(UTC)
    body = webhooks.CaseClosedAlert(type=CASE_CLOSED, timestamp=now, data=data)
    await _deliver(CASE_CLOSED, body.to_data(), closed.case_id, closed.hub_id, event, uow, now)


def _common(moved: ActionPlanAgreed | CaseClosed, facts: CaseFacts | None) -> dict[str, Any]:
    return {
        "case_id": moved.case_id,
        "referral_id": moved.referral_id,
        "crn": facts.crn if facts else None,
        "reference_number": facts.reference_number if facts else None,
        "hub_id": moved.hub_id,
        "occurred_at": moved.occurred_at,
        "recorded_at": moved.recorded_at,
    }


async def _deliver(
    event_type: str,
    body: dict[str, Any],
    case_id: uuid.UUID,
    hub_id: str,
    event: Event,
    uow: NotifyUnitOfWork,
    now: datetime,
) -> None:
    unit = await uow.case_facts.unit_of(case_id)
    allowed = []
    for subscription in await uow.subscriptions.active_for(event_type, hub_id, unit):
        refusal = await _consent_refusal(subscription, case_id, uow)
        if refusal is None:
            allowed.append(subscription)
            continue
        await uow.case_facts.record_skip(
            subscription_id=subscription.id,
            event_id=event.id,
            event_type=event_type,
            case_id=case_id,
            reason=refusal,
            at=now,
        )
        log.info("case event withheld: no consent", extra={"event_id": str(event.id)})
    traceparent, tracestate = current_traceparent()
    await uow.deliveries.add_new(
        [
            NewDelivery(
                id=uuid.uuid4(),
                subscription_id=subscription.id,
                event_id=event.id,
                case_id=case_id,
                appointment_id=None,
                event_type=event_type,
                body=body,
                due_at=now + SERVICE_LEVEL,
                created_at=now,
                traceparent=traceparent,
                tracestate=tracestate,
            )
            for subscription in allowed
        ]
    )


async def _consent_refusal(
    subscription: Subscription, case_id: uuid.UUID, uow: NotifyUnitOfWork
) -> str | None:
    """None if the person's consent lets this endpoint have the case's progress, else why not."""
    if subscription.partner is None:
        return NO_PARTNER
    if not await uow.case_facts.shares_progress(case_id, subscription.partner):
        return NO_CONSENT
    return None

"""One attempt at one report: send it, judge the outcome, record it, and publish the acknowledgement.

The attempt runs in the report's own trace (the context stored when the non-attendance was
consumed), so a trace shows the hub's request, the events and the probation system's answer.
The acknowledgement event is written in the same transaction as the delivery's new state.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from opentelemetry import context as otel_context

from gmirs_notify.adapters import events
from gmirs_notify.adapters.deliveries import ClaimedDelivery
from gmirs_notify.adapters.subscriptions import EVERY_OWNER
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.deadline import DeadlinePolicy
from gmirs_notify.domain.delivery import AttemptOutcome, DeliveryStatus, Verdict, judge
from gmirs_notify.domain.report import Attempt, AttemptResult, Channel, ReportPolicy
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.reports import record_channel_attempt
from gmirs_notify.handlers.subscriptions import GONE_REASON, deactivate
from gmirs_runtime.telemetry import context_from_traceparent

log = logging.getLogger(__name__)
SUBSCRIPTION_INACTIVE = "SubscriptionInactive"


def report_at_risk(delivery_id: uuid.UUID) -> None:
    """A webhook delivery near its deadline (the report's own escalation emails people)."""
    log.error("webhook delivery at risk", extra={"delivery_id": str(delivery_id)})


class Sender(Protocol):
    async def send(self, claimed: ClaimedDelivery) -> AttemptOutcome: ...


class Deliverer:
    def __init__(
        self,
        *,
        sender: Sender,
        unit_of_work: Callable[[], NotifyUnitOfWork],
        policy: DeadlinePolicy,
        clock: Clock = utc_now,
    ) -> None:
        self._sender = sender
        self._unit_of_work = unit_of_work
        self._policy = policy
        self._report_policy = ReportPolicy(escalate_before=policy.escalate_before)
        self._clock = clock

    async def deliver(self, claimed: ClaimedDelivery) -> Verdict | None:
        """Attempt and record; None if another dispatcher took the delivery over meanwhile."""
        parent = context_from_traceparent(claimed.traceparent, claimed.tracestate)
        token = otel_context.attach(parent)
        try:
            if not claimed.subscription_active:
                outcome = AttemptOutcome(None, SUBSCRIPTION_INACTIVE)
                verdict = Verdict(DeliveryStatus.FAILED)
            else:
                outcome = await self._sender.send(claimed)
                verdict = judge(
                    outcome,
                    attempts=claimed.attempts,
                    due_at=claimed.due_at,
                    now=self._clock(),
                    policy=self._policy,
                )
            return await self._record(claimed, outcome, verdict)
        finally:
            otel_context.detach(token)

    async def _record(
        self, claimed: ClaimedDelivery, outcome: AttemptOutcome, verdict: Verdict
    ) -> Verdict | None:
        now = self._clock()
        async with self._unit_of_work() as uow:
            if not await uow.deliveries.record_attempt(claimed, outcome, verdict, now=now):
                log.warning("delivery lease lost", extra={"attempt": claimed.attempts})
                return None
            if verdict.deactivate_subscription:
                await self._endpoint_gone(uow, claimed, now)
            await record_channel_attempt(
                uow,
                case_id=claimed.case_id,
                appointment_id=claimed.appointment_id,
                attempt=webhook_attempt(outcome, verdict, at=now),
                now=now,
                policy=self._report_policy,
            )
            if verdict.acknowledged:
                uow.publish(
                    events.NON_ATTENDANCE_REPORTED,
                    events.non_attendance_reported(claimed, acknowledged_at=now),
                    aggregate_type=events.AGGREGATE,
                    aggregate_id=claimed.case_id,
                )
            await uow.commit()
        if verdict.escalate and not claimed.escalated:
            report_at_risk(claimed.id)
        return verdict

    async def _endpoint_gone(
        self, uow: NotifyUnitOfWork, claimed: ClaimedDelivery, now: datetime
    ) -> None:
        """410: the subscriber asked us to stop; deactivate the endpoint (and its other reports)."""
        subscription = await uow.subscriptions.get(
            claimed.subscription_id, owner=EVERY_OWNER, for_update=True
        )
        if subscription is not None:
            await deactivate(uow, subscription, now=now, reason=GONE_REASON)


def webhook_attempt(outcome: AttemptOutcome, verdict: Verdict, *, at: datetime) -> Attempt:
    """A webhook attempt as the report keeps it: a delivery failed for good is a refusal."""
    if verdict.acknowledged:
        result = AttemptResult.ACKNOWLEDGED
    elif verdict.status is DeliveryStatus.FAILED:
        result = AttemptResult.REFUSED
    else:
        result = AttemptResult.FAILED
    detail = str(outcome.status_code) if outcome.status_code is not None else outcome.error_class
    return Attempt(Channel.WEBHOOK, at, result, detail)

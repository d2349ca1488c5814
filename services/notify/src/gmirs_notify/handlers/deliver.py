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
from gmirs_notify.domain.delivery import (
    CONSENT_WITHDRAWN,
    SUBSCRIPTION_INACTIVE,
    AttemptOutcome,
    DeliveryStatus,
    Verdict,
    judge,
)
from gmirs_notify.domain.report import Attempt, AttemptResult, Channel, ReportPolicy
from gmirs_notify.domain.subscription import CONSENT_GATED, NON_ATTENDANCE_RECORDED
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.failures import delivery_failed
from gmirs_notify.handlers.reports import record_channel_attempt
from gmirs_notify.handlers.subscriptions import GONE_REASON, deactivate
from gmirs_runtime.telemetry import context_from_traceparent

log = logging.getLogger(__name__)


def report_at_risk(delivery_id: uuid.UUID) -> None:
    """A webhook delivery near its deadline (the report's own escalation emails people)."""
    log.error("webhook delivery at risk", extra={"delivery_id": str(delivery_id)})


class Sender(Protocol):
    async def send(self, claimed: ClaimedDelivery) -> AttemptOutcome: ...

    async def post(
        self, url: str, body: str, webhook_id: str, secrets: tuple[str, ...], attempt: int = 1
    ) -> AttemptOutcome: ...


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
                verdict = Verdict(DeliveryStatus.FAILED, failure_reason=SUBSCRIPTION_INACTIVE)
            elif not await self._consent_still_allows(claimed):
                outcome = AttemptOutcome(None, CONSENT_WITHDRAWN)
                verdict = Verdict(DeliveryStatus.FAILED, failure_reason=CONSENT_WITHDRAWN)
            else:
                outcome = await self._sender.send(claimed)
                verdict = self._judge(claimed, outcome)
            return await self._record(claimed, outcome, verdict)
        finally:
            otel_context.detach(token)

    async def _consent_still_allows(self, claimed: ClaimedDelivery) -> bool:
        """A consent-gated case event is checked again before every attempt: a consent
        withdrawn while it waited or was retried stops it."""
        if claimed.event_type not in CONSENT_GATED:
            return True
        if claimed.partner is None:
            return False
        async with self._unit_of_work() as uow:
            return await uow.case_facts.shares_progress(claimed.case_id, claimed.partner)

    def _judge(self, claimed: ClaimedDelivery, outcome: AttemptOutcome) -> Verdict:
        if claimed.acknowledged_before and not outcome.acknowledged and not outcome.gone:
            # A redelivery of a report the endpoint already has: the attempt is logged, and the
            # report stays acknowledged rather than retried towards a deadline it already met.
            return Verdict(DeliveryStatus.ACKNOWLEDGED)
        return judge(
            outcome,
            attempts=claimed.attempts,
            due_at=claimed.due_at,
            now=self._clock(),
            policy=self._policy,
        )

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
            await self._tell_report(
                uow, claimed, webhook_attempt(outcome, verdict, at=now), verdict
            )
            if self._first_acknowledgement(claimed, verdict):
                uow.publish(
                    events.NON_ATTENDANCE_REPORTED,
                    events.non_attendance_reported(claimed, acknowledged_at=now),
                    aggregate_type=events.AGGREGATE,
                    aggregate_id=claimed.case_id,
                )
            await uow.commit()
        if verdict.failure_reason == CONSENT_WITHDRAWN:
            log.info(
                "case event withheld: consent withdrawn", extra={"delivery_id": str(claimed.id)}
            )
        elif (
            verdict.escalate
            and verdict.failure_reason is None
            and not claimed.escalated
            and self._is_report(claimed)
        ):
            report_at_risk(claimed.id)
        return verdict

    async def _tell_report(
        self, uow: NotifyUnitOfWork, claimed: ClaimedDelivery, attempt: Attempt, verdict: Verdict
    ) -> None:
        """Keep the attempt on the non-attendance's report (case events have none); a failure
        for good goes through `delivery_failed`, which records the refusal and escalates."""
        if verdict.failure_reason == CONSENT_WITHDRAWN:
            return
        if verdict.failure_reason is not None:
            await delivery_failed(
                uow,
                claimed.failed(),
                verdict.failure_reason,
                now=attempt.at,
                policy=self._report_policy,
                detail=attempt.detail,
            )
        elif self._is_report(claimed) and claimed.appointment_id is not None:
            await record_channel_attempt(
                uow,
                case_id=claimed.case_id,
                appointment_id=claimed.appointment_id,
                attempt=attempt,
                now=attempt.at,
                policy=self._report_policy,
            )

    @staticmethod
    def _is_report(claimed: ClaimedDelivery) -> bool:
        """The statutory non-attendance report (the 24-hour clock), not a consented case event."""
        return claimed.event_type == NON_ATTENDANCE_RECORDED

    def _first_acknowledgement(self, claimed: ClaimedDelivery, verdict: Verdict) -> bool:
        """Only a non-attendance report's first acknowledgement is the KPI's event."""
        return verdict.acknowledged and not claimed.acknowledged_before and self._is_report(claimed)

    async def _endpoint_gone(
        self, uow: NotifyUnitOfWork, claimed: ClaimedDelivery, now: datetime
    ) -> None:
        """410: the subscriber asked us to stop; deactivate the endpoint (and its other reports)."""
        subscription = await uow.subscriptions.get(
            claimed.subscription_id, owner=EVERY_OWNER, for_update=True
        )
        if subscription is not None:
            await deactivate(
                uow, subscription, now=now, reason=GONE_REASON, policy=self._report_policy
            )


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

"""One report to one endpoint: what an attempt's outcome means for it.

Only a 2xx acknowledges a report (a redirect does not); 410 means the subscriber removed the
endpoint; anything else is retried on the deadline policy's schedule, and escalated when the
next try would land after the deadline or the deadline is near.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gmirs_notify.domain.deadline import DeadlinePolicy

GONE = 410
ENDPOINT_GONE = "endpoint-gone"
RETRIES_EXHAUSTED = "retries-exhausted"
SUBSCRIPTION_INACTIVE = "subscription-inactive"
ENDPOINT_DISABLED = "endpoint-disabled"
CONSENT_WITHDRAWN = "consent-withdrawn"
"""Not a failure to escalate: the person withdrew consent before the case event went out."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"


def webhook_id(delivery_id: uuid.UUID) -> str:
    """The Standard Webhooks message id: constant across retries, so receivers can dedupe."""
    return f"msg_{delivery_id.hex}"


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one HTTP attempt produced: a status code, or the class of the error that prevented one."""

    status_code: int | None
    error_class: str | None = None
    retry_after: timedelta | None = None
    duration_ms: int = 0

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == GONE


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to record after an attempt."""

    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    escalate: bool = False
    deactivate_subscription: bool = False
    failure_reason: str | None = None
    """Why the delivery failed for good (set exactly when status is FAILED)."""

    @property
    def acknowledged(self) -> bool:
        return self.status is DeliveryStatus.ACKNOWLEDGED


def judge(
    outcome: AttemptOutcome,
    *,
    attempts: int,
    due_at: datetime,
    now: datetime,
    policy: DeadlinePolicy,
) -> Verdict:
    """Decide the delivery's next state from one attempt's outcome."""
    if outcome.acknowledged:
        return Verdict(DeliveryStatus.ACKNOWLEDGED)
    if outcome.gone:
        return Verdict(
            DeliveryStatus.FAILED,
            escalate=True,
            deactivate_subscription=True,
            failure_reason=ENDPOINT_GONE,
        )
    if now >= due_at + policy.give_up_after:
        return Verdict(DeliveryStatus.FAILED, escalate=True, failure_reason=RETRIES_EXHAUSTED)
    next_attempt_at = now + policy.schedule.delay_after(attempts, outcome.retry_after)
    escalate = next_attempt_at > due_at or policy.at_risk(due_at=due_at, now=now)
    return Verdict(DeliveryStatus.PENDING, next_attempt_at=next_attempt_at, escalate=escalate)


def within_deadline(acknowledged_at: datetime | None, due_at: datetime) -> bool | None:
    """The KPI question: did the report land by its deadline (None while it has not landed)."""
    return None if acknowledged_at is None else acknowledged_at <= due_at

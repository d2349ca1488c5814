"""Deliveries: created once per (subscription, event), claimed by dispatchers, judged per attempt.

A claim is a lease, not a held lock: `FOR UPDATE SKIP LOCKED` lets replicas share the due rows
without waiting on each other, and the claim pushes `next_attempt_at` past the HTTP timeout, so a
dispatcher that dies mid-send leaves a row that simply falls due again (the receiver dedupes on the
unchanged webhook-id). Outcomes are written only while `attempts` still matches the claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, DateTime, Integer, Text, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import (
    deliveries,
    deliveries_channel,
    delivery_attempts,
)
from gmirs_notify.domain.delivery import AttemptOutcome, DeliveryStatus, Verdict, webhook_id
from gmirs_notify.domain.subscription import signing_secrets

PENDING = DeliveryStatus.PENDING.value


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID | None
    event_type: str
    body: dict[str, Any]
    due_at: datetime
    created_at: datetime
    traceparent: str | None
    tracestate: str | None


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A delivery that will not be attempted again, with what its report needs to hear of it."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID | None
    event_type: str


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased for one attempt, with what sending needs. `body` is the exact text sent."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID | None
    event_type: str
    body: str
    attempts: int
    due_at: datetime
    escalated: bool
    traceparent: str | None
    tracestate: str | None
    url: str
    secrets: tuple[str, ...]
    subscription_active: bool
    acknowledged_before: bool = False
    """A redelivery of a report the endpoint had already acknowledged."""
    manual: bool = False
    """The first attempt after a person asked for a redelivery."""
    partner: str | None = None
    """The endpoint's consent partner (consent-gated event types are checked again on sending)."""

    @property
    def webhook_id(self) -> str:
        return webhook_id(self.id)

    def failed(self) -> FailedDelivery:
        return FailedDelivery(
            self.id, self.subscription_id, self.case_id, self.appointment_id, self.event_type
        )


_CLAIM = text(
    """
WITH due AS (
    SELECT d.id, d.last_attempt_at AS previous_attempt_at
    FROM deliveries AS d JOIN subscriptions AS e ON e.id = d.subscription_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND e.enabled
    ORDER BY d.next_attempt_at
    LIMIT :limit
    FOR UPDATE OF d SKIP LOCKED
), claimed AS (
    UPDATE deliveries AS d
    SET attempts = d.attempts + 1, next_attempt_at = :lease_until, last_attempt_at = :now
    FROM due, subscriptions AS s
    WHERE d.id = due.id AND s.id = d.subscription_id
    RETURNING d.id, d.subscription_id, d.case_id, d.appointment_id, d.event_type,
          d.body::text AS body, d.attempts, d.due_at, d.escalated_at, d.traceparent,
          d.tracestate, s.url, s.active, s.secret, s.previous_secret,
          s.previous_secret_expires_at, s.partner,
          d.acknowledged_at IS NOT NULL AS acknowledged_before,
          (d.redelivered_at IS NOT NULL AND (due.previous_attempt_at IS NULL
           OR d.redelivered_at > due.previous_attempt_at)) AS manual
), waiting AS (
    SELECT min(d.next_attempt_at) AS next_due
    FROM deliveries AS d JOIN subscriptions AS e ON e.id = d.subscription_id
    WHERE d.status = 'pending' AND e.enabled AND d.id NOT IN (SELECT id FROM due)
)
SELECT waiting.next_due, claimed.* FROM waiting LEFT JOIN claimed ON true
"""
)
"""Lease up to :limit due deliveries and say when the earliest of the others falls due, in one
statement (the dispatcher's round trip per wake). The other deliveries are judged on the
snapshot the claim saw, minus the claimed rows, whose next time is the lease's end."""

_ESCALATE = text(
    """
UPDATE deliveries AS d SET escalated_at = :now
FROM subscriptions AS s
WHERE s.id = d.subscription_id
  AND d.status = 'pending' AND d.escalated_at IS NULL AND d.due_at <= :threshold
  AND d.event_type = 'non-attendance.recorded'
  AND (d.last_status IS NOT NULL OR d.last_error_class IS NOT NULL OR NOT s.enabled)
RETURNING d.id
"""
)

_FAIL_WAITING = text(
    """
UPDATE deliveries AS d
SET status = 'failed', failure_reason = 'endpoint-disabled', failed_at = :now
FROM subscriptions AS s
WHERE s.id = d.subscription_id AND NOT s.enabled
  AND d.status = 'pending' AND d.due_at <= :cutoff
RETURNING d.id, d.subscription_id, d.case_id, d.appointment_id, d.event_type
"""
)
"""A disabled endpoint's deliveries wait, but not for ever: past the give-up time they fail."""


_FAILED_COLUMNS = (
    deliveries.c.id,
    deliveries.c.subscription_id,
    deliveries.c.case_id,
    deliveries.c.appointment_id,
    deliveries.c.event_type,
)


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_new(self, new: Sequence[NewDelivery]) -> int:
        """Insert deliveries, skipping any (subscription, event) pair that already has one."""
        if not new:
            return 0
        rows = [_new_row(d) for d in new]
        statement = insert(deliveries).on_conflict_do_nothing(
            index_elements=["subscription_id", "event_id"]
        )
        result = await self._session.execute(statement, rows)
        assert isinstance(result, CursorResult)
        return int(result.rowcount)

    async def claim_due(
        self, *, now: datetime, limit: int, lease: timedelta
    ) -> tuple[list[ClaimedDelivery], datetime | None]:
        """Lease up to `limit` due deliveries to this dispatcher (rows others hold are skipped),
        and when the earliest pending delivery (claimed or not) falls due next."""
        lease_until = now + lease
        params = {"now": now, "limit": limit, "lease_until": lease_until}
        rows = (await self._session.execute(_CLAIM, params)).mappings().all()
        claimed = [_claimed(row, now) for row in rows if row["id"] is not None]
        next_due: datetime | None = rows[0]["next_due"]
        if claimed and (next_due is None or lease_until < next_due):
            next_due = lease_until
        return claimed, next_due

    async def record_attempt(
        self, claimed: ClaimedDelivery, outcome: AttemptOutcome, verdict: Verdict, *, now: datetime
    ) -> bool:
        """Store the attempt and the verdict in one statement; False if the lease was lost to
        another dispatcher (then no attempt row is written either)."""
        recorded = (
            update(deliveries)
            .where(
                deliveries.c.id == claimed.id,
                deliveries.c.attempts == claimed.attempts,
                deliveries.c.status == PENDING,
            )
            .values(**_verdict_values(outcome, verdict, now))
            .returning(deliveries.c.id)
            .cte("recorded")
        )
        attempt = (
            insert(delivery_attempts)
            .from_select(
                [
                    "delivery_id",
                    "attempt",
                    "at",
                    "status_code",
                    "error_class",
                    "duration_ms",
                    "manual",
                ],
                select(
                    recorded.c.id,
                    literal(claimed.attempts),
                    literal(now, DateTime(timezone=True)),
                    literal(outcome.status_code, Integer),
                    literal(outcome.error_class, Text),
                    literal(outcome.duration_ms, Integer),
                    literal(claimed.manual),
                ),
            )
            .on_conflict_do_nothing()
            .cte("attempt")
        )
        statement = select(func.count()).select_from(recorded).add_cte(attempt)
        return int((await self._session.execute(statement)).scalar_one()) == 1

    async def cancel_pending(
        self, subscription_id: uuid.UUID, *, reason: str, now: datetime
    ) -> list[FailedDelivery]:
        """Fail the pending deliveries of a deactivated subscription (nobody will receive them);
        returns them, so each is reported as failed for good."""
        statement = (
            update(deliveries)
            .where(deliveries.c.subscription_id == subscription_id, deliveries.c.status == PENDING)
            .values(
                status=DeliveryStatus.FAILED.value,
                last_error_class=reason,
                failure_reason=reason,
                failed_at=now,
            )
            .returning(*_FAILED_COLUMNS)
        )
        return [FailedDelivery(*row) for row in (await self._session.execute(statement)).all()]

    async def wake_dispatchers(self) -> None:
        """Tell dispatchers (on commit) that deliveries fell due outside an insert."""
        channel = deliveries_channel(await self._schema())
        await self._session.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})

    async def _schema(self) -> str:
        return str((await self._session.execute(text("SELECT current_schema()"))).scalar_one())

    async def subscription_of(self, delivery_id: uuid.UUID) -> uuid.UUID | None:
        """The subscription a delivery belongs to (None: no such delivery)."""
        query = select(deliveries.c.subscription_id).where(deliveries.c.id == delivery_id)
        found: uuid.UUID | None = (await self._session.execute(query)).scalar_one_or_none()
        return found

    async def request_redelivery(self, delivery_id: uuid.UUID, *, now: datetime) -> None:
        """Make one delivery due now again (same id, so the same webhook-id)."""
        statement = (
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(
                status=PENDING,
                next_attempt_at=now,
                redelivered_at=now,
                failure_reason=None,
                failed_at=None,
            )
        )
        await self._session.execute(statement)

    async def escalate_at_risk(
        self, *, now: datetime, escalate_before: timedelta
    ) -> list[uuid.UUID]:
        """Flag failing reports (or reports waiting for a disabled endpoint) whose deadline is
        near; returns the newly flagged ids."""
        params = {"now": now, "threshold": now + escalate_before}
        return list((await self._session.execute(_ESCALATE, params)).scalars())

    async def retry_now(
        self, case_id: uuid.UUID, appointment_id: uuid.UUID, *, now: datetime
    ) -> int:
        """Make the appointment's pending deliveries due now (an operator's retry)."""
        statement = (
            update(deliveries)
            .where(
                deliveries.c.case_id == case_id,
                deliveries.c.appointment_id == appointment_id,
                deliveries.c.status == PENDING,
            )
            .values(next_attempt_at=now)
        )
        result = await self._session.execute(statement)
        assert isinstance(result, CursorResult)
        return int(result.rowcount)

    async def fail_waiting_too_long(
        self, *, now: datetime, give_up_after: timedelta
    ) -> list[FailedDelivery]:
        """Fail what waited for a disabled endpoint beyond `give_up_after` past its deadline."""
        params = {"now": now, "cutoff": now - give_up_after}
        rows = (await self._session.execute(_FAIL_WAITING, params)).all()
        return [FailedDelivery(*row) for row in rows]


def _verdict_values(outcome: AttemptOutcome, verdict: Verdict, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": verdict.status.value,
        "last_status": outcome.status_code,
        "last_error_class": outcome.error_class,
    }
    if verdict.next_attempt_at is not None:
        values["next_attempt_at"] = verdict.next_attempt_at
    if verdict.acknowledged:
        values["acknowledged_at"] = func.coalesce(deliveries.c.acknowledged_at, now)
    if verdict.failure_reason is not None:
        values["failure_reason"] = verdict.failure_reason
        values["failed_at"] = now
    if verdict.escalate:
        values["escalated_at"] = func.coalesce(deliveries.c.escalated_at, now)
    return values


def _new_row(d: NewDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "event_id": d.event_id,
        "case_id": d.case_id,
        "appointment_id": d.appointment_id,
        "event_type": d.event_type,
        "body": d.body,
        "due_at": d.due_at,
        "created_at": d.created_at,
        "next_attempt_at": d.created_at,
        "attempts": 0,
        "status": PENDING,
        "traceparent": d.traceparent,
        "tracestate": d.tracestate,
    }


def _claimed(row: Any, now: datetime) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=row["id"],
        subscription_id=row["subscription_id"],
        case_id=row["case_id"],
        appointment_id=row["appointment_id"],
        event_type=row["event_type"],
        body=row["body"],
        attempts=row["attempts"],
        due_at=row["due_at"],
        escalated=row["escalated_at"] is not None,
        traceparent=row["traceparent"],
        tracestate=row["tracestate"],
        url=row["url"],
        secrets=signing_secrets(
            row["secret"], row["previous_secret"], row["previous_secret_expires_at"], now=now
        ),
        subscription_active=row["active"],
        acknowledged_before=row["acknowledged_before"],
        manual=row["manual"],
        partner=row["partner"],
    )

"""Read models: deliveries with their timing and attempts, never their bodies (personal data)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import deliveries, delivery_attempts

_COLUMNS = (
    deliveries.c.id,
    deliveries.c.subscription_id,
    deliveries.c.event_type,
    deliveries.c.case_id,
    deliveries.c.appointment_id,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.created_at,
    deliveries.c.due_at,
    deliveries.c.next_attempt_at,
    deliveries.c.last_attempt_at,
    deliveries.c.last_status,
    deliveries.c.last_error_class,
    deliveries.c.acknowledged_at,
    deliveries.c.escalated_at,
    deliveries.c.failure_reason,
    deliveries.c.failed_at,
)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_type: str
    case_id: uuid.UUID
    appointment_id: uuid.UUID | None
    status: str
    attempts: int
    created_at: datetime
    due_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error_class: str | None
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    failure_reason: str | None
    failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: int
    at: datetime
    status_code: int | None
    error_class: str | None
    duration_ms: int
    manual: bool


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None,
    limit: int,
    offset: int,
    subscription_id: uuid.UUID | None = None,
) -> tuple[list[DeliveryView], int]:
    """A page of deliveries (of one subscription, if given), earliest due first, and the total."""
    query = select(*_COLUMNS)
    counted = select(func.count()).select_from(deliveries)
    if status is not None:
        query = query.where(deliveries.c.status == status)
        counted = counted.where(deliveries.c.status == status)
    if subscription_id is not None:
        query = query.where(deliveries.c.subscription_id == subscription_id)
        counted = counted.where(deliveries.c.subscription_id == subscription_id)
    query = query.order_by(deliveries.c.due_at, deliveries.c.id).limit(limit).offset(offset)
    rows = (await session.execute(query)).mappings()
    total = int((await session.execute(counted)).scalar_one())
    return [DeliveryView(**row) for row in rows], total


async def attempts_of(
    session: AsyncSession, delivery_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AttemptView]]:
    """Every attempt of each delivery, in order."""
    query = (
        select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id.in_(delivery_ids))
        .order_by(delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
    )
    found: dict[uuid.UUID, list[AttemptView]] = defaultdict(list)
    for row in (await session.execute(query)).mappings():
        values = dict(row)
        found[values.pop("delivery_id")].append(AttemptView(**values))
    return found

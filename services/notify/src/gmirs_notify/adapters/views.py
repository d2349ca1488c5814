"""Read models for operators: deliveries with their timing, never their bodies (personal data)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import deliveries

_COLUMNS = (
    deliveries.c.id,
    deliveries.c.subscription_id,
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
)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: uuid.UUID
    subscription_id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID
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


async def list_deliveries(
    session: AsyncSession, *, status: str | None, limit: int, offset: int
) -> tuple[list[DeliveryView], int]:
    """A page of deliveries, most urgent (earliest due) first, and the total count."""
    query = select(*_COLUMNS)
    counted = select(func.count()).select_from(deliveries)
    if status is not None:
        query = query.where(deliveries.c.status == status)
        counted = counted.where(deliveries.c.status == status)
    query = query.order_by(deliveries.c.due_at, deliveries.c.id).limit(limit).offset(offset)
    rows = (await session.execute(query)).mappings()
    total = int((await session.execute(counted)).scalar_one())
    return [DeliveryView(**row) for row in rows], total

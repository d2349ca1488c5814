"""Loads and stores subscriptions, always within one owner's scope unless the caller sees all.

A probation system sees only the endpoints it registered: another client's subscription is
indistinguishable from one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import appointment_sessions, case_facts, subscriptions
from gmirs_notify.domain.subscription import Subscription

EVERY_OWNER = None


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, subscription: Subscription) -> None:
        await self._session.execute(insert(subscriptions).values(**_values(subscription)))

    async def get(
        self, subscription_id: uuid.UUID, *, owner: str | None, for_update: bool = False
    ) -> Subscription | None:
        """The subscription if it exists and `owner` may see it (None: every owner)."""
        query = select(subscriptions).where(subscriptions.c.id == subscription_id)
        if owner is not EVERY_OWNER:
            query = query.where(subscriptions.c.owner_client_id == owner)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else _to_subscription(row)

    async def page(
        self, *, owner: str | None, limit: int, offset: int
    ) -> tuple[list[Subscription], int]:
        """A page of the subscriptions `owner` may see, newest first, and the total count."""
        query = select(subscriptions)
        counted = select(func.count()).select_from(subscriptions)
        if owner is not EVERY_OWNER:
            query = query.where(subscriptions.c.owner_client_id == owner)
            counted = counted.where(subscriptions.c.owner_client_id == owner)
        query = query.order_by(subscriptions.c.created_at.desc(), subscriptions.c.id)
        rows = (await self._session.execute(query.limit(limit).offset(offset))).mappings()
        total = int((await self._session.execute(counted)).scalar_one())
        return [_to_subscription(r) for r in rows], total

    async def active_for(self, event_type: str, hub_id: str, pdu: str | None) -> list[Subscription]:
        """Every active subscription (enabled or not) that wants `event_type` from `hub_id` for
        a case of the probation delivery unit `pdu`.

        A disabled endpoint still gets its deliveries; they wait until it is enabled again.
        """
        query = select(subscriptions).where(
            subscriptions.c.active.is_(True), subscriptions.c.event_types.any_() == event_type
        )
        rows = (await self._session.execute(query)).mappings()
        found = [_to_subscription(r) for r in rows]
        return [s for s in found if s.wants(event_type, hub_id, pdu)]

    async def for_alert(
        self, event_type: str, *, hub_id: str, case_id: uuid.UUID, appointment_id: uuid.UUID
    ) -> tuple[list[Subscription], int | None]:
        """`active_for` the case's unit, and the appointment's session number (None if unknown
        or nobody subscribes), in one statement: the consumer's round trip per alert."""
        unit = select(case_facts.c.probation_delivery_unit).where(case_facts.c.case_id == case_id)
        number = select(appointment_sessions.c.session_number).where(
            appointment_sessions.c.appointment_id == appointment_id
        )
        query = select(
            subscriptions,
            unit.scalar_subquery().label("unit"),
            number.scalar_subquery().label("session_number"),
        ).where(subscriptions.c.active.is_(True), subscriptions.c.event_types.any_() == event_type)
        rows = (await self._session.execute(query)).mappings().all()
        if not rows:
            return [], None
        found = [_to_subscription(r) for r in rows]
        pdu = rows[0]["unit"]
        return [s for s in found if s.wants(event_type, hub_id, pdu)], rows[0]["session_number"]

    async def save(self, subscription: Subscription) -> None:
        values = _values(subscription)
        del values["id"]
        await self._session.execute(
            update(subscriptions).where(subscriptions.c.id == subscription.id).values(**values)
        )


def _values(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "owner_client_id": s.owner_client_id,
        "url": s.url,
        "description": s.description,
        "event_types": list(s.event_types),
        "secret": s.secret,
        "previous_secret": s.previous_secret,
        "previous_secret_expires_at": s.previous_secret_expires_at,
        "active": s.active,
        "created_at": s.created_at,
        "deactivated_at": s.deactivated_at,
        "deactivation_reason": s.deactivation_reason,
        "enabled": s.enabled,
        "hub_ids": list(s.hub_ids),
        "pdu_codes": list(s.pdu_codes),
        "partner": s.partner,
    }


def _to_subscription(row: Any) -> Subscription:
    return Subscription(
        id=row["id"],
        owner_client_id=row["owner_client_id"],
        url=row["url"],
        description=row["description"],
        event_types=tuple(row["event_types"]),
        secret=row["secret"],
        created_at=row["created_at"],
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
        active=row["active"],
        deactivated_at=row["deactivated_at"],
        deactivation_reason=row["deactivation_reason"],
        enabled=row["enabled"],
        hub_ids=tuple(row["hub_ids"]),
        pdu_codes=tuple(row["pdu_codes"]),
        partner=row["partner"],
    )

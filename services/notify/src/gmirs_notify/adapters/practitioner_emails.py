"""The email channel's state: practitioners' addresses and each report's email in flight.

Only referrals without an R&M id keep their referring practitioner's address (from intake's
`referral-received`): their report goes by email. Nothing else about the practitioner is kept.
A report whose email is due (`email_next_at`) is leased to one sender at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import practitioners, reports


@dataclass(frozen=True, slots=True)
class DueEmail:
    report_id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID
    hub_id: str
    reference_number: str | None
    appointment_ends_at: datetime
    due_at: datetime
    notification_id: str | None
    """Set once Notify accepted the email: then its status is followed."""
    email: str | None
    """None while intake's referral-received has not arrived."""


class PractitionerEmailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def remember(self, referral_id: uuid.UUID, email: str, *, at: datetime) -> None:
        statement = insert(practitioners).values(
            referral_id=referral_id, email=email, recorded_at=at
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["referral_id"], set_={"email": email, "recorded_at": at}
            )
        )

    async def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[DueEmail]:
        """Reports whose email must be sent or followed now, leased for one try."""
        query = (
            select(
                reports.c.id,
                reports.c.case_id,
                reports.c.appointment_id,
                reports.c.hub_id,
                reports.c.reference_number,
                reports.c.appointment_ends_at,
                reports.c.due_at,
                reports.c.email_notification_id,
                practitioners.c.email,
            )
            .select_from(
                reports.outerjoin(
                    practitioners, practitioners.c.referral_id == reports.c.referral_id
                )
            )
            .where(reports.c.email_next_at <= now, reports.c.acknowledged_at.is_(None))
            .order_by(reports.c.email_next_at)
            .limit(limit)
            .with_for_update(of=reports, skip_locked=True)
        )
        rows = (await self._session.execute(query)).all()
        if rows:
            await self._session.execute(
                update(reports)
                .where(reports.c.id.in_([row[0] for row in rows]))
                .values(email_next_at=now + lease)
            )
        return [DueEmail(*row) for row in rows]

    async def follow(
        self, report_id: uuid.UUID, *, notification_id: str | None, next_at: datetime | None
    ) -> None:
        """Record the email in flight (or none) and when to act next (None: nothing more)."""
        await self._session.execute(
            update(reports)
            .where(and_(reports.c.id == report_id))
            .values(email_notification_id=notification_id, email_next_at=next_at)
        )

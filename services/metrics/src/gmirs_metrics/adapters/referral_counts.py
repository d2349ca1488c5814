"""Stores the referrals-by-borough read model: one counter per reporting month and hub."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_COUNT = text(
    """
    INSERT INTO referrals_by_borough (month, hub_id, referrals) VALUES (:month, :hub, 1)
    ON CONFLICT (month, hub_id) DO UPDATE SET referrals = referrals_by_borough.referrals + 1
    """
)
_FOR_MONTH = text(
    "SELECT hub_id, referrals FROM referrals_by_borough WHERE month = :month ORDER BY hub_id"
)


class ReferralCounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count_one(self, *, month: date, hub_id: str) -> None:
        """Add one referral to `hub_id`'s count for `month`."""
        await self._session.execute(_COUNT, {"month": month, "hub": hub_id})

    async def for_month(self, month: date) -> list[tuple[str, int]]:
        """(hub, referrals) for every hub with a referral in `month`, ordered by hub."""
        rows = await self._session.execute(_FOR_MONTH, {"month": month})
        return [(str(hub), int(count)) for hub, count in rows]

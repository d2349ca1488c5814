"""Referrals received per borough hub in a UK calendar month, counted from `referral_facts`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_metrics.domain.periods import UK, UNROUTED

_FOR_MONTH = text(
    """
    SELECT COALESCE(hub_id, :unrouted) AS hub, count(*) FROM referral_facts
    WHERE received_at >= :start AND received_at < :end
    GROUP BY hub ORDER BY hub
    """
)


class ReferralCounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_month(self, month: date) -> list[tuple[str, int]]:
        """(hub, referrals) for every hub with a referral received in `month`, ordered by hub."""
        start = datetime(month.year, month.month, 1, tzinfo=UK)
        end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UK)
        rows = await self._session.execute(
            _FOR_MONTH, {"unrouted": UNROUTED, "start": start, "end": end}
        )
        return [(str(hub), int(count)) for hub, count in rows]

"""The provider's own activity figures (Appendix A indicators 12 to 16), one per month, area
and measure: entering one again replaces it (the latest entry is the figure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_metrics.domain.figures import ProviderActivity

_PUT = text(
    """
    INSERT INTO provider_activity (month, hub_id, measure, value, entered_by, entered_at)
    VALUES (:month, :hub, :measure, :value, :by, :at)
    ON CONFLICT (month, hub_id, measure) DO UPDATE
    SET value = excluded.value, entered_by = excluded.entered_by, entered_at = excluded.entered_at
    WHERE provider_activity.value IS DISTINCT FROM excluded.value
    RETURNING value
    """
)
_FOR_MONTH = text(
    "SELECT hub_id, measure, value, entered_by, entered_at FROM provider_activity"
    " WHERE month = :month AND (CAST(:hub AS text) IS NULL OR hub_id = :hub)"
    " ORDER BY hub_id, measure"
)


@dataclass(frozen=True)
class ActivityEntry:
    """A figure as stored, exactly (pence are not floats), with who entered it last and when."""

    area: str
    measure: str
    value: Decimal
    entered_by: str
    entered_at: datetime

    def figure(self) -> ProviderActivity:
        """The figure as the month's figures hold it."""
        return ProviderActivity(area=self.area, measure=self.measure, value=float(self.value))


class ProviderActivityStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(
        self, *, month: date, hub: str, measure: str, value: Decimal, by: str, at: datetime
    ) -> bool:
        """Store the figure; False when it already held this value (nothing changed)."""
        params = {"month": month, "hub": hub, "measure": measure, "value": value, "by": by}
        changed = await self._session.execute(_PUT, {**params, "at": at})
        return changed.first() is not None

    async def for_month(self, month: date, hub: str | None = None) -> list[ActivityEntry]:
        """Every figure entered for `month` (only `hub`'s when given), by area and measure."""
        rows = await self._session.execute(_FOR_MONTH, {"month": month, "hub": hub})
        return [
            ActivityEntry(area=a, measure=m, value=v, entered_by=by, entered_at=at)
            for a, m, v, by, at in rows
        ]

"""Appendix A indicators 1, 2 and 4, counted by SQL over `referral_facts`.

A referral counts in the month its probation practitioner sent it (`sent_at`, Europe/London),
the month DS1 counts it in, whatever month the platform heard of it. Columns are the borough
hubs and `unrouted` (held for the lead provider). Table names are unqualified: the session's
search path is the metrics schema (a rebuild may swap the tables underneath).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_metrics.adapters.indicator_queries_cases import CaseIndicators
from gmirs_metrics.domain.figures import Breakdown
from gmirs_metrics.domain.indicators import (
    NOT_RECORDED,
    REFERRAL_COLUMNS,
    month_bounds,
    not_collected,
    support_lengths,
    tabulate,
)
from gmirs_metrics.domain.periods import UNROUTED

_RECORDED = "COALESCE(NULLIF(btrim({column}), ''), '" + NOT_RECORDED + "')"
_YES_NO = "CASE WHEN {column} THEN '{yes}' WHEN NOT {column} THEN '{no}' ELSE 'not known' END"
# (indicator, title, the SQL expression naming a referral's row, fixed rows or None, small group)
_REFERRAL_BREAKDOWNS: tuple[tuple[str, str, str, tuple[str, ...] | None, bool], ...] = (
    (
        "A1",
        "Referrals by borough and referral source",
        "source",
        ("refer-and-monitor", "direct", "pilot-import"),
        False,
    ),
    ("A2-gender", "Referrals by gender", _RECORDED.format(column="gender"), None, True),
    ("A2-ethnicity", "Referrals by ethnicity", _RECORDED.format(column="ethnicity"), None, True),
    (
        "A2-disability",
        "Referrals by disability",
        _YES_NO.format(column="has_disability", yes="disability recorded", no="none recorded"),
        ("disability recorded", "none recorded", "not known"),
        True,
    ),
    (
        "A4-complexity",
        "Referrals by complexity (the highest of their service categories)",
        f"COALESCE(complexity, '{NOT_RECORDED}')",
        ("low", "medium", "high", NOT_RECORDED),
        True,
    ),
    (
        "A4-custody",
        "Referrals by where the person was when referred (vulnerability)",
        "COALESCE(current_location, 'not known')",
        ("custody", "community", "not known"),
        True,
    ),
    (
        "A4-interpreter",
        "Referrals needing an interpreter (vulnerability)",
        _YES_NO.format(column="needs_interpreter", yes="needs an interpreter", no="does not"),
        ("needs an interpreter", "does not", "not known"),
        True,
    ),
)
_QUERIES = {
    indicator: text(
        f"SELECT {row} AS row_label, COALESCE(hub_id, '{UNROUTED}') AS column_label,"  # noqa: S608 (row expressions are this module's constants)
        " count(*) AS n FROM referral_facts"
        " WHERE sent_at >= :start AND sent_at < :end GROUP BY 1, 2"
    )
    for indicator, _, row, _, _ in _REFERRAL_BREAKDOWNS
}
NOT_COLLECTED_REFERRALS = ("A2-age", "A2-religion", "A2-sexual-orientation", "A3", "A4-risk")


class ReferralIndicators:
    """Indicators 1, 2, 3 and 4: referrals sent in a month by their attributes and borough."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def breakdowns(self, month: date) -> list[Breakdown]:
        start, end = month_bounds(month)
        found = [
            tabulate(
                indicator,
                title,
                await self._counts(indicator, start=start, end=end),
                rows=rows,
                columns=REFERRAL_COLUMNS,
                small_groups=small,
            )
            for indicator, title, _, rows, small in _REFERRAL_BREAKDOWNS
        ]
        return [*found, *(not_collected(indicator) for indicator in NOT_COLLECTED_REFERRALS)]

    async def _counts(self, indicator: str, **bounds: object) -> Mapping[tuple[str, str], int]:
        rows = await self._session.execute(_QUERIES[indicator], bounds)
        return {(str(row), str(column)): int(n) for row, column, n in rows}


class AppendixA:
    """Every Appendix A breakdown the events can give, for one month, in indicator order."""

    def __init__(self, session: AsyncSession, *, first_contact_working_days: int) -> None:
        self.referrals = ReferralIndicators(session)
        self.cases = CaseIndicators(session, first_contact_working_days=first_contact_working_days)

    async def breakdowns(self, month: date, *, as_of: datetime) -> list[Breakdown]:
        found = [
            *await self.referrals.breakdowns(month),
            *await self.cases.closures(month),
            await self.cases.contacts(month),
            await self.cases.contacted_in_time(month, as_of=as_of),
            await self.cases.supported(month),
            *await self.cases.onward(month),
            *support_lengths(await self.cases.support_lengths(month)),
        ]
        return sorted(found, key=lambda b: _indicator_number(b.indicator))


def _indicator_number(indicator: str) -> int:
    """A12-style ids in numeric order (A2 before A10); the sort is stable within one number."""
    return int(indicator[1:].split("-", maxsplit=1)[0])

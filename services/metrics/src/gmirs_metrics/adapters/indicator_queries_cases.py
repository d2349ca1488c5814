"""Appendix A indicators 5 to 11 and 17, counted by SQL over the case facts, by borough hub.

Which month a row belongs to: a closure (5, 6, 10, 17) in the month the case closed; a contact
(7) in the month it was attempted; contact within the agreed time (8) in the month the referral
was sent; support (9) in the month of the attended appointment or of the intervention's start;
an onward referral (11) in the month it was made. All Europe/London months.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_contracts.common import ContactMethod
from gmirs_metrics.domain.figures import Breakdown
from gmirs_metrics.domain.indicators import (
    CONTACT_TIMING,
    ENDED_EARLY,
    NOT_COMPLETED_ROWS,
    NOT_SUITABLE,
    POINTS,
    SUPPORT_ROWS,
    contact_timing,
    month_bounds,
    tabulate,
)
from gmirs_runtime.working_days import add_working_days, local_date

_CLOSURES = text(
    """
    SELECT closure_reason,
           CASE WHEN intervention_commenced_at IS NOT NULL THEN 4
                WHEN action_plan_agreed_at IS NOT NULL THEN 3
                WHEN initial_assessment_attended_at IS NOT NULL THEN 2
                WHEN first_contact_at IS NOT NULL THEN 1
                ELSE 0 END AS point,
           hub_id, count(*)
    FROM case_facts WHERE closed_at >= :start AND closed_at < :end AND closure_reason IS NOT NULL
    GROUP BY 1, 2, 3
    """
)
_CONTACTS = text(
    "SELECT method, successful, hub_id, count(*) FROM contact_facts"
    " WHERE occurred_at >= :start AND occurred_at < :end GROUP BY 1, 2, 3"
)
_FIRST_CONTACTS = text(
    "SELECT hub_id, referral_sent_at, first_contact_at FROM case_facts"
    " WHERE referral_sent_at >= :start AND referral_sent_at < :end"
)
_SUPPORTED = text(
    """
    SELECT 0, hub_id, count(DISTINCT case_id) FROM appointment_facts
    WHERE attended IN ('yes', 'late') AND starts_at >= :start AND starts_at < :end GROUP BY 2
    UNION ALL
    SELECT 1, hub_id, count(*) FROM case_facts
    WHERE intervention_commenced_at >= :start AND intervention_commenced_at < :end GROUP BY 2
    """
)
_ONWARD = text(
    "SELECT agency, need, hub_id, count(*) FROM onward_referral_facts"
    " WHERE referred_at >= :start AND referred_at < :end GROUP BY 1, 2, 3"
)
_SUPPORT_ENDED = text(
    """
    SELECT c.hub_id, c.initial_assessment_attended_at,
           COALESCE(c.sessions_completed_at, c.closed_at),
           (SELECT count(*) FROM appointment_facts a WHERE a.case_id = c.case_id
              AND a.kind = 'session' AND a.attended IN ('yes', 'late'))
    FROM case_facts c
    WHERE c.closed_at >= :start AND c.closed_at < :end
      AND c.initial_assessment_attended_at IS NOT NULL
    """
)
CONTACT_METHODS: tuple[str, ...] = get_args(ContactMethod)


class CaseIndicators:
    """Indicators 5 to 11 (and 17's facts, for `support_lengths`) for one month."""

    def __init__(self, session: AsyncSession, *, first_contact_working_days: int) -> None:
        self._session = session
        self._first_contact_days = first_contact_working_days

    async def _rows(self, statement: Any, month: date) -> list[Any]:
        start, end = month_bounds(month)
        return list(await self._session.execute(statement, {"start": start, "end": end}))

    async def closures(self, month: date) -> list[Breakdown]:
        """Indicators 5 (inappropriate or signposted), 6 (did not engage or declined, and at
        which point) and 10 (not completing, by reason)."""
        by_reason: Counter[tuple[str, str]] = Counter()
        by_point: Counter[tuple[str, str]] = Counter()
        for reason, point, hub, n in await self._rows(_CLOSURES, month):
            by_reason[reason, hub] += n
            if reason in ENDED_EARLY:
                by_point[f"{reason}: {POINTS[point]}", hub] += n
        return [
            tabulate("A5", "Closed as inappropriate or signposted elsewhere", by_reason,
                     rows=NOT_SUITABLE, small_groups=True),
            tabulate("A6", "Did not engage or declined, by the point reached", by_point,
                     rows=[f"{r}: {p}" for r in ENDED_EARLY for p in POINTS], small_groups=True),
            tabulate("A10", "Not completing the intervention, by closure reason", by_reason,
                     rows=NOT_COMPLETED_ROWS, small_groups=True),
        ]  # fmt: skip

    async def contacts(self, month: date) -> Breakdown:
        """Indicator 7: contact attempts by method, the unsuccessful ones on rows of their own."""
        counts: Counter[tuple[str, str]] = Counter()
        for method, successful, hub, n in await self._rows(_CONTACTS, month):
            counts[f"{method}: {'successful' if successful else 'unsuccessful'}", hub] += n
        rows = [f"{m}: {s}" for m in CONTACT_METHODS for s in ("successful", "unsuccessful")]
        return tabulate("A7", "Contact attempts by method and success", counts, rows=rows)

    async def contacted_in_time(self, month: date, *, as_of: datetime) -> Breakdown:
        """Indicator 8: referrals sent in the month, first contacted within the agreed number
        of working days of being sent (a setting: the specification leaves it to the contract)."""
        today = local_date(as_of)
        counts: Counter[tuple[str, str]] = Counter()
        for hub, sent_at, first_contact_at in await self._rows(_FIRST_CONTACTS, month):
            deadline = add_working_days(local_date(sent_at), self._first_contact_days)
            contacted = local_date(first_contact_at) if first_contact_at else None
            counts[contact_timing(contacted=contacted, deadline=deadline, today=today), hub] += 1
        title = f"Referrals contacted within {self._first_contact_days} working days"
        return tabulate("A8", title, counts, rows=CONTACT_TIMING, small_groups=True)

    async def supported(self, month: date) -> Breakdown:
        """Indicator 9: people provided with support (an appointment attended in the month),
        and those whose intervention began in it."""
        counts = {
            (SUPPORT_ROWS[row], hub): n for row, hub, n in await self._rows(_SUPPORTED, month)
        }
        return tabulate("A9", "People provided with support", counts, rows=SUPPORT_ROWS)

    async def onward(self, month: date) -> list[Breakdown]:
        """Indicator 11: onward referrals to other agencies, by agency and by need."""
        by_agency: Counter[tuple[str, str]] = Counter()
        by_need: Counter[tuple[str, str]] = Counter()
        for agency, need, hub, n in await self._rows(_ONWARD, month):
            by_agency[agency, hub] += n
            by_need[need, hub] += n
        return [
            tabulate("A11-agency", "Onward referrals by agency", by_agency, small_groups=True),
            tabulate("A11-need", "Onward referrals by need", by_need, small_groups=True),
        ]

    async def support_lengths(self, month: date) -> list[tuple[str, int, int]]:
        """(hub, days of support, sessions attended) per case whose support ended in the month:
        from the initial assessment attended to sessions completed (or closure), local dates."""
        return [
            (hub, (local_date(finished) - local_date(began)).days, int(sessions))
            for hub, began, finished, sessions in await self._rows(_SUPPORT_ENDED, month)
        ]

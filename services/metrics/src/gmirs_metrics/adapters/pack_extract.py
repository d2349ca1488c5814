"""Reads the commissioner's case-level extract from the fact tables: exactly the allowed
fields (domain/pack_extract.py), in a fixed order, for cases whose referral was sent in a month.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_metrics.domain.pack_extract import EXTRACT_HEADER, MILESTONES
from gmirs_metrics.domain.periods import UK

LOCAL_DATE = "(({column}) AT TIME ZONE 'Europe/London')::date"
SENT = "coalesce(c.referral_sent_at, r.sent_at)"
SELECTED = (
    "c.case_id",
    "c.referral_id",
    "c.hub_id",
    "coalesce(c.probation_delivery_unit, r.probation_delivery_unit)",
    "r.source",
    LOCAL_DATE.format(column=SENT),
    LOCAL_DATE.format(column="r.received_at"),
    *(LOCAL_DATE.format(column=f"c.{name}_at") for name, _ in MILESTONES),
    "c.initial_assessments_missed",
    "c.state",
    "c.closure_reason",
    "c.outcomes_achieved",
    "c.outcomes_partially_achieved",
    "c.outcomes_not_achieved",
)
if len(SELECTED) != len(EXTRACT_HEADER):
    raise RuntimeError("the extract's columns and its allowed fields differ")

QUERY = text(
    f"SELECT {', '.join(SELECTED)} FROM case_facts c"  # noqa: S608  (constant column list)
    " LEFT JOIN referral_facts r ON r.referral_id = c.referral_id"
    f" WHERE {SENT} >= :start AND {SENT} < :end"
    f" ORDER BY {SENT}, c.case_id"
)


class CaseExtract:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_month(self, month: date) -> list[Sequence[Any]]:
        """The allowed fields of every case whose referral was sent in the UK month."""
        start = datetime.combine(month, time.min, tzinfo=UK)
        end = datetime.combine(_next_month(month), time.min, tzinfo=UK)
        result = await self.session.execute(QUERY, {"start": start, "end": end})
        return [[_plain(v) for v in row] for row in result.all()]


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | date):
        return str(value)
    return value

"""The metrics service's unit of work: the runtime's transaction, carrying the read models.

Projections and routes reach storage only through it (`uow.referral_counts`); bootstrap hands
this class to the runtime (cosmicpython's unit_of_work.py shape).
"""

from __future__ import annotations

from typing import Self

from gmirs_metrics.adapters.facts_upsert import FactWriter
from gmirs_metrics.adapters.referral_counts import ReferralCounts
from gmirs_runtime.db import UnitOfWork


class MetricsUnitOfWork(UnitOfWork):
    referral_counts: ReferralCounts
    facts: FactWriter

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.referral_counts = ReferralCounts(self.session)
        self.facts = FactWriter(self.session)
        return self

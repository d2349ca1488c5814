"""The metrics service's unit of work: the runtime's transaction, carrying the read models.

Projections and routes reach storage only through it (`uow.referral_counts`); bootstrap hands
this class to the runtime (cosmicpython's unit_of_work.py shape).
"""

from __future__ import annotations

from typing import Self

from gmirs_metrics.adapters.facts_upsert import FactWriter
from gmirs_metrics.adapters.kpi_queries import KpiQueries
from gmirs_metrics.adapters.pack_extract import CaseExtract
from gmirs_metrics.adapters.provider_activity import ProviderActivityStore
from gmirs_metrics.adapters.referral_counts import ReferralCounts
from gmirs_metrics.domain.kpi_readings import KpiReadings
from gmirs_runtime.db import UnitOfWork


class MetricsUnitOfWork(UnitOfWork):
    referral_counts: ReferralCounts
    # metricsdash: Appendix A indicators 12-16, entered by the provider
    provider_activity: ProviderActivityStore
    # metricspack: the commissioner's case-level extract
    case_extract: CaseExtract
    facts: FactWriter

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.referral_counts = ReferralCounts(self.session)
        # metricsdash
        self.provider_activity = ProviderActivityStore(self.session)
        # metricspack
        self.case_extract = CaseExtract(self.session)
        self.facts = FactWriter(self.session)
        return self

    # --- KPIs (metricskpi)
    def kpi_queries(self, readings: KpiReadings) -> KpiQueries:
        """A month's KPI figures under `readings`, on this unit of work's transaction."""
        return KpiQueries(self.session, readings)

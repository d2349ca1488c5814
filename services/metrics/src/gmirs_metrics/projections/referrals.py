"""Referrals received per borough hub per month (DS1's numerator), from intake's events."""

from __future__ import annotations

from gmirs_contracts.intake import ReferralReceived
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.periods import UNROUTED, reporting_month
from gmirs_runtime.eventing.envelope import Event


async def count_referral(referral: ReferralReceived, event: Event, uow: MetricsUnitOfWork) -> None:
    await uow.referral_counts.count_one(
        month=reporting_month(referral.received_at), hub_id=referral.hub_id or UNROUTED
    )

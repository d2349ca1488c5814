"""Referrals received per borough hub per month (DS1's numerator), from intake's events."""

from __future__ import annotations

from sqlalchemy import text

from gmirs_contracts.intake import ReferralReceived
from gmirs_metrics.domain.periods import UNROUTED, reporting_month
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.errors import parse_data

_COUNT = text(
    """
    INSERT INTO referrals_by_borough (month, hub_id, referrals) VALUES (:month, :hub, 1)
    ON CONFLICT (month, hub_id) DO UPDATE SET referrals = referrals_by_borough.referrals + 1
    """
)


async def count_referral(event: Event, uow: UnitOfWork) -> None:
    referral = parse_data(ReferralReceived.parse_tolerant, event.data)
    await uow.session.execute(
        _COUNT,
        {"month": reporting_month(referral.received_at), "hub": referral.hub_id or UNROUTED},
    )

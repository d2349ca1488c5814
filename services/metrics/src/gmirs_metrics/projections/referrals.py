"""Referrals as R&M (or another source) sent them: one `referral_facts` row per referral."""

from __future__ import annotations

from gmirs_contracts.intake import ReferralReceived
from gmirs_metrics.adapters.facts_rules import Fact
from gmirs_metrics.adapters.facts_tables import REFERRALS
from gmirs_runtime.eventing.envelope import Event

_COMPLEXITY = {"low": 0, "medium": 1, "high": 2}


def referral_received(referral: ReferralReceived, event: Event) -> list[Fact]:
    categories = referral.service_categories
    location = referral.location
    return [
        Fact(
            REFERRALS,
            {
                "referral_id": referral.referral_id,
                "source": referral.source,
                "hub_id": referral.hub_id,
                "probation_delivery_unit": referral.probation_delivery_unit,
                "sent_at": referral.sent_at,
                "received_at": referral.received_at,
                "from_rm": referral.source == "refer-and-monitor",
                "complexity": max((c.complexity for c in categories), key=_COMPLEXITY.__getitem__),
                "service_categories": [c.name for c in categories],
                "gender": referral.person.gender,
                "ethnicity": referral.person.ethnicity,
                "has_disability": bool(referral.person.disabilities),
                "needs_interpreter": referral.needs.needs_interpreter,
                "current_location": location.current_location if location else None,
            },
        )
    ]

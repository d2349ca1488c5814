"""The KPIs' targets (specification section 2.6) and DS1's monthly referral target per hub.

DS1 compares "monthly referrals received against contractual target"; the contract's figure is
not in the specification, so the default is seeded from its demand table (section 1.12): the
predicted referrals per PDU are 40-60% of the people in the community each year; the default
monthly target is the midpoint, 50% of the people, over twelve months, rounded, summed over the
PDUs a hub serves. `METRICS_KPI_DS1_MONTHLY_TARGETS` (JSON, hub id to referrals) overrides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gmirs_contracts.hubs import PDU_HUBS

PEOPLE_BY_PDU: Mapping[str, int] = MappingProxyType(
    {
        "Bolton": 1057,
        "Bury": 554,
        "Manchester North": 1297,
        "Manchester South": 1327,
        "Oldham": 795,
        "Rochdale": 827,
        "Salford": 943,
        "Stockport": 742,
        "Tameside": 794,
        "Trafford": 390,
        "Wigan": 1035,
    }
)
"""People in the community per PDU, January 2023 (section 1.12)."""
REFERRED_SHARE = 0.5
"""The midpoint of the specification's predicted 40-60% referred a year."""

TARGET_PERCENT: Mapping[str, float | None] = MappingProxyType(
    {
        "DS1": 95.0,
        "DS2": 95.0,
        "DS3": 90.0,
        "DS4": 95.0,
        "DS5": 85.0,
        "KP1": 100.0,
        "KP2": 100.0,
        "KP3": 100.0,
        "KP4": 100.0,
        "KP5": 90.0,
        "KP6": 90.0,
        "PM001": None,
        "SL002": 90.0,
    }
)
"""Section 2.6's targets; PM001's technical note is cut off in the specification: no target."""
AMBER_MARGIN: Mapping[str, float] = MappingProxyType({"SL002": 10.0})
"""Percentage points below target still amber: SL002's note sets a trigger level of 80%;
the others default to five points (figures.KpiFigure)."""


def ds1_default_targets() -> dict[str, int]:
    """Referrals expected per hub per month, from the demand table (module docstring)."""
    yearly: dict[str, float] = {}
    for pdu, people in PEOPLE_BY_PDU.items():
        hub = PDU_HUBS[pdu]
        yearly[hub] = yearly.get(hub, 0.0) + people * REFERRED_SHARE
    return {hub: round(total / 12) for hub, total in sorted(yearly.items())}

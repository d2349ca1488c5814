"""The Greater Manchester hubs: one id per borough's sub-contracted provider, and PDU routing.

One source of truth every service can import (services never import each other): case checks a
hub token's `hub_id` against these, intake routes referrals to them, the local stack seeds one
demo client per hub. Services take them as configurable defaults, so a change of hubs is a
configuration change first and a release of this list second.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

HUB_IDS: tuple[str, ...] = (
    "bolton",
    "bury",
    "manchester",
    "oldham",
    "rochdale",
    "salford",
    "stockport",
    "tameside",
    "trafford",
    "wigan",
)

# Eleven probation delivery units, ten hubs: Manchester North and South both go to Manchester.
PDU_HUBS: Mapping[str, str] = MappingProxyType(
    {
        "Bolton": "bolton",
        "Bury": "bury",
        "Manchester North": "manchester",
        "Manchester South": "manchester",
        "Oldham": "oldham",
        "Rochdale": "rochdale",
        "Salford": "salford",
        "Stockport": "stockport",
        "Tameside": "tameside",
        "Trafford": "trafford",
        "Wigan": "wigan",
    }
)

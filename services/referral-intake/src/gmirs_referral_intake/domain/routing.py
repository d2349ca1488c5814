"""Which hub takes a referral: by its R&M contract first, then by its probation delivery unit.

GMIRS well-being is one R&M contract per borough, so the contract names the hub directly; the
probation delivery unit is the fallback (eleven units, ten hubs: Manchester North and South both
go to Manchester). A referral that matches neither is held for the lead provider, never dropped.
The mapping is configuration, so a change of hub boundaries is not a code change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gmirs_contracts.hubs import PDU_HUBS

DEFAULT_PDU_HUBS: Mapping[str, str] = PDU_HUBS  # the shared default (gmirs_contracts.hubs)


@dataclass(frozen=True)
class HubRouting:
    pdu_hubs: Mapping[str, str] = field(default_factory=lambda: DEFAULT_PDU_HUBS)
    contract_hubs: Mapping[str, str] = field(default_factory=dict)

    def route(
        self, *, probation_delivery_unit: str | None, contract_reference: str | None
    ) -> str | None:
        """The hub for a referral, or None when it must be held for the lead provider.

        A unit we do not recognise (None) holds the referral even when its contract names a hub:
        a hub's case needs its unit, and an unknown unit is for the lead provider to check.
        """
        if probation_delivery_unit is None:
            return None
        if contract_reference and contract_reference in self.contract_hubs:
            return self.contract_hubs[contract_reference]
        return self.pdu_hubs.get(probation_delivery_unit)

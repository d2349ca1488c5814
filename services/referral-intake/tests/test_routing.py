"""Routing a referral to its hub: contract first, then probation delivery unit, else held."""

from __future__ import annotations

from gmirs_referral_intake.domain.routing import DEFAULT_PDU_HUBS, HubRouting


def test_every_greater_manchester_pdu_routes_to_one_of_ten_hubs() -> None:
    routing = HubRouting()
    hubs = {
        routing.route(probation_delivery_unit=pdu, contract_reference=None)
        for pdu in DEFAULT_PDU_HUBS
    }
    assert len(DEFAULT_PDU_HUBS) == 11
    assert len(hubs) == 10
    assert (
        routing.route(probation_delivery_unit="Manchester North", contract_reference=None)
        == "manchester"
    )
    assert (
        routing.route(probation_delivery_unit="Manchester South", contract_reference=None)
        == "manchester"
    )


def test_contract_wins_over_pdu_and_nothing_matching_is_held() -> None:
    routing = HubRouting(contract_hubs={"DN671065_WIGAN_PWB": "wigan"})
    assert (
        routing.route(probation_delivery_unit="Bolton", contract_reference="DN671065_WIGAN_PWB")
        == "wigan"
    )
    assert routing.route(probation_delivery_unit="Bolton", contract_reference="unknown") == "bolton"
    assert routing.route(probation_delivery_unit="Lancaster", contract_reference=None) is None

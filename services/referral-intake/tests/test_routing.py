"""Routing a referral to its hub: contract first, then probation delivery unit, else held."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from gmirs_contracts.hubs import HUB_IDS
from gmirs_referral_intake.domain.routing import DEFAULT_PDU_HUBS, HubRouting
from gmirs_referral_intake.settings import IntakeSettings


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


def test_routing_may_name_only_configured_hubs(monkeypatch: pytest.MonkeyPatch) -> None:
    required = {
        "INTAKE_DATABASE_URL": "postgresql://u:p@127.0.0.1/db",
        "INTAKE_AUTH_ISSUER": "http://127.0.0.1:1",
        "INTAKE_AUTH_JWKS_URL": "http://127.0.0.1:1/jwks",
    }
    for name, value in required.items():
        monkeypatch.setenv(name, value)
    assert set(IntakeSettings().pdu_hubs.values()) == set(HUB_IDS)

    monkeypatch.setenv("INTAKE_CONTRACT_HUBS", '{"DN1_PWB": "atlantis"}')
    with pytest.raises(ValidationError, match="not configured: atlantis"):
        IntakeSettings()
    monkeypatch.setenv("INTAKE_HUB_IDS", json.dumps([*HUB_IDS, "atlantis"]))
    assert IntakeSettings().contract_hubs == {"DN1_PWB": "atlantis"}

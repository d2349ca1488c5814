"""Direct referrals through the intake API, in-process against real PostgreSQL and broker."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.testing.kafka import read_topic, wait_for_records
from gmirs_runtime.testing.services import RunningService

TOPIC = "intake.referral-events.v1"
BODY: dict[str, Any] = {
    "probation_delivery_unit": "Bolton",
    "contract_reference": "DN671065_TRAFFORD_PWB",
    "person": {"crn": "A123456", "given_name": "Sam", "family_name": "Sample"},
    "service_categories": [{"name": "Emotional Wellbeing", "complexity": "high"}],
    "referring_practitioner": {"name": "Pat", "email": "pat@probation.example"},
}


@pytest.fixture
async def intake(start_service) -> AsyncIterator[RunningService]:
    async with start_service(
        IntakeSettings,
        build,
        MIGRATIONS,
        contract_hubs={"DN671065_TRAFFORD_PWB": "trafford"},
        pdu_hubs={"Bolton": "bolton"},
    ) as service:
        yield service


def _lead(service: RunningService):
    return service.as_client("lead-provider", ["lead-provider"])


async def _records_for(bootstrap: str, referral_id: str) -> list:  # type: ignore[type-arg]
    return [r for r in await read_topic(bootstrap, TOPIC) if r.key == referral_id.encode()]


async def test_a_direct_referral_is_routed_published_and_idempotent(intake, kafka_broker) -> None:
    async with _lead(intake) as http:
        first = await http.post("/referrals", json=BODY, headers={"Idempotency-Key": "key-000001"})
        assert first.status_code == 201, first.text
        again = await http.post("/referrals", json=BODY, headers={"Idempotency-Key": "key-000001"})
        changed = copy.deepcopy(BODY)
        changed["person"]["crn"] = "B654321"
        conflict = await http.post(
            "/referrals", json=changed, headers={"Idempotency-Key": "key-000001"}
        )
    referral = first.json()
    assert referral["hub_id"] == "trafford"  # by contract, although the PDU is Bolton
    assert referral["status"] == "routed"
    assert again.status_code == 200
    assert again.json() == referral
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")

    (record,) = await wait_for_records(
        kafka_broker.bootstrap, TOPIC, lambda r: r.key == referral["referral_id"].encode()
    )
    data = orjson.loads(record.value)
    validate_event("gmirs.intake.referral-received.v1", data)
    assert data["person"]["crn"] == "A123456"
    assert data["source"] == "direct"
    assert b"A123456" not in b"".join(v for _, v in record.headers)
    assert len(await _records_for(kafka_broker.bootstrap, referral["referral_id"])) == 1


async def test_an_unmatched_referral_is_held_not_dropped(intake, kafka_broker) -> None:
    body = {**BODY, "probation_delivery_unit": "Wigan", "contract_reference": None}
    async with _lead(intake) as http:
        response = await http.post("/referrals", json=body)
        assert response.status_code == 201
        held = response.json()
        assert held["status"] == "held"
        assert held["hub_id"] is None
        status = await http.get(f"/referrals/{held['referral_id']}")
        assert status.json()["status"] == "held"
    (record,) = await wait_for_records(
        kafka_broker.bootstrap, TOPIC, lambda r: r.key == held["referral_id"].encode()
    )
    assert orjson.loads(record.value)["hub_id"] is None
    async with intake.infra.engine.connect() as conn:
        audited = await conn.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'referral.viewed'")
        )
    assert audited == 1


async def test_invalid_referrals_are_refused_field_by_field(intake) -> None:
    body = copy.deepcopy(BODY)
    body["person"]["crn"] = "123"
    body["referring_practitioner"]["email"] = "not an email"
    body["unexpected"] = True
    async with _lead(intake) as http:
        response = await http.post("/referrals", json=body)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.person.crn", "body.referring_practitioner.email", "body.unexpected"} <= fields
    assert "not an email" not in response.text
    async with intake.infra.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM referrals")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM outbox")) == 0


async def test_only_the_lead_provider_refers(intake) -> None:
    async with intake.as_client("hub-bolton", ["hub"], {"hub_id": "bolton"}) as http:
        assert (await http.post("/referrals", json=BODY)).status_code == 403

"""Direct referrals through the intake API, in-process against real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.bootstrap import MIGRATIONS, build, direct_accepting
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints.schemas import DirectReferralCreate
from gmirs_referral_intake.handlers.accept_referral import (
    Accepted,
    AcceptReferral,
    ConcurrentAcceptError,
    ConflictingReferralError,
    accept_referral,
    accept_referrals,
)
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


def _data(reference_number: str) -> dict[str, Any]:
    """A referral as accept_referral takes it (the direct API's shape, plus R&M's fields)."""
    body = DirectReferralCreate.model_validate({**BODY, "reference_number": reference_number})
    return {**body.model_dump(mode="json"), "rm_referral_id": None}


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


async def test_the_same_idempotency_key_sent_at_once_makes_one_referral(
    intake, kafka_broker
) -> None:
    headers = {"Idempotency-Key": "key-concurrent-1"}
    async with _lead(intake) as http:
        responses = await asyncio.gather(
            *(http.post("/referrals", json=BODY, headers=headers) for _ in range(8))
        )
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    (referral_id,) = {r.json()["referral_id"] for r in responses}
    await wait_for_records(kafka_broker.bootstrap, TOPIC, lambda r: r.key == referral_id.encode())
    assert len(await _records_for(kafka_broker.bootstrap, referral_id)) == 1
    async with intake.infra.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM referrals")) == 1


async def test_many_referrals_at_once_are_each_accepted_and_published(intake, kafka_broker) -> None:
    bodies = [copy.deepcopy(BODY) for _ in range(40)]
    for number, body in enumerate(bodies):
        body["person"]["crn"] = f"C{number:06d}"
    async with _lead(intake) as http:
        responses = await asyncio.gather(*(http.post("/referrals", json=b) for b in bodies))
    assert [r.status_code for r in responses] == [201] * 40
    ids = {r.json()["referral_id"] for r in responses}
    records = await wait_for_records(
        kafka_broker.bootstrap, TOPIC, lambda r: r.key.decode() in ids, count=40
    )
    crns = {orjson.loads(r.value)["person"]["crn"] for r in records}
    assert crns == {f"C{n:06d}" for n in range(40)}


async def test_a_reference_number_already_held_is_answered_with_that_referral(intake) -> None:
    """An R&M referral (or an imported one) and a direct entry for it are one referral."""
    command = AcceptReferral("refer-and-monitor", f"rm:{uuid.uuid4()}", _data("GM1234AB"))
    async with intake.infra.unit_of_work() as uow:
        held, created = await accept_referral(command, uow=uow, routing=HubRouting())
        await uow.commit()
    assert created

    body = {**BODY, "reference_number": "GM1234AB"}
    async with _lead(intake) as http:
        response = await http.post("/referrals", json=body)
    assert response.status_code == 200
    assert response.json()["referral_id"] == str(held.id)
    assert response.headers["Location"] == f"/referrals/{held.id}"
    async with intake.infra.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM referrals")) == 1
        assert await conn.scalar(text("SELECT count(*) FROM outbox")) == 1


async def test_sources_racing_with_one_reference_number_make_one_referral(intake) -> None:
    """R&M's event and a direct entry for the same referral, committed at the same moment."""
    references = [f"RC{n:04d}AB" for n in range(15)]

    async def accept(source: str, reference: str) -> uuid.UUID:
        command = AcceptReferral(source, f"{source}:{reference}:{uuid.uuid4()}", _data(reference))
        async with intake.infra.unit_of_work() as uow:
            record, _ = await accept_referral(command, uow=uow, routing=HubRouting())
            await uow.commit()
        return record.id

    results = await asyncio.gather(
        *(
            accept(source, ref)
            for ref in references
            for source in ("refer-and-monitor", "direct", "pilot-import")
        )
    )
    per_reference = [set(results[i : i + 3]) for i in range(0, len(results), 3)]
    assert all(len(ids) == 1 for ids in per_reference)  # each source got the same referral
    async with intake.infra.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM referrals")) == len(references)
        assert await conn.scalar(text("SELECT count(*) FROM outbox")) == len(references)


async def test_a_batch_holding_one_reference_twice_creates_it_once(intake) -> None:
    def command(key: str) -> AcceptReferral:
        return AcceptReferral("direct", key, _data("BT1111AB"))

    async with intake.infra.unit_of_work() as uow:
        outcomes = await accept_referrals(
            [command("k1"), command("k2"), command("k1")], uow=uow, routing=HubRouting()
        )
        await uow.commit()
    first, second, again = outcomes
    assert isinstance(first, Accepted)
    assert first.created
    assert isinstance(second, Accepted)
    assert not second.created
    assert second.record.id == first.record.id
    assert isinstance(again, Accepted)
    assert again.record.id == first.record.id
    assert not again.created


async def test_an_idempotency_key_reused_with_a_held_reference_number_is_still_a_conflict(
    intake,
) -> None:
    headers = {"Idempotency-Key": "key-reused-0001"}
    async with _lead(intake) as http:
        first = await http.post("/referrals", json=BODY, headers=headers)
        assert first.status_code == 201
        rm = AcceptReferral("refer-and-monitor", f"rm:{uuid.uuid4()}", _data("RU1234AB"))
        async with intake.infra.unit_of_work() as uow:
            await accept_referral(rm, uow=uow, routing=HubRouting())
            await uow.commit()
        changed = {**BODY, "reference_number": "RU1234AB"}
        reused = await http.post("/referrals", json=changed, headers=headers)
    assert reused.status_code == 409  # the key's own referral decides, not the number's holder


async def test_a_batch_leaning_on_a_referral_it_could_not_write_is_retried_one_by_one(
    intake,
) -> None:
    """A reuses a key already taken (so writes nothing) and B takes A's new reference number."""
    async with intake.infra.unit_of_work() as uow:
        await accept_referral(
            AcceptReferral("direct", "k-taken", _data("QQ0001AB")), uow=uow, routing=HubRouting()
        )
        await uow.commit()
    a = AcceptReferral("direct", "k-taken", _data("QQ0002AB"))
    b = AcceptReferral("direct", "k-other", _data("QQ0002AB"))
    async with intake.infra.unit_of_work() as uow:
        with pytest.raises(ConcurrentAcceptError):
            await accept_referrals([a, b], uow=uow, routing=HubRouting())

    settings = intake.infra.settings
    assert isinstance(settings, IntakeSettings)
    accepting = direct_accepting(intake.infra, HubRouting(), settings)
    first, second = await asyncio.gather(
        accepting.submit(a), accepting.submit(b), return_exceptions=True
    )
    assert isinstance(first, ConflictingReferralError)  # the key's own referral decides
    assert isinstance(second, Accepted)
    assert second.created  # B holds the number: A never wrote it

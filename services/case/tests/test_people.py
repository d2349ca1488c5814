"""The person on a case, its caseworker and notes, through the real routes and the real consumer
(real PostgreSQL, real broker, real tokens): every role, audit rows, stale edits, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from services.case.tests.people_harness import (
    case_of,
    hub_client,
    publish,
    rm_assigned,
    routed_referral,
)
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.validation import validate_event
from gmirs_runtime.eventing.envelope import from_record
from gmirs_runtime.testing.kafka import eventually, wait_for_records
from gmirs_runtime.testing.services import RunningService

CASES = "case.case-events.v1"


@pytest.fixture
async def case_service(start_service) -> AsyncIterator[RunningService]:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        yield service


async def _audits(service: RunningService, action: str, case_id: str) -> list[tuple[str, str]]:
    async with service.infra.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT actor, reason FROM audit_log WHERE action = :a AND resource_id = :r"
                " ORDER BY id"
            ),
            {"a": action, "r": case_id},
        )
        return [(r[0], r[1]) for r in rows]


async def _worker_events(bootstrap: str, case_id: str, count: int = 1) -> list[dict[str, Any]]:
    records = await wait_for_records(
        bootstrap,
        CASES,
        lambda r: (
            r.key == case_id.encode() and ("ce_type", b"gmirs.case.worker-assigned.v1") in r.headers
        ),
        count=count,
    )
    found = []
    for record in records:
        event = from_record(record.key, record.value, record.headers)
        validate_event(event.type, dict(event.data))
        assert all(b"caseworker" not in value for _, value in record.headers)
        found.append(dict(event.data))
    return found


async def test_the_person_is_kept_and_shown_only_to_its_hub_and_the_lead_provider(
    case_service, kafka_broker
) -> None:
    referral, elsewhere = routed_referral("bolton"), routed_referral("bury")
    await publish(kafka_broker.bootstrap, referral, elsewhere)
    case_id = await case_of(case_service, referral)
    path = f"/cases/{case_id}/person"
    async with hub_client(case_service, "bolton") as http:
        own = await http.get(path, headers={"X-Purpose": "planning the first contact"})
        routed = await http.get(path)
    assert own.status_code == 200, own.text
    person = own.json()
    sent = referral.data["person"]
    assert (person["crn"], person["given_name"], person["family_name"]) == (
        sent["crn"],
        sent["given_name"],
        sent["family_name"],
    )
    assert person["person"] == sent
    assert person["needs"] == referral.data["needs"]
    assert person["service_categories"] == referral.data["service_categories"]
    assert person["referring_practitioner"] == referral.data["referring_practitioner"]
    assert person["location"] == referral.data["location"]
    assert person["location"]["probation_office"] == "Bolton: Wellington Street"
    assert person["contact"] == {
        "phone": None,
        "email": None,
        "address_lines": None,
        "postcode": None,
    }
    assert own.headers["etag"] == '"1"'
    assert routed.status_code == 200
    async with hub_client(case_service, "bury") as http:
        assert (await http.get(path)).status_code == 404
    async with case_service.as_client("lead", ["lead-provider"]) as http:
        assert (await http.get(path)).status_code == 200
    for role in ("commissioner", "operator"):
        async with case_service.as_client(role, [role]) as http:
            assert (await http.get(path)).status_code == 403
    assert await _audits(case_service, "person.viewed", case_id) == [
        ("hub-bolton", "planning the first contact"),
        ("hub-bolton", "GET /cases/{case_id}/person"),
        ("lead", "GET /cases/{case_id}/person"),
    ]
    async with case_service.infra.engine.connect() as conn:
        stored = await conn.scalar(
            text("SELECT search_name FROM case_people WHERE case_id = :c"), {"c": case_id}
        )
    assert stored == f"{sent['given_name']} {sent['family_name']}".casefold()


async def test_contact_corrections_need_the_current_version(case_service, kafka_broker) -> None:
    referral = routed_referral("bolton")
    await publish(kafka_broker.bootstrap, referral)
    case_id = await case_of(case_service, referral)
    path = f"/cases/{case_id}/person/contact"
    async with hub_client(case_service, "bolton") as http:
        missing = await http.patch(path, json={"phone": "0161 496 0000"})
        assert missing.status_code == 428
        assert missing.headers["content-type"] == "application/problem+json"
        for version in range(1, 21):  # the write path, many times on one connection
            done = await http.patch(
                path,
                json={"phone": f"0161 496 {version:04d}"},
                headers={"If-Match": f'"{version}"'},
            )
            assert done.status_code == 200, done.text
            assert done.headers["etag"] == f'"{version + 1}"'
        stale = await http.patch(path, json={"postcode": "BL1 1AA"}, headers={"If-Match": '"3"'})
        assert stale.status_code == 412
        for bad in (
            {"phone": "0161\x00496"},
            {"phone": "x" * 41},
            {"colour": "blue"},
            {},
            {"address_lines": ["a"] * 5},
            {"email": "not-an-email"},
        ):
            refused = await http.patch(path, json=bad, headers={"If-Match": '"21"'})
            assert refused.status_code == 422, bad
        cleared = await http.patch(
            path, json={"phone": None, "address_lines": ["1 High St"]}, headers={"If-Match": "21"}
        )
        assert cleared.status_code == 200
        person = (await http.get(f"/cases/{case_id}/person")).json()
    assert person["contact"]["phone"] is None
    assert person["contact"]["address_lines"] == ["1 High St"]
    assert (person["contact_version"], person["contact_updated_by"]) == (22, "hub-bolton")
    async with hub_client(case_service, "bury") as http:
        other = await http.patch(path, json={"phone": "0161 496 0000"}, headers={"If-Match": "22"})
        assert other.status_code == 404
    async with case_service.as_client("commissioner", ["commissioner"]) as http:
        assert (await http.patch(path, json={"phone": "01614960000"})).status_code == 403
    corrected = await _audits(case_service, "person.contact-corrected", case_id)
    assert len(corrected) == 21
    async with case_service.infra.engine.connect() as conn:
        payloads = await conn.scalar(
            text("SELECT count(*) FROM outbox WHERE payload::text LIKE '%0161 496%'")
        )
    assert payloads == 0  # a contact correction publishes no personal data


async def test_caseworkers_from_the_hub_and_from_rm_before_and_after_the_case_opens(
    case_service, kafka_broker
) -> None:
    early, late = routed_referral("bolton"), routed_referral("bolton")
    now = datetime.now(UTC)
    await publish(kafka_broker.bootstrap, rm_assigned(early, "sp.early", now), early, late)
    early_case, late_case = await case_of(case_service, early), await case_of(case_service, late)
    (announced,) = await _worker_events(kafka_broker.bootstrap, early_case)
    assert (announced["worker"], announced["source"]) == ("sp.early", "refer-and-monitor")
    await publish(kafka_broker.bootstrap, rm_assigned(late, "sp.late", now))
    (after,) = await _worker_events(kafka_broker.bootstrap, late_case)
    assert (after["worker"], after["hub_id"]) == ("sp.late", "bolton")
    path = f"/cases/{late_case}/worker"
    async with hub_client(case_service, "bolton") as http:
        put = await http.put(path, json={"worker": "caseworker.two"})
        assert put.status_code == 200, put.text
        assert put.json()["source"] == "hub"
        assert (await http.put(path, json={"worker": "bad name\x00"})).status_code == 422
        assert (await http.put(path, json={"worker": ""})).status_code == 422
    async with hub_client(case_service, "bury") as http:
        assert (await http.put(path, json={"worker": "caseworker.x"})).status_code == 404
    for role in ("commissioner", "operator"):
        async with case_service.as_client(role, [role]) as http:
            assert (await http.put(path, json={"worker": "caseworker.x"})).status_code == 403
    events = await _worker_events(kafka_broker.bootstrap, late_case, count=2)
    assert [e["worker"] for e in events] == ["sp.late", "caseworker.two"]
    # R&M's older assignment arriving late does not undo the hub's newer one
    await publish(kafka_broker.bootstrap, rm_assigned(late, "sp.stale", now))
    async with case_service.infra.engine.connect() as conn:

        async def still_the_hubs() -> bool:
            worker = await conn.scalar(
                text("SELECT worker FROM worker_assignments WHERE referral_id = :r"),
                {"r": str(late.subject)},
            )
            return bool(worker == "caseworker.two")

        await eventually(still_the_hubs)


async def test_sensitive_notes_are_withheld_from_hub_callers_without_the_role(
    case_service, kafka_broker
) -> None:
    referral = routed_referral("bolton")
    await publish(kafka_broker.bootstrap, referral)
    case_id = await case_of(case_service, referral)
    path = f"/cases/{case_id}/notes"
    async with hub_client(case_service, "bolton") as http:
        for n in range(15):  # the write path, many times on one connection
            written = await http.post(path, json={"text": f"Called.\nNote {n}", "worker": "cw.one"})
            assert written.status_code == 201, written.text
        secret = await http.post(path, json={"text": "Disclosed a risk.", "sensitive": True})
        assert secret.status_code == 201
        for bad in (
            {"text": ""},
            {"text": "a\x00b"},
            {"text": "x" * 10_001},
            {"text": "a", "x": 1},
        ):
            assert (await http.post(path, json=bad)).status_code == 422, bad
        assert (await http.post(path, json={"text": "a", "sensitive": "yes"})).status_code == 422
        plain = (await http.get(path, params={"limit": 200})).json()
    assert plain["total"] == 16
    assert plain["items"][0]["text"] == "Called.\nNote 0"
    withheld = plain["items"][-1]
    assert (withheld["sensitive"], withheld["withheld"], withheld["text"]) == (True, True, None)
    async with hub_client(case_service, "bolton", "sensitive-notes") as http:
        manager = (await http.get(path, params={"offset": 15})).json()
    assert manager["items"][0]["text"] == "Disclosed a risk."
    async with case_service.as_client("lead", ["lead-provider"]) as http:
        lead = (await http.get(path, params={"offset": 15})).json()
    assert lead["items"][0]["text"] == "Disclosed a risk."
    async with hub_client(case_service, "bury", "sensitive-notes") as http:
        assert (await http.get(path)).status_code == 404
        assert (await http.post(path, json={"text": "x"})).status_code == 404
    for role in ("commissioner", "operator"):
        async with case_service.as_client(role, [role, "sensitive-notes"]) as http:
            assert (await http.get(path)).status_code == 403
    assert len(await _audits(case_service, "case-note.written", case_id)) == 16
    assert [a for a, _ in await _audits(case_service, "case-notes.viewed", case_id)] == [
        "hub-bolton",
        "hub-bolton",
        "lead",
    ]

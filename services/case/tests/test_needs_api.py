"""Contacts, the distance-travelled tool and consent through the real routes: real PostgreSQL,
the real broker and issuer, one case service for the module and one case per hub."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.examples import example_data
from gmirs_contracts.validation import validate_event
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.testing.hostile import (
    assert_body_limit,
    assert_duplicate_key_refused,
    assert_nul_refused,
)
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually, wait_for_records
from gmirs_runtime.testing.services import RunningService, own_database, running_service

INTAKE, CASES = "intake.referral-events.v1", "case.case-events.v1"
OWN, OTHER = "oldham", "rochdale"
REPEATS = 25


class Served:
    def __init__(self, service: RunningService, cases: dict[str, str]) -> None:
        self.service, self.cases = service, cases

    def hub(self, hub: str = OWN) -> httpx.AsyncClient:
        return self.service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub})

    def role(self, role: str) -> httpx.AsyncClient:
        return self.service.as_client(f"probe-{role}", [role])

    async def rows(self, table: str, case_id: str) -> int:
        async with self.service.infra.engine.connect() as conn:
            sql = f"SELECT count(*) FROM {table} WHERE case_id = :c"
            return int(await conn.scalar(text(sql), {"c": uuid.UUID(case_id)}) or 0)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(
    postgres_server: EmbeddedPostgres, kafka_broker: Any, token_issuer: TestIssuer
) -> AsyncIterator[Served]:
    async with (
        own_database(postgres_server, "needs") as url,
        running_service(
            settings_class=CaseSettings,
            build=build,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
        ) as service,
    ):
        yield Served(service, await _open_cases(service, kafka_broker.bootstrap))


async def _open_cases(service: RunningService, bootstrap: str) -> dict[str, str]:
    """One case per hub, opened the real way: a routed referral arriving from intake."""
    referrals = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for hub in (OWN, OTHER):
            data = example_data("gmirs.intake.referral-received.v1")
            data["referral_id"], data["hub_id"] = str(uuid.uuid4()), hub
            event = Event(
                type="gmirs.intake.referral-received.v1",
                source="/gmirs/test",
                subject=uuid.UUID(data["referral_id"]),
                data=data,
            )
            await producer.send_and_wait(
                INTAKE, key=event.key, value=orjson.dumps(data), headers=to_headers(event)
            )
            referrals[hub] = data["referral_id"]
    finally:
        await producer.stop()
    cases: dict[str, str] = {}

    async def opened() -> bool:
        for hub, referral in referrals.items():
            async with service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
                items = (await http.get("/cases", params={"limit": 200})).json()["items"]
            cases.update((hub, c["id"]) for c in items if c["referral_id"] == referral)
        return len(cases) == len(referrals)

    await eventually(opened, timeout=30, what="a case per hub")
    return cases


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def published(bootstrap: str, ce_type: str, key: str, count: int) -> list[dict[str, Any]]:
    """The `count` events of `ce_type` on case `key`, each valid against its published schema."""
    records = await wait_for_records(
        bootstrap,
        CASES,
        lambda r: r.key == key.encode() and dict(r.headers)["ce_type"] == ce_type.encode(),
        count=count,
    )
    events = [orjson.loads(r.value) for r in records]
    for data in events:
        validate_event(ce_type, data)
    return events


def assert_problem(response: httpx.Response, status: int, detail: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if detail is not None:
        assert detail in response.json()["detail"], response.json()


async def test_contact_attempts_by_every_role_many_times_with_their_events(
    served: Served, kafka_broker: Any
) -> None:
    own, other = served.cases[OWN], served.cases[OTHER]
    path = f"/cases/{own}/contacts"
    outcomes = ["no-answer", "message-left", "successful"]
    async with served.hub() as http:
        for n in range(REPEATS):
            body = {"method": "phone", "outcome": outcomes[n % 3], "occurred_at": ago(hours=n)}
            made = await http.post(path, json=body)
            assert made.status_code == 201, made.text
        first = await http.get(path, params={"limit": 10})
        assert_problem(
            await http.post(path, json={**body, "occurred_at": ago(minutes=-5)}), 422, "future"
        )
        assert_problem(await http.post(path, json={**body, "method": "pigeon"}), 422)
        assert_problem(await http.post(path, json={**body, "outcome": "ok", "x": 1}), 422)
        assert_problem(await http.post(f"/cases/{other}/contacts", json=body), 404)
        assert_problem(await http.get(f"/cases/{other}/contacts"), 404)
    page = first.json()
    assert (page["total"], len(page["items"])) == (REPEATS, 10)
    assert (page["items"][0]["outcome"], page["items"][0]["successful"]) == ("no-answer", False)
    assert await served.rows("contact_attempts", own) == REPEATS
    assert await served.rows("contact_attempts", other) == 0
    async with served.role("lead-provider") as lead:
        assert (await lead.post(f"/cases/{other}/contacts", json=body)).status_code == 201
        assert (await lead.get(path)).json()["total"] == REPEATS
    for role in ("commissioner", "operator"):
        async with served.role(role) as http:
            assert_problem(await http.post(path, json=body), 403)
            assert_problem(await http.get(path), 403)
    events = await published(
        kafka_broker.bootstrap, "gmirs.case.contact-attempted.v1", own, REPEATS
    )
    assert [e["successful"] for e in events[:3]] == [False, False, True]
    assert set(events[0]) >= {"method", "outcome", "occurred_at", "recorded_at", "hub_id"}
    assert "crn" not in events[0]


def _area(area: str, self_score: Any, staff: Any, complexity: str | None = "medium") -> dict:  # type: ignore[type-arg]
    return {"area": area, "complexity": complexity, "self_score": self_score, "staff_score": staff}


HOUSING, MONEY = "shelter-and-accommodation", "finance-and-benefits"


async def test_the_distance_travelled_tool_through_its_rules(
    served: Served, kafka_broker: Any
) -> None:
    own, other = served.cases[OWN], served.cases[OTHER]
    path, distance = f"/cases/{own}/assessments", f"/cases/{own}/distance-travelled"
    baseline = {
        "stage": "baseline",
        "occurred_at": ago(days=20),
        "areas": [_area(HOUSING, 3, 2, "high"), _area(MONEY, 5, 4, "low")],
    }
    async with served.hub() as http:
        assert_problem(await http.post(path, json={**baseline, "stage": "exit"}), 409, "baseline")
        for bad in (11, 0, "5", 5.0, True, 2**63):
            one_bad = {**baseline, "areas": [_area(HOUSING, 3, 2), _area(MONEY, bad, 4)]}
            refused = await http.post(path, json=one_bad)
            assert_problem(refused, 422)
            assert refused.json()["errors"][0]["field"].startswith("body.areas.1.self_score")
        assert_problem(await http.post(path, json={**baseline, "areas": []}), 422)
        twice = {**baseline, "areas": [_area(HOUSING, 3, 2), _area(HOUSING, 4, 2)]}
        assert_problem(await http.post(path, json=twice), 422, "more than once")
        no_complexity = {**baseline, "areas": [_area(HOUSING, 3, 2, None)]}
        assert_problem(await http.post(path, json=no_complexity), 422, "complexity")
        assert await served.rows("outcome_assessments", own) == 0
        assert (await http.get(distance)).json() == {"areas": [], "overall": None}

        made = await http.post(path, json=baseline)
        assert made.status_code == 201, made.text
        second = await http.post(path, json=baseline)
        assert_problem(second, 409, f"a baseline assessment already exists ({made.json()['id']})")
        outside = {
            "stage": "review",
            "occurred_at": ago(days=15),
            "areas": [_area("drugs-and-alcohol", 4, 4)],
        }
        assert_problem(await http.post(path, json=outside), 422, "not scored at baseline")
        for n in range(REPEATS):  # reviews, the last one housing 6/5
            review = {
                "stage": "review",
                "occurred_at": ago(days=15 - n * 0.1),
                "areas": [_area(HOUSING, 1 + n % 6, 5)],
            }
            assert (await http.post(path, json=review)).status_code == 201
        exit_ = {
            "stage": "exit",
            "occurred_at": ago(days=1),
            "areas": [_area(HOUSING, 8, 7, None), _area(MONEY, 4, 6, None)],
        }
        assert (await http.post(path, json=exit_)).status_code == 201
        assert_problem(await http.post(path, json={**exit_, "stage": "review"}), 409, "exit")
        corrected = {
            **baseline,
            "corrects": made.json()["id"],
            "areas": [_area(HOUSING, 2, 2, "high"), _area(MONEY, 5, 4, "low")],
        }
        assert (await http.post(path, json=corrected)).status_code == 201
        travelled = (await http.get(distance)).json()
        assert_problem(await http.post(f"/cases/{other}/assessments", json=baseline), 404)
        assert_problem(await http.get(f"/cases/{other}/distance-travelled"), 404)

    # Hand-worked: housing baseline (corrected) 2/2, exit 8/7: change 6/5. Money 5/4 -> 4/6:
    # -1/2. Overall baseline (2+5)/2 = 3.5, (2+4)/2 = 3; latest (8+4)/2 = 6, (7+6)/2 = 6.5.
    housing, money = travelled["areas"]
    assert (housing["area"], housing["complexity"]) == (HOUSING, "high")
    assert housing["change"] == {"self_score": 6.0, "staff_score": 5.0}
    assert money["change"] == {"self_score": -1.0, "staff_score": 2.0}
    assert travelled["overall"] == {
        "baseline": {"self_score": 3.5, "staff_score": 3.0},
        "latest": {"self_score": 6.0, "staff_score": 6.5},
        "exit": {"self_score": 6.0, "staff_score": 6.5},
        "change": {"self_score": 2.5, "staff_score": 3.5},
    }
    async with served.role("lead-provider") as lead:
        assert (await lead.get(distance)).json() == travelled
    for role in ("commissioner", "operator"):
        async with served.role(role) as http:
            assert_problem(await http.post(path, json=baseline), 403)
            assert_problem(await http.get(distance), 403)
    events = await published(
        kafka_broker.bootstrap, "gmirs.case.outcome-assessment-recorded.v1", own, REPEATS + 3
    )
    assert [e["stage"] for e in events[:2]] == ["baseline", "review"]
    assert events[-1]["corrects"] == made.json()["id"]
    assert events[0]["areas"][0] == _area(HOUSING, 3, 2, "high")


async def test_consent_given_withdrawn_and_listed_by_every_role(
    served: Served, kafka_broker: Any
) -> None:
    own, other = served.cases[OWN], served.cases[OTHER]
    path = f"/cases/{own}/consents"
    body = {
        "partner": "Oldham Housing Advice",
        "scopes": ["needs", "contact-details"],
        "given_at": ago(days=3),
        "recorded_by": "Jo Worker",
    }
    async with served.hub() as http:
        ids = []
        for n in range(REPEATS):
            made = await http.post(path, json={**body, "partner": f"Partner {n}"})
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        for bad in (
            {**body, "scopes": []},
            {**body, "scopes": ["everything"]},
            {**body, "partner": "a\nb"},
            {**body, "partner": ""},
            {**body, "given_at": ago(days=-1)},
        ):
            assert_problem(await http.post(path, json=bad), 422)
        assert_problem(await http.post(path, json={**body, "partner": "   "}), 422, "partner")
        withdrawal = f"{path}/{ids[0]}/withdrawal"
        assert_problem(
            await http.post(withdrawal, json={"withdrawn_at": ago(days=4)}), 422, "before"
        )
        done = await http.post(withdrawal, json={"withdrawn_at": ago(hours=1)})
        assert done.status_code == 200, done.text
        again = await http.post(withdrawal, json={"withdrawn_at": ago(minutes=1)})
        assert_problem(again, 409, "already withdrawn")
        unknown = f"{path}/{uuid.uuid4()}/withdrawal"
        assert_problem(await http.post(unknown, json={"withdrawn_at": ago(hours=1)}), 404)
        listed = (await http.get(path)).json()["items"]
        assert_problem(await http.post(f"/cases/{other}/consents", json=body), 404)
        assert_problem(await http.get(f"/cases/{other}/consents"), 404)
        stranger = f"/cases/{other}/consents/{ids[1]}/withdrawal"
        assert_problem(await http.post(stranger, json={"withdrawn_at": ago(hours=1)}), 404)
    assert len(listed) == REPEATS
    assert {tuple(c["scopes"]) for c in listed} == {("contact-details", "needs")}
    assert sum(c["withdrawn_at"] is not None for c in listed) == 1
    async with served.role("lead-provider") as lead:
        assert (await lead.post(f"/cases/{other}/consents", json=body)).status_code == 201
        assert len((await lead.get(path)).json()["items"]) == REPEATS
    for role in ("commissioner", "operator"):
        async with served.role(role) as http:
            assert_problem(await http.post(path, json=body), 403)
            assert_problem(await http.get(path), 403)
            assert_problem(await http.post(withdrawal, json={"withdrawn_at": ago(hours=1)}), 403)
    given = await published(kafka_broker.bootstrap, "gmirs.case.consent-given.v1", own, REPEATS)
    assert "recorded_by" not in given[0]
    (withdrawn,) = await published(
        kafka_broker.bootstrap, "gmirs.case.consent-withdrawn.v1", own, 1
    )
    assert (withdrawn["consent_id"], withdrawn["partner"]) == (ids[0], "Partner 0")


async def test_an_onward_referral_is_refused_with_the_consent_reason_until_consent_covers_it(
    served: Served,
) -> None:
    own, other = served.cases[OTHER], served.cases[OWN]  # a case of its own: no consents yet
    path = f"/cases/{own}/onward-referrals"
    body = {"agency": "Rochdale Money Advice", "need": MONEY, "referred_at": ago(hours=1)}
    consent = {
        "partner": "rochdale money advice",
        "scopes": ["all"],
        "given_at": ago(days=1),
        "recorded_by": "Jo Worker",
    }
    async with served.hub(OTHER) as http:
        refused = await http.post(path, json=body)
        assert_problem(refused, 409, "no consent to share with this partner has been recorded")
        assert refused.json()["type"].endswith("/consent-required")
        given = await http.post(f"/cases/{own}/consents", json=consent)
        for _ in range(REPEATS):
            made = await http.post(path, json=body)
            assert made.status_code == 201, made.text
        assert made.json()["consent_id"] == given.json()["id"]
        withdrawal = f"/cases/{own}/consents/{given.json()['id']}/withdrawal"
        assert (
            await http.post(withdrawal, json={"withdrawn_at": ago(minutes=30)})
        ).status_code == 200
        after = await http.post(path, json={**body, "referred_at": ago(minutes=10)})
        assert_problem(after, 409, "has been withdrawn")
        earlier = await http.post(path, json={**body, "referred_at": ago(hours=2)})
        assert earlier.status_code == 201  # recorded late, but it was made while consent stood
        assert_problem(await http.post(path, json={**body, "need": "luck"}), 422)
        assert_problem(await http.post(f"/cases/{other}/onward-referrals", json=body), 404)
        assert len((await http.get(path)).json()["items"]) == REPEATS + 1
    assert await served.rows("onward_referrals", own) == REPEATS + 1
    async with served.role("lead-provider") as lead:
        assert len((await lead.get(path)).json()["items"]) == REPEATS + 1
    for role in ("commissioner", "operator"):
        async with served.role(role) as http:
            assert_problem(await http.post(path, json=body), 403)
            assert_problem(await http.get(path), 403)


async def test_hostile_input_on_the_new_writes_is_refused_and_every_access_is_audited(
    served: Served,
) -> None:
    own = served.cases[OWN]
    consents, assessments = f"/cases/{own}/consents", f"/cases/{own}/assessments"
    async with served.hub() as http:
        before = await served.rows("consents", own)
        await assert_body_limit(http, "POST", consents)
        await assert_nul_refused(
            http, "POST", consents, "body.partner", json={"partner": "Oldham\x00Advice"}
        )
        await assert_duplicate_key_refused(
            http, "POST", assessments, '{"stage": "baseline", "stage": "exit"}', "body.stage"
        )
        trojan = {"partner": "Advice\u202e", "scopes": ["all"], "given_at": ago(hours=1)}
        assert_problem(await http.post(consents, json={**trojan, "recorded_by": "w"}), 422)
    assert await served.rows("consents", own) == before
    async with served.service.infra.engine.connect() as conn:
        sql = "SELECT DISTINCT action FROM audit_log WHERE resource_id = :c AND actor = :a"
        audited = set((await conn.scalars(text(sql), {"c": own, "a": f"hub-{OWN}"})).all())
    assert audited >= {
        "case.contact-recorded",
        "case.contacts-viewed",
        "case.assessment-recorded",
        "case.distance-travelled-viewed",
        "case.consent-recorded",
        "case.consent-withdrawn",
        "case.consents-viewed",
    }


async def test_mitigations_by_every_role_many_times_with_their_events(
    served: Served, kafka_broker: Any
) -> None:
    own, other = served.cases[OWN], served.cases[OTHER]
    path = f"/cases/{own}/mitigations"
    reasons = ["pop-in-custody", "pop-unwell", "awaiting-probation-practitioner"]
    async with served.hub() as http:
        for n in range(REPEATS):
            body = {"measure": "DS2", "reason": reasons[n % 3], "occurred_at": ago(hours=n)}
            made = await http.post(path, json=body | ({"note": "Recalled"} if n == 0 else {}))
            assert made.status_code == 201, made.text
            assert made.json()["recorded_by"] == f"hub-{OWN}"
        listed = (await http.get(path)).json()["items"]
        assert len(listed) == REPEATS
        assert [m["note"] for m in listed].count("Recalled") == 1
        assert_problem(await http.get(f"/cases/{other}/mitigations"), 404)
        assert_problem(await http.post(f"/cases/{other}/mitigations", json=body), 404)
        for bad in (
            body | {"measure": "DS9"},
            body | {"reason": "bored"},
            body | {"occurred_at": ago(hours=-2)},
            body | {"note": "a\u0000b"},
            body | {"note": "x" * 2_001},
            body | {"extra": 1},
        ):
            assert_problem(await http.post(path, json=bad), 422)
    async with served.role("lead-provider") as http:
        assert (await http.post(f"/cases/{other}/mitigations", json=body)).status_code == 201
        assert len((await http.get(path)).json()["items"]) == REPEATS
    for role in ("commissioner", "operator"):
        async with served.role(role) as http:
            assert_problem(await http.get(path), 403)
            assert_problem(await http.post(path, json=body), 403)
    assert await served.rows("kpi_mitigations", own) == REPEATS
    events = await published(
        kafka_broker.bootstrap, "gmirs.case.mitigation-recorded.v1", own, REPEATS
    )
    assert {e["reason"] for e in events} == set(reasons)
    assert all("note" not in e for e in events)  # the worker's words stay in case


async def test_an_onward_referrals_outcome_is_recorded_once_with_events(
    served: Served, kafka_broker: Any
) -> None:
    own, other = served.cases[OWN], served.cases[OTHER]
    consent = {
        "partner": "Oldham Housing Options",
        "scopes": ["contact-details", "needs"],
        "given_at": ago(days=2),
        "recorded_by": "Jo Worker",
    }
    body = {"agency": "Oldham  Housing Options", "need": MONEY, "referred_at": ago(hours=3)}
    async with served.hub() as http:
        assert (await http.post(f"/cases/{own}/consents", json=consent)).status_code == 201
        made = (await http.post(f"/cases/{own}/onward-referrals", json=body)).json()
        assert (made["outcome"], made["outcome_recorded_at"]) == ("pending", None)
        path = f"/cases/{own}/onward-referrals/{made['id']}/outcome"
        for _ in range(REPEATS):  # the same answer again: a retry, nothing new
            answered = await http.put(path, json={"outcome": "accepted"})
            assert answered.status_code == 200, answered.text
        first_answer_at = answered.json()["outcome_recorded_at"]
        assert first_answer_at is not None
        corrected = (await http.put(path, json={"outcome": "declined"})).json()
        assert corrected["outcome"] == "declined"
        assert_problem(await http.put(path, json={"outcome": "pending"}), 422)
        assert_problem(await http.put(path, json={"outcome": "accepted", "x": 1}), 422)
        missing = f"/cases/{own}/onward-referrals/{uuid.uuid4()}/outcome"
        assert_problem(await http.put(missing, json={"outcome": "accepted"}), 404)
        elsewhere = f"/cases/{other}/onward-referrals/{made['id']}/outcome"
        assert_problem(await http.put(elsewhere, json={"outcome": "accepted"}), 404)
        listed = (await http.get(f"/cases/{own}/onward-referrals")).json()["items"]
        assert [r["outcome"] for r in listed if r["id"] == made["id"]] == ["declined"]
    async with served.hub(OTHER) as http:
        assert_problem(await http.put(path, json={"outcome": "accepted"}), 404)
    for role in ("commissioner", "operator"):
        async with served.role(role) as http:
            assert_problem(await http.put(path, json={"outcome": "accepted"}), 403)
    [referred] = [
        e
        for e in await published(
            kafka_broker.bootstrap, "gmirs.case.onward-referral-made.v1", own, 1
        )
        if e["onward_referral_id"] == made["id"]
    ]
    assert (referred["agency"], referred["need"]) == ("Oldham Housing Options", MONEY)
    answers = await published(
        kafka_broker.bootstrap, "gmirs.case.onward-referral-outcome-recorded.v1", own, 2
    )
    assert [a["outcome"] for a in answers] == ["accepted", "declined"]

"""Action plan versions through the real routes: real PostgreSQL, the real broker and issuer, one
case service for the module and a case per test. Versions numbered by the server and kept,
every role, another hub's case, hostile and invalid input leaving nothing behind, the outline
(never the text) in the events, and the database refusing to rewrite an agreed version."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from services.case.tests.people_harness import case_of, hub_client, publish, routed_referral
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.domain.lifecycle import CaseState, Lifecycle
from gmirs_case.settings import CaseSettings
from gmirs_contracts.validation import validate_event
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.testing.hostile import (
    assert_body_limit,
    assert_duplicate_key_refused,
    assert_nul_refused,
)
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import wait_for_records
from gmirs_runtime.testing.services import RunningService, own_database, running_service

CASES = "case.case-events.v1"
OWN, OTHER = "bolton", "bury"
REPEATS = 25
HOUSING, MONEY, HEALTH = "shelter-and-accommodation", "finance-and-benefits", "physical-health"
SECRET_GOAL = "Move out of the hostel on Acacia Road"  # free text that must stay in case


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def plan(**changes: Any) -> dict[str, Any]:
    body = {
        "occurred_at": ago(days=2),
        "agreed_by": "caseworker.bolton",
        "number_of_sessions": 6,
        "goals": [
            {"area": MONEY, "description": "Claim the benefits due", "target": "Claim made"},
            {"area": HOUSING, "description": SECRET_GOAL},
        ],
        "activities": [
            {"description": "Book a benefits check\nwith the advice service", "area": MONEY},
            {"description": "Visit the housing options team", "area": HOUSING},
            {"description": "Weekly check-in"},
        ],
    }
    return body | changes


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(
    postgres_server: EmbeddedPostgres, kafka_broker: Any, token_issuer: TestIssuer
) -> AsyncIterator[RunningService]:
    async with (
        own_database(postgres_server, "plans") as url,
        running_service(
            settings_class=CaseSettings,
            build=build,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
        ) as running,
    ):
        yield running


async def _case(service: RunningService, bootstrap: str, hub: str, state: CaseState) -> str:
    """A case opened the real way, then put in `state` (the lifecycle's own tests walk there)."""
    referral = routed_referral(hub)
    await publish(bootstrap, referral)
    case_id = await case_of(service, referral)
    sent = datetime.now(UTC) - timedelta(days=20)
    async with service.infra.unit_of_work() as uow:
        await uow.lifecycles.save(
            uuid.UUID(case_id), Lifecycle(state, sent, {CaseState.RECEIVED: sent, state: sent})
        )
        await uow.commit()
    return case_id


def role(service: RunningService, name: str) -> httpx.AsyncClient:
    return service.as_client(f"probe-{name}", [name])


async def _count(service: RunningService, sql: str, case_id: str) -> int:
    async with service.infra.engine.connect() as conn:
        return int(await conn.scalar(text(sql), {"c": uuid.UUID(case_id)}) or 0)


PLAN_EVENTS = "SELECT count(*) FROM outbox WHERE aggregateid = :c AND type LIKE '%action-plan%'"


async def _plan_rows(service: RunningService, case_id: str) -> int:
    return await _count(service, "SELECT count(*) FROM action_plans WHERE case_id = :c", case_id)


async def _events(bootstrap: str, case_id: str, ce_type: str, count: int) -> list[dict[str, Any]]:
    records = await wait_for_records(
        bootstrap,
        CASES,
        lambda r: r.key == case_id.encode() and dict(r.headers)["ce_type"] == ce_type.encode(),
        count=count,
    )
    for record in records:
        assert SECRET_GOAL.encode() not in record.value  # the outline, never the text
        assert b"caseworker" not in record.value
    events = [orjson.loads(r.value) for r in records]
    for data in events:
        validate_event(ce_type, data)
    return events


def assert_problem(response: httpx.Response, status: int, detail: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if detail is not None:
        assert detail in response.json()["detail"], response.json()


async def test_versions_are_numbered_by_the_server_kept_and_read_back(
    service: RunningService, kafka_broker: Any
) -> None:
    case_id = await _case(service, kafka_broker.bootstrap, OWN, CaseState.NEEDS_ASSESSED)
    base = f"/cases/{case_id}/action-plans"
    async with hub_client(service, OWN) as http:
        first = await http.post(base, json=plan())
        for n in range(2, REPEATS + 1):  # revised again and again on one connection
            revised = plan(occurred_at=ago(days=2, minutes=-n), number_of_sessions=6 + n)
            made = await http.post(base, json=revised)
            assert made.status_code == 201, made.text
            assert made.headers["location"] == f"{base}/{n}"
            assert (made.json()["version"], made.json()["revises"]) == (n, n - 1)
        listed = (await http.get(base)).json()["items"]
        one = await http.get(f"{base}/1")
        last = await http.get(f"{base}/{REPEATS}")
        assert_problem(await http.get(f"{base}/{REPEATS + 1}"), 404, "no action plan version")
        assert_problem(await http.get(f"{base}/{2**63}"), 422)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{base}/1"
    created = first.json()
    assert (created["version"], created["revises"], created["activity_count"]) == (1, None, 3)
    assert created["lifecycle"]["state"] == "action-plan-agreed"
    assert created["outcome_areas"] == [HOUSING, MONEY]  # the specification's order
    assert [v["version"] for v in listed] == list(range(1, REPEATS + 1))
    assert {"goals", "activities", "agreed_by"}.isdisjoint(listed[0])
    assert listed[-1]["number_of_sessions"] == 6 + REPEATS
    assert one.json() == {k: v for k, v in created.items() if k != "lifecycle"}  # kept as agreed
    assert one.json()["goals"][0] == {
        "area": MONEY,
        "description": "Claim the benefits due",
        "target": "Claim made",
    }
    assert one.json()["activities"][0]["description"].endswith("\nwith the advice service")
    assert last.json()["agreed_by"] == "caseworker.bolton"
    assert await _plan_rows(service, case_id) == REPEATS
    agreed = await _events(
        kafka_broker.bootstrap, case_id, "gmirs.case.action-plan-agreed.v1", REPEATS
    )
    assert [e["version"] for e in agreed] == list(range(1, REPEATS + 1))
    assert agreed[0]["action_plan_id"] == created["id"]
    assert (agreed[0]["outcome_areas"], agreed[0]["activity_count"]) == ([HOUSING, MONEY], 3)


async def test_only_the_latest_version_is_shared_then_approved_with_its_outline(
    service: RunningService, kafka_broker: Any
) -> None:
    case_id = await _case(service, kafka_broker.bootstrap, OWN, CaseState.NEEDS_ASSESSED)
    base = f"/cases/{case_id}/action-plans"
    async with hub_client(service, OWN) as http:
        assert_problem(await http.post(f"{base}/1/sharing", json={"occurred_at": ago()}), 404)
        await http.post(base, json=plan(occurred_at=ago(days=3)))
        v2 = (await http.post(base, json=plan(occurred_at=ago(days=2)))).json()
        assert_problem(
            await http.post(f"{base}/1/sharing", json={"occurred_at": ago()}), 409, "superseded"
        )
        early = await http.post(f"{base}/2/approval", json={"occurred_at": ago(days=1)})
        assert_problem(early, 409, "not been shared")
        too_soon = await http.post(f"{base}/2/sharing", json={"occurred_at": ago(days=2.5)})
        assert_problem(too_soon, 422, "before it was agreed")
        shared = await http.post(f"{base}/2/sharing", json={"occurred_at": ago(days=1)})
        assert shared.status_code == 200, shared.text
        again = await http.post(f"{base}/2/sharing", json={"occurred_at": ago(hours=1)})
        assert_problem(again, 409, "already shared")
        approved = await http.post(f"{base}/2/approval", json={"occurred_at": ago(hours=2)})
        assert approved.status_code == 200, approved.text
        listed = (await http.get(base)).json()["items"]
    assert shared.json()["lifecycle"]["state"] == "action-plan-shared"
    assert approved.json()["lifecycle"]["state"] == "action-plan-approved"
    assert [(v["shared_at"] is None, v["approved_at"] is None) for v in listed] == [
        (True, True),
        (False, False),
    ]
    times = {k: datetime.fromisoformat(v) for k, v in listed[1].items() if k.endswith("_at")}
    assert times["shared_recorded_at"] >= times["shared_at"] >= times["agreed_at"]
    (shared_event,) = await _events(
        kafka_broker.bootstrap, case_id, "gmirs.case.action-plan-shared.v1", 1
    )
    (approved_event,) = await _events(
        kafka_broker.bootstrap, case_id, "gmirs.case.action-plan-approved.v1", 1
    )
    for event in (shared_event, approved_event):
        assert (event["version"], event["action_plan_id"]) == (2, v2["id"])
        assert (event["number_of_sessions"], event["activity_count"]) == (6, 3)
        assert event["outcome_areas"] == [HOUSING, MONEY]
    assert datetime.fromisoformat(shared_event["agreed_at"]) == times["agreed_at"]


async def test_a_revision_during_sessions_keeps_the_case_in_sessions(
    service: RunningService, kafka_broker: Any
) -> None:
    case_id = await _case(service, kafka_broker.bootstrap, OWN, CaseState.IN_SESSIONS)
    base = f"/cases/{case_id}/action-plans"
    async with hub_client(service, OWN) as http:
        made = await http.post(base, json=plan())
        shared = await http.post(f"{base}/1/sharing", json={"occurred_at": ago(hours=1)})
        earlier = await http.post(base, json=plan(occurred_at=ago(days=3)))
    assert made.json()["lifecycle"]["state"] == "in-sessions"
    assert shared.json()["lifecycle"]["state"] == "in-sessions"
    assert_problem(earlier, 409, "agreed later")


async def test_every_role_and_another_hubs_case(service: RunningService, kafka_broker: Any) -> None:
    own = await _case(service, kafka_broker.bootstrap, OWN, CaseState.NEEDS_ASSESSED)
    other = await _case(service, kafka_broker.bootstrap, OTHER, CaseState.NEEDS_ASSESSED)
    happened = {"occurred_at": ago(hours=1)}
    async with hub_client(service, OWN) as http:
        assert (await http.post(f"/cases/{own}/action-plans", json=plan())).status_code == 201
        for method, path, body in _operations(other, happened):
            assert_problem(await http.request(method, path, json=body), 404)
    async with hub_client(service, OTHER) as http:
        for method, path, body in _operations(own, happened):
            assert_problem(await http.request(method, path, json=body), 404)
        assert (await http.post(f"/cases/{other}/action-plans", json=plan())).status_code == 201
    assert (await _plan_rows(service, own), await _plan_rows(service, other)) == (1, 1)
    async with role(service, "lead-provider") as lead:
        for method, path, body in _operations(own, happened):
            answer = await lead.request(method, path, json=body)
            assert answer.status_code in (200, 201), f"{method} {path}: {answer.text}"
    for name in ("commissioner", "operator", "probation-system"):
        async with role(service, name) as http:
            for method, path, body in _operations(own, happened):
                assert_problem(await http.request(method, path, json=body), 403)
    async with service.infra.engine.connect() as conn:
        sql = "SELECT DISTINCT action FROM audit_log WHERE resource_id = :c AND actor = :a"
        audited = set((await conn.scalars(text(sql), {"c": own, "a": "probe-lead-provider"})).all())
    assert audited == {
        "case.action-plan-agreed",
        "case.action-plans-viewed",
        "case.action-plan-viewed",
        "case.action-plan-shared",
        "case.action-plan-approved",
    }


def _operations(case_id: str, happened: dict[str, str]) -> list[tuple[str, str, Any]]:
    """Every action plan route on `case_id`, in an order that succeeds for an allowed caller."""
    base = f"/cases/{case_id}/action-plans"
    return [
        ("POST", base, plan()),
        ("GET", base, None),
        ("GET", f"{base}/2", None),
        ("POST", f"{base}/2/sharing", happened),
        ("POST", f"{base}/2/approval", happened),
    ]


BAD_PLANS: list[tuple[dict[str, Any], str]] = [
    (plan(goals=[]), "body.goals"),
    (plan(goals=[{"area": HEALTH, "description": f"Goal {n}"} for n in range(37)]), "body.goals"),
    (plan(activities=[]), "body.activities"),
    (plan(activities=[{"description": "x"}] * 51), "body.activities"),
    (plan(goals=[{"area": "luck", "description": "Win"}]), "body.goals.0.area"),
    (plan(goals=[{"area": HEALTH, "description": "a\nb"}]), "body.goals.0.description"),
    (plan(goals=[{"area": HEALTH, "description": "x" * 301}]), "body.goals.0.description"),
    (plan(goals=[{"area": HEALTH, "description": "ok", "target": ""}]), "body.goals.0.target"),
    (plan(activities=[{"description": "Call\u202e"}]), "body.activities.0.description"),
    (plan(activities=[{"description": "y" * 1001}]), "body.activities.0.description"),
    (plan(number_of_sessions=0), "body.number_of_sessions"),
    (plan(number_of_sessions=101), "body.number_of_sessions"),
    (plan(number_of_sessions="6"), "body.number_of_sessions"),
    (plan(number_of_sessions=2**63), "body.number_of_sessions"),
    (plan(number_of_sessions=True), "body.number_of_sessions"),
    (plan(agreed_by="Jo Worker"), "body.agreed_by"),
    (plan(occurred_at=0), "body.occurred_at"),
    (plan(version=1), "body.version"),  # the server numbers versions
]
DOMAIN_REFUSALS: list[tuple[dict[str, Any], str]] = [
    (plan(occurred_at=ago(days=-1)), "in the future"),
    (plan(goals=[{"area": HEALTH, "description": "   "}]), "cannot be blank"),
    (plan(activities=[{"description": "Budget", "area": "drugs-and-alcohol"}]), "no goal"),
    (
        plan(
            goals=[{"area": HEALTH, "description": "See a GP"}] * 2,
            activities=[{"description": "Go"}],
        ),
        "twice",
    ),
]


async def test_bad_input_is_a_problem_and_leaves_nothing_half_written(
    service: RunningService, kafka_broker: Any
) -> None:
    case_id = await _case(service, kafka_broker.bootstrap, OWN, CaseState.NEEDS_ASSESSED)
    base = f"/cases/{case_id}/action-plans"
    async with hub_client(service, OWN) as http:
        for body, field in BAD_PLANS:
            refused = await http.post(base, json=body)
            assert_problem(refused, 422)
            assert field in {e["field"] for e in refused.json()["errors"]}, (field, refused.text)
        for body, detail in DOMAIN_REFUSALS:
            assert_problem(await http.post(base, json=body), 422, detail)
        await assert_body_limit(http, "POST", base)
        nul = plan(goals=[{"area": HEALTH, "description": "G\x00P"}])
        await assert_nul_refused(http, "POST", base, "body.goals.0.description", json=nul)
        await assert_duplicate_key_refused(
            http,
            "POST",
            base,
            '{"number_of_sessions": 1, "number_of_sessions": 2}',
            "body.number_of_sessions",
        )
        case = (await http.get(f"/cases/{case_id}")).json()
    assert case["lifecycle"]["state"] == "needs-assessed"
    assert await _plan_rows(service, case_id) == 0
    allocated = await _case(service, kafka_broker.bootstrap, OWN, CaseState.ALLOCATED)
    async with hub_client(service, OWN) as http:
        refused = await http.post(f"/cases/{allocated}/action-plans", json=plan())
    assert_problem(refused, 409, "'allocated'")
    assert (refused.json()["state"], refused.json()["command"]) == (
        "allocated",
        "agree-action-plan",
    )
    assert await _plan_rows(service, allocated) == 0
    for case in (case_id, allocated):
        assert await _count(service, PLAN_EVENTS, case) == 0


REWRITES = (
    "goals = '[]'::jsonb",
    "number_of_sessions = 2",
    "agreed_by = 'someone.else'",
    "version = 7",
    "agreed_at = agreed_at - interval '1 day'",
    "shared_at = shared_at - interval '1 day'",
)


async def test_the_database_refuses_to_rewrite_an_agreed_version(
    service: RunningService, kafka_broker: Any
) -> None:
    case_id = await _case(service, kafka_broker.bootstrap, OWN, CaseState.NEEDS_ASSESSED)
    base = f"/cases/{case_id}/action-plans"
    async with hub_client(service, OWN) as http:
        await http.post(base, json=plan())
        assert (await http.post(f"{base}/1/sharing", json={"occurred_at": ago()})).is_success
        before = (await http.get(f"{base}/1")).json()
    for change in REWRITES:
        with pytest.raises(DBAPIError, match="never changed"):
            async with service.infra.engine.begin() as conn:
                await conn.execute(
                    text(f"UPDATE action_plans SET {change} WHERE case_id = :c"),
                    {"c": uuid.UUID(case_id)},
                )
    async with hub_client(service, OWN) as http:
        assert (await http.get(f"{base}/1")).json() == before

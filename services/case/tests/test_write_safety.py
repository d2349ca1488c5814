"""Write safety on every write of the case API, walked from the exported OpenAPI document.

Every POST takes an `Idempotency-Key` (the same key and body replay the first answer, nothing
written twice; the same key with another body is a 409), and every write on a case takes an
optional `If-Match` (a stale one is a 412 and nothing changes) and answers the case's new ETag.
The operations come from contracts/openapi/case.json, and each needs a valid example below: an
operation without one fails the test, so a new route cannot escape. One real service (real
PostgreSQL, real broker, real tokens) is shared by the module; its cases open the real way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.examples import example_data
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService, own_database, running_service
from gmirs_stack.openapi import target

HUB = "bolton"
INTAKE = "intake.referral-events.v1"
WRITES = ("post", "put", "patch", "delete")
REPEATS = 8
CASES_NEEDED = 64
NOT_CASE_ROUTES = {
    ("POST", "/exit-survey/{token}"): "a browser form with a single-use link (no headers of ours)",
}
"""Writes outside `case_router`, and why (the /operator/ routes are the runtime's, everywhere)."""

Params = dict[str, str]
Prepare = Callable[[httpx.AsyncClient, str], Awaitable[Params]]


def moment(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


async def ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answered = await response
    assert answered.is_success, answered.text
    return answered.json() if answered.content else {}


def slot(kind: str, hours_ago: float) -> dict[str, str]:
    return {
        "kind": kind,
        "starts_at": moment(hours_ago * 60),
        "ends_at": moment(hours_ago * 60 - 30),
        "delivery_type": "phone-call",
    }


async def allocated(http: httpx.AsyncClient, case: str) -> Params:
    return {}


async def contacted(http: httpx.AsyncClient, case: str) -> Params:
    await ok(http.post(f"/cases/{case}/first-contact", json={"occurred_at": moment(600)}))
    return {}


async def assessment_attended(http: httpx.AsyncClient, case: str) -> Params:
    await contacted(http, case)
    return await attended(http, case, "initial-assessment", 9)


async def attended(http: httpx.AsyncClient, case: str, kind: str, hours_ago: float) -> Params:
    booked = await ok(http.post(f"/cases/{case}/appointments", json=slot(kind, hours_ago)))
    attendance = {"attended": "yes", "session_happened": True}
    await ok(http.put(f"/cases/{case}/appointments/{booked['id']}/attendance", json=attendance))
    return {}


async def needs_assessed(http: httpx.AsyncClient, case: str) -> Params:
    await assessment_attended(http, case)
    await ok(http.post(f"/cases/{case}/needs-assessment", json={"occurred_at": moment(400)}))
    return {}


async def plan_agreed(http: httpx.AsyncClient, case: str) -> Params:
    await needs_assessed(http, case)
    plan = {"occurred_at": moment(300), "version": 1, "number_of_sessions": 4}
    await ok(http.post(f"/cases/{case}/action-plans", json=plan))
    return {"version": "1"}


async def plan_shared(http: httpx.AsyncClient, case: str) -> Params:
    params = await plan_agreed(http, case)
    await ok(http.post(f"/cases/{case}/action-plans/1/sharing", json={"occurred_at": moment(200)}))
    return params


async def in_sessions(http: httpx.AsyncClient, case: str) -> Params:
    await plan_shared(http, case)
    return await attended(http, case, "session", 3)


async def sessions_completed(http: httpx.AsyncClient, case: str) -> Params:
    await in_sessions(http, case)
    await ok(http.post(f"/cases/{case}/sessions-completion", json={"occurred_at": moment(60)}))
    return {}


async def session_booked(http: httpx.AsyncClient, case: str) -> Params:
    booked = await ok(http.post(f"/cases/{case}/appointments", json=slot("session", 2)))
    return {"appointment_id": booked["id"]}


CONSENT = {"scopes": ["all"], "given_at": moment(60 * 24), "recorded_by": "Jo Worker"}


async def consent_given(http: httpx.AsyncClient, case: str) -> Params:
    given = await ok(
        http.post(f"/cases/{case}/consents", json={**CONSENT, "partner": "Bolton Money Advice"})
    )
    return {"consent_id": given["id"]}


async def task_set(http: httpx.AsyncClient, case: str) -> Params:
    due = str(date.today() + timedelta(days=3))
    made = await ok(http.post(f"/cases/{case}/tasks", json={"kind": "review", "due_on": due}))
    return {"task_id": made["id"]}


Body = Callable[[int], dict[str, Any] | None]


def happened(n: int) -> dict[str, Any]:
    return {"occurred_at": moment(30 + n)}


def no_body(n: int) -> None:
    return None


def area(n: int) -> dict[str, Any]:
    scores = {"self_score": 3 + n, "staff_score": 2, "complexity": "high"}
    return {"area": "finance-and-benefits", **scores}


@dataclass(frozen=True)
class Example:
    """A write that succeeds on a fresh case once `prepare` has run: its n-th body (0 and 1
    differ; None: the operation takes none), who calls it, and where its ETag is read."""

    body: Body
    prepare: Prepare = allocated
    role: str = "hub"
    etag_at: str = "/cases/{case_id}"
    answer_is_secret: bool = False  # no-store: the answer is not kept, so not replayed
    params: Params = field(default_factory=dict)


EXAMPLES: dict[str, Example] = {
    "create_appointment": Example(lambda n: slot("session", 5 + n)),
    "put_attendance": Example(
        lambda n: {"attended": ["yes", "no"][n % 2], "session_happened": n % 2 == 0},
        session_booked,
    ),
    "first-contact": Example(happened),
    "needs-assessment": Example(happened, assessment_attended),
    "agree_action_plan": Example(
        lambda n: {**happened(n), "version": 2 + n, "number_of_sessions": 4}, needs_assessed
    ),
    "share_action_plan": Example(happened, plan_agreed),
    "record_action_plan_approval": Example(happened, plan_shared),
    "sessions-completion": Example(happened, in_sessions),
    "exit-survey-offer": Example(happened, sessions_completed),
    "close_case": Example(lambda n: {**happened(n), "reason": ["disengaged", "declined"][n % 2]}),
    "reallocate_case": Example(lambda n: {"hub_id": ["bury", "wigan"][n % 2]}, role="lead"),
    "create_contact": Example(
        lambda n: {"method": "phone", "outcome": "no-answer", "occurred_at": moment(30 + n)}
    ),
    "create_assessment": Example(
        lambda n: {"stage": "baseline", "occurred_at": moment(30), "areas": [area(n)]}
    ),
    "create_consent": Example(lambda n: {**CONSENT, "partner": f"Partner {n}"}),
    "withdraw_consent": Example(lambda n: {"withdrawn_at": moment(30 + n)}, consent_given),
    "create_onward_referral": Example(
        lambda n: {
            "agency": "Bolton Money Advice",
            "need": "finance-and-benefits",
            "referred_at": moment(30 + n),
        },
        consent_given,
    ),
    "post_note": Example(lambda n: {"text": f"Spoke to the person ({n}).", "sensitive": False}),
    "post_task": Example(
        lambda n: {"kind": "next-contact", "due_on": str(date.today() + timedelta(days=1 + n))}
    ),
    "post_task_done": Example(no_body, task_set),
    "put_worker": Example(lambda n: {"worker": f"caseworker.{n}"}),
    "patch_contact": Example(
        lambda n: {"phone": f"0161 496 000{n}"}, etag_at="/cases/{case_id}/person"
    ),
    "offer_exit_survey_link": Example(no_body, answer_is_secret=True),
    "record_exit_survey_declined": Example(no_body),
}
"""A valid example per operation id: every write of the document needs one."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str

    @property
    def on_a_case(self) -> bool:
        return self.path.startswith("/cases/{case_id}")


def write_operations() -> list[Operation]:
    """Every write of the exported case API but the operator routes and NOT_CASE_ROUTES."""
    document = json.loads(target("case").read_text())
    return [
        Operation(method.upper(), path, operation["operationId"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in WRITES
        and not path.startswith("/operator/")
        and (method.upper(), path) not in NOT_CASE_ROUTES
    ]


class Cases:
    """The module's service and a pool of fresh cases of one hub, each used by one check."""

    def __init__(self, service: RunningService, ids: list[str]) -> None:
        self.service, self._ids = service, ids

    def fresh(self) -> str:
        return self._ids.pop()

    def client(self, role: str) -> httpx.AsyncClient:
        if role == "lead":
            return self.service.as_client("lead", ["lead-provider"])
        return self.service.as_client(f"hub-{HUB}", ["hub"], {"hub_id": HUB})

    async def footprint(self, case_id: str) -> dict[str, Any]:
        """Everything the case's writes leave: each case table's rows (by content), the case
        row, its outbox events and its audit records."""
        found: dict[str, Any] = {}
        async with self.service.infra.engine.connect() as conn:
            tables = await conn.scalars(
                text(
                    "SELECT table_name FROM information_schema.columns"
                    " WHERE column_name = 'case_id' AND table_schema = current_schema()"
                )
            )
            queries = {
                table: f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)), count(*) FROM \"{table}\" t WHERE case_id = :c"
                for table in tables
            }
            queries["cases"] = "SELECT md5(t::text), 1 FROM cases t WHERE id = :c"
            queries["outbox"] = "SELECT count(*), 1 FROM outbox WHERE aggregateid = :c"
            queries["audit_log"] = "SELECT count(*), 1 FROM audit_log WHERE resource_id = :s"
            for name, sql in queries.items():
                params = {"c": uuid.UUID(case_id), "s": case_id}
                found[name] = tuple((await conn.execute(text(sql), params)).one())
        return found


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cases(postgres_server: Any, kafka_broker: Any, token_issuer: Any) -> AsyncIterator[Cases]:
    async with (
        own_database(postgres_server, "writes") as url,
        running_service(
            settings_class=CaseSettings,
            build=build,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
        ) as service,
    ):
        yield Cases(service, await _open_cases(service, kafka_broker.bootstrap))


async def _open_cases(service: RunningService, bootstrap: str) -> list[str]:
    """CASES_NEEDED cases of HUB, opened the real way: routed referrals arriving from intake."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for _ in range(CASES_NEEDED):
            data = example_data("gmirs.intake.referral-received.v1")
            data["referral_id"], data["hub_id"] = str(uuid.uuid4()), HUB
            event = Event(
                type="gmirs.intake.referral-received.v1",
                source="/gmirs/test",
                subject=uuid.UUID(data["referral_id"]),
                data=data,
            )
            await producer.send_and_wait(
                INTAKE, key=event.key, value=orjson.dumps(data), headers=to_headers(event)
            )
    finally:
        await producer.stop()
    opened: list[str] = []

    async def all_opened() -> bool:
        async with service.as_client(f"hub-{HUB}", ["hub"], {"hub_id": HUB}) as http:
            items = (await http.get("/cases", params={"limit": 200})).json()["items"]
        opened[:] = [c["id"] for c in items]
        return len(opened) >= CASES_NEEDED

    await eventually(all_opened, timeout=60, what=f"{CASES_NEEDED} cases")
    return opened


def example_of(operation: Operation) -> Example:
    example = EXAMPLES.get(operation.operation_id)
    assert example is not None, (
        f"{operation.method} {operation.path} ({operation.operation_id}) has no example in"
        " EXAMPLES: add a valid body so its write safety is checked"
    )
    return example


async def _request(
    http: httpx.AsyncClient, operation: Operation, path: str, body: Any, **headers: str
) -> httpx.Response:
    return await http.request(operation.method, path, json=body, headers=headers)


async def _prepared(cases: Cases, operation: Operation) -> tuple[str, str]:
    """A fresh case made ready for the operation (as the hub), and the operation's path on it."""
    case_id = cases.fresh()
    async with cases.client("hub") as hub:
        params = await example_of(operation).prepare(hub, case_id)
    return case_id, operation.path.format(case_id=case_id, **params)


def assert_problem(response: httpx.Response, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{type_}", response.json()


def test_every_write_has_an_example_and_no_example_is_left_over() -> None:
    operations = write_operations()
    missing = [o.operation_id for o in operations if o.operation_id not in EXAMPLES]
    assert not missing, f"no example for {missing}: add one to EXAMPLES"
    assert set(EXAMPLES) == {o.operation_id for o in operations}, "an example names no operation"


async def test_every_post_replays_its_first_answer_for_the_same_key_and_refuses_another_body(
    cases: Cases,
) -> None:
    posts = [o for o in write_operations() if o.method == "POST"]
    assert len(posts) >= 20
    for operation in posts:
        example = example_of(operation)
        async with cases.client(example.role) as http:
            case_id, path = await _prepared(cases, operation)
            key, body, other = f"key-{uuid.uuid4()}", example.body(0), example.body(1)
            before = await cases.footprint(case_id)
            first = await _request(http, operation, path, body, **{"Idempotency-Key": key})
            assert first.is_success, f"{operation.operation_id}: {first.text}"
            written = await cases.footprint(case_id)
            assert written != before, operation.operation_id
            if example.answer_is_secret:
                assert first.headers["cache-control"] == "no-store"
            for _ in range(REPEATS):  # on one connection
                again = await _request(http, operation, path, body, **{"Idempotency-Key": key})
                if example.answer_is_secret:
                    assert_problem(again, 409, "idempotency-answer-withheld")
                    continue
                assert (again.status_code, again.content) == (first.status_code, first.content)
                assert again.headers["idempotent-replayed"] == "true", operation.operation_id
                assert again.headers.get("etag") == first.headers.get("etag")
            other = {"another": "body"} if other is None else other
            reused = await _request(http, operation, path, other, **{"Idempotency-Key": key})
            assert_problem(reused, 409, "idempotency-key-reused")
        assert await cases.footprint(case_id) == written, f"{operation.operation_id} acted twice"


async def test_every_write_on_a_case_answers_its_new_etag_and_refuses_a_stale_if_match(
    cases: Cases,
) -> None:
    on_cases = [o for o in write_operations() if o.on_a_case]
    assert len(on_cases) >= 23
    for operation in on_cases:
        example = example_of(operation)
        async with cases.client(example.role) as http:
            case_id, path = await _prepared(cases, operation)
            etag_at = example.etag_at.format(case_id=case_id)
            read = (await http.get(etag_at)).headers["etag"]
            done = await _request(http, operation, path, example.body(0), **{"If-Match": read})
            assert done.is_success, f"{operation.operation_id}: {done.text}"
            now = (await http.get(etag_at)).headers["etag"]
            assert done.headers["etag"] == now != read, operation.operation_id
            written = await cases.footprint(case_id)
            for n in range(REPEATS):  # the stale tag again and again, on one connection
                stale = await _request(http, operation, path, example.body(n), **{"If-Match": read})
                assert stale.status_code == 412, f"{operation.operation_id}: {stale.text}"
                assert stale.headers["content-type"] == "application/problem+json"
        assert await cases.footprint(case_id) == written, f"{operation.operation_id} changed"

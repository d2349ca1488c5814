"""Write safety on every write of the case API, walked from the exported OpenAPI document.

Every POST takes an `Idempotency-Key` (the same key and body replay the first answer, nothing
written twice; the same key with another body is a 409), and every write on a case takes an
optional `If-Match` (a stale one is a 412 and nothing changes) and answers the case's new ETag.
Writes beside a case (group sessions, evidence requests) are checked for replay and 409; a group
session's, which change the appointments of the cases on its register, move those cases' ETags.
The operations come from contracts/openapi/case.json, and each needs a valid example in
write_examples.py: an operation without one fails the test, so a new route cannot escape. One
real service (real PostgreSQL, real broker, real tokens) is shared by the module; its cases open
the real way, a fresh one for each operation and check.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from services.case.tests.people_harness import hub_client, publish, routed_referral
from services.case.tests.write_examples import (
    EXAMPLES,
    HUB,
    REPEATS,
    Operation,
    Params,
    example_of,
    write_operations,
)
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService, own_database, running_service

SHARED_TABLES = ("group_sessions", "group_session_reschedules", "evidence_requests")
"""Tables of writes beside a case (no case_id, or not always): fingerprinted whole (the module's
checks run one after another, so only the check's own write can change them)."""
OFF_CASE_AGGREGATES = ("evidence-request",)
"""Outbox aggregate and audit resource types of writes that are not a case's."""


class Cases:
    """The module's service and a pool of fresh cases of one hub, each used by one check."""

    def __init__(self, service: RunningService, ids: list[str]) -> None:
        self.service, self._ids = service, ids

    def fresh(self) -> str:
        return self._ids.pop()

    def client(self, role: str) -> httpx.AsyncClient:
        if role == "lead":
            return self.service.as_client("lead", ["lead-provider"])
        if role == "commissioner":
            return self.service.as_client("commissioner-gm", ["commissioner"])
        return hub_client(self.service, HUB)

    async def footprint(self, case_id: str) -> dict[str, Any]:
        """Everything the case's writes leave: each case table's rows (by content), the case
        row, its outbox events and its audit records; and every row of the tables of writes
        beside a case (SHARED_TABLES), their events and audit records (OFF_CASE_AGGREGATES)."""
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
            for table in SHARED_TABLES:
                queries[table] = (
                    f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)), count(*) FROM {table} t"
                )
            queries["cases"] = "SELECT md5(t::text), 1 FROM cases t WHERE id = :c"
            queries["outbox"] = (
                "SELECT count(*), 1 FROM outbox WHERE aggregateid = :s OR aggregatetype = ANY(:a)"
            )
            queries["audit_log"] = (
                "SELECT count(*), 1 FROM audit_log WHERE resource_id = :s OR resource_type = ANY(:a)"
            )
            for name, sql in queries.items():
                params = {"c": uuid.UUID(case_id), "s": case_id, "a": list(OFF_CASE_AGGREGATES)}
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
            # One hub client sends every write here, hundreds a second on a quiet machine: the
            # default per-client limit (50/s) would answer 429 where the test expects 412.
            # The limit itself is tested in test_case_service and test_exit_survey.
            rate_limit_per_second=10_000.0,
            rate_limit_burst=10_000,
        ) as service,
    ):
        yield Cases(service, await _open_cases(service, kafka_broker.bootstrap))


async def _open_cases(service: RunningService, bootstrap: str) -> list[str]:
    """A case of HUB per operation and check, opened the real way: routed referrals from intake."""
    operations = write_operations()
    checks = [o for o in operations if o.method == "POST"] + _moving_a_case(operations)
    needed = sum(1 + example_of(o).other_cases for o in checks)
    await publish(bootstrap, *(routed_referral(HUB) for _ in range(needed)))
    opened: list[str] = []

    async def all_opened() -> bool:
        async with hub_client(service, HUB) as http:
            items = (await http.get("/cases", params={"limit": 200})).json()["items"]
        opened[:] = [c["id"] for c in items]
        return len(opened) >= needed

    await eventually(all_opened, timeout=60, what=f"{needed} cases")
    return opened


async def _request(
    http: httpx.AsyncClient, operation: Operation, path: str, body: Any, **headers: str
) -> httpx.Response:
    return await http.request(operation.method, path, json=body, headers=headers)


def _moving_a_case(operations: list[Operation]) -> list[Operation]:
    """The writes checked for the case ETag they move (each on its own fresh case)."""
    return [o for o in operations if example_of(o).etag_at is not None]


async def _prepared(cases: Cases, operation: Operation) -> tuple[str, str, Params]:
    """A fresh case made ready for the operation, the operation's path on it, and its params."""
    example, case_id = example_of(operation), cases.fresh()
    others = [cases.fresh() for _ in range(example.other_cases)]
    async with cases.client(example.prepared_by) as preparer:
        params = {"case_id": case_id, **await example.prepare(preparer, case_id, *others)}
    return case_id, operation.path.format(**params), params


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
            case_id, path, params = await _prepared(cases, operation)
            key, body, other = (
                f"key-{uuid.uuid4()}",
                example.body(0, params),
                example.body(1, params),
            )
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
    assert len(on_cases) >= 27
    for operation in on_cases:
        example = example_of(operation)
        assert example.etag_at is not None, f"{operation.operation_id} is on a case: say where"
        async with cases.client(example.role) as http:
            case_id, path, params = await _prepared(cases, operation)
            etag_at = example.etag_at.format(**params)
            read = (await http.get(etag_at)).headers["etag"]
            done = await _request(
                http, operation, path, example.body(0, params), **{"If-Match": read}
            )
            assert done.is_success, f"{operation.operation_id}: {done.text}"
            now = (await http.get(etag_at)).headers["etag"]
            assert done.headers["etag"] == now != read, operation.operation_id
            written = await cases.footprint(case_id)
            for n in range(REPEATS):  # the stale tag again and again, on one connection
                stale = await _request(
                    http, operation, path, example.body(n, params), **{"If-Match": read}
                )
                assert stale.status_code == 412, f"{operation.operation_id}: {stale.text}"
                assert stale.headers["content-type"] == "application/problem+json"
        assert await cases.footprint(case_id) == written, f"{operation.operation_id} changed"


async def test_every_write_beside_a_case_that_changes_one_moves_its_etag(cases: Cases) -> None:
    """A group session's writes change the appointments of the cases on its register: each such
    case's ETag moves, so a client holding the old one is refused its next write (412). They take
    no case If-Match themselves (no case in their path) and answer no case ETag."""
    beside = [o for o in _moving_a_case(write_operations()) if not o.on_a_case]
    assert {o.path.split("/")[1] for o in beside} == {"group-sessions"}, beside
    for operation in beside:
        example = example_of(operation)
        assert example.etag_at is not None
        async with cases.client(example.role) as http:
            case_id, path, params = await _prepared(cases, operation)
            etag_at = example.etag_at.format(**params)
            read = (await http.get(etag_at)).headers["etag"]
            done = await _request(http, operation, path, example.body(0, params))
            assert done.is_success, f"{operation.operation_id}: {done.text}"
            assert "etag" not in done.headers, operation.operation_id
            assert (await http.get(etag_at)).headers["etag"] != read, operation.operation_id
            note = {"text": "After the session.", "sensitive": False}
            stale = await http.post(
                f"/cases/{case_id}/notes", json=note, headers={"If-Match": read}
            )
            assert stale.status_code == 412, f"{operation.operation_id}: {stale.text}"

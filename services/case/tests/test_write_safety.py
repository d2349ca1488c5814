"""Write safety on every write of the case API, walked from the exported OpenAPI document.

Every POST takes an `Idempotency-Key` (the same key and body replay the first answer, nothing
written twice; the same key with another body is a 409), and every write on a case takes an
optional `If-Match` (a stale one is a 412 and nothing changes) and answers the case's new ETag.
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
    example_of,
    write_operations,
)
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService, own_database, running_service


class Cases:
    """The module's service and a pool of fresh cases of one hub, each used by one check."""

    def __init__(self, service: RunningService, ids: list[str]) -> None:
        self.service, self._ids = service, ids

    def fresh(self) -> str:
        return self._ids.pop()

    def client(self, role: str) -> httpx.AsyncClient:
        if role == "lead":
            return self.service.as_client("lead", ["lead-provider"])
        return hub_client(self.service, HUB)

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
    """A case of HUB per operation and check, opened the real way: routed referrals from intake."""
    operations = write_operations()
    needed = sum(o.method == "POST" for o in operations) + sum(o.on_a_case for o in operations)
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

"""How many SQL statements the hub API's busiest calls send, beside what they must still do.

Each statement is a round trip to PostgreSQL and a pass through SQLAlchemy in the one-core case
process, so the counts are the figures the caseload bench's ratios follow. They are counted with
SQLAlchemy's `before_cursor_execute` on the service's own engine, keeping only statements that
carry this test's case id (the shared broker may hand the service other tests' referrals).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from services.case.tests.people_harness import (
    case_of,
    hub_client,
    opened_case,
    publish,
    routed_referral,
)
from services.case.tests.write_examples import in_sessions, session_booked
from sqlalchemy import event, text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.entrypoints.schemas import CaseRead
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.services import RunningService

HUB = "bolton"


@contextmanager
def statements_about(service: RunningService, case_id: str) -> Iterator[list[str]]:
    """The statements sent while the block runs whose parameters name `case_id`."""
    forms = (case_id, uuid.UUID(case_id).hex)
    with statements_where(service, lambda _, params: any(f in params for f in forms)) as seen:
        yield seen


@contextmanager
def statements_where(
    service: RunningService, kept: Callable[[str, str], bool]
) -> Iterator[list[str]]:
    """The statements sent while the block runs for which `kept(statement, repr(params))`:
    through SQLAlchemy, and straight through asyncpg (gmirs_runtime.precompiled)."""
    seen: list[str] = []
    engine = service.infra.engine.sync_engine
    drivers: list[Any] = []

    def sent(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if kept(statement, repr(params)):
            seen.append(" ".join(statement.split()[:4]))

    def sent_by_driver(logged: Any) -> None:  # a precompiled read, sent past SQLAlchemy
        sent(None, None, logged.query, logged.args)

    def checked_out(dbapi_connection: Any, *_: Any) -> None:
        drivers.append(dbapi_connection.driver_connection)
        drivers[-1].add_query_logger(sent_by_driver)

    event.listen(engine, "before_cursor_execute", sent)
    event.listen(engine, "checkout", checked_out)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", sent)
        event.remove(engine, "checkout", checked_out)
        for driver in drivers:
            driver.remove_query_logger(sent_by_driver)


async def _version(service: RunningService, case_id: str) -> int:
    async with service.infra.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT version FROM cases WHERE id = :id"), {"id": case_id}
        )
        return int(found.scalar_one())


async def _audited(service: RunningService, action: str, resource_id: str) -> int:
    async with service.infra.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = :a AND resource_id = :id"),
            {"a": action, "id": resource_id},
        )
        return int(found.scalar_one())


async def _views(service: RunningService, case_id: str) -> int:
    return await _audited(service, "case.viewed", case_id)


async def test_a_case_read_and_an_attendance_in_few_statements(start_service, kafka_broker) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        case_id = await opened_case(service, kafka_broker.bootstrap, HUB)
        async with hub_client(service, HUB) as http:
            await in_sessions(http, case_id)
            appointment_id = (await session_booked(http, case_id))["appointment_id"]
            views = await _views(service, case_id)

            with statements_about(service, case_id) as read_statements:
                read = await http.get(f"/cases/{case_id}")
            assert read.status_code == 200, read.text
            # the case with its appointments and their history, its lifecycle and the audit row
            # (a CTE) in one statement; no BEGIN/COMMIT (the audit row commits by itself)
            assert len(read_statements) == 1, read_statements
            assert read_statements[0].startswith("WITH audited AS"), read_statements
            assert read.headers["ETag"] == f'"{await _version(service, case_id)}"'
            assert await _views(service, case_id) == views + 1  # committed, seen from outside
            assert any(a["id"] == appointment_id for a in read.json()["appointments"])
            # written without the model, the body is byte for byte what CaseRead writes
            assert read.headers["content-type"] == "application/json"
            assert CaseRead.model_validate_json(read.content).model_dump_json() == read.text
            assert any(a["attendance"] for a in read.json()["appointments"])

        async with hub_client(service, "wigan") as other_hub:
            refused = await other_hub.get(f"/cases/{case_id}")
        assert refused.status_code == 404, refused.text
        assert await _views(service, case_id) == views + 1  # a refused read is not audited
        async with hub_client(service, HUB) as http:
            attendance = {"attended": "yes", "session_happened": True}
            path = f"/cases/{case_id}/appointments/{appointment_id}/attendance"
            recorded = await _audited(service, "case.attendance-recorded", case_id)
            with statements_about(service, case_id) as write_statements:
                written = await http.put(
                    path, json=attendance, headers={"If-Match": read.headers["ETag"]}
                )
            assert written.status_code == 200, written.text
            # the case read with that appointment, then one statement, made only if the version
            # is still the one read: the attendance, the version (returned as the new ETag), the
            # event's outbox row and the audit row as CTEs; no BEGIN or COMMIT
            assert len(write_statements) == 2, write_statements
            assert write_statements[0].startswith("SELECT c.id"), write_statements
            assert write_statements[1].startswith("WITH bumped AS"), write_statements
            assert await _audited(service, "case.attendance-recorded", case_id) == recorded + 1
            version = await _version(service, case_id)
            assert read.headers["ETag"] == f'"{version - 1}"'  # moved by exactly one
            assert written.headers["ETag"] == f'"{version}"'


async def test_a_search_and_its_audit_row_are_one_statement(start_service, kafka_broker) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        referral = routed_referral(HUB)
        await publish(kafka_broker.bootstrap, referral)
        case_id = await case_of(service, referral)
        crn = referral.data["person"]["crn"]
        searches = await _audited(service, "search", HUB)
        async with hub_client(service, HUB) as http:
            with statements_where(service, lambda sql, _: "audit_log" in sql) as audited:
                found = await http.get("/cases", params={"q": crn})
        assert found.status_code == 200, found.text
        assert case_id in [c["id"] for c in found.json()["items"]]
        assert len(audited) == 1, audited  # the page's own statement writes the audit row
        assert audited[0].startswith("WITH audited AS"), audited
        assert await _audited(service, "search", HUB) == searches + 1

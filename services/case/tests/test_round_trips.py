"""How many SQL statements the hub API's busiest calls send, beside what they must still do.

Each statement is a round trip to PostgreSQL and a pass through SQLAlchemy in the one-core case
process, so the counts are the figures the caseload bench's ratios follow. They are counted with
SQLAlchemy's `before_cursor_execute` on the service's own engine, keeping only statements that
carry this test's case id (the shared broker may hand the service other tests' referrals).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from services.case.tests.people_harness import case_of, hub_client, publish, routed_referral
from services.case.tests.write_examples import in_sessions, session_booked
from sqlalchemy import event, text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.services import RunningService

HUB = "bolton"


@contextmanager
def statements_about(service: RunningService, case_id: str) -> Iterator[list[str]]:
    """The statements sent while the block runs whose parameters name `case_id`."""
    seen: list[str] = []
    engine = service.infra.engine.sync_engine

    def sent(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if case_id in repr(params) or uuid.UUID(case_id).hex in repr(params):
            seen.append(" ".join(statement.split()[:4]))

    event.listen(engine, "before_cursor_execute", sent)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", sent)


async def _version(service: RunningService, case_id: str) -> int:
    async with service.infra.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT version FROM cases WHERE id = :id"), {"id": case_id}
        )
        return int(found.scalar_one())


async def _views(service: RunningService, case_id: str) -> int:
    async with service.infra.engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'case.viewed' AND resource_id = :id"
            ),
            {"id": case_id},
        )
        return int(found.scalar_one())


async def test_a_case_read_and_an_attendance_in_few_statements(start_service, kafka_broker) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        referral = routed_referral(HUB)
        await publish(kafka_broker.bootstrap, referral)
        case_id = await case_of(service, referral)
        async with hub_client(service, HUB) as http:
            await in_sessions(http, case_id)
            appointment_id = (await session_booked(http, case_id))["appointment_id"]
            views = await _views(service, case_id)

            with statements_about(service, case_id) as read_statements:
                read = await http.get(f"/cases/{case_id}")
            assert read.status_code == 200, read.text
            # the case with its appointments and their history, its lifecycle, the audit row;
            # no separate version read and no BEGIN/COMMIT (the audit row commits by itself)
            assert len(read_statements) == 4, read_statements
            assert read.headers["ETag"] == f'"{await _version(service, case_id)}"'
            assert await _views(service, case_id) == views + 1  # committed, seen from outside
            assert any(a["id"] == appointment_id for a in read.json()["appointments"])

            attendance = {"attended": "yes", "session_happened": True}
            path = f"/cases/{case_id}/appointments/{appointment_id}/attendance"
            with statements_about(service, case_id) as write_statements:
                written = await http.put(
                    path, json=attendance, headers={"If-Match": read.headers["ETag"]}
                )
            assert written.status_code == 200, written.text
            # the guard's lock, the case, its appointments, the appointment with the version
            # bump, the lifecycle, the guard's ETag, the outbox row
            assert len(write_statements) == 7, write_statements
            version = await _version(service, case_id)
            assert read.headers["ETag"] == f'"{version - 1}"'  # moved by exactly one
            assert written.headers["ETag"] == f'"{version}"'

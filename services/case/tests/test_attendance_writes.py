"""Recording attendance straight through asyncpg (the case read, then one statement written
only if the case is unchanged, else read again): writes on one case at once still apply one
after another, each exactly once and each decided on the case as the one before left it, and a
refused one leaves nothing behind (no attendance, version, event or audit row).
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.case.tests.people_harness import hub_client, opened_case
from services.case.tests.sessions_harness import assert_problem
from services.case.tests.write_examples import ok, plan_shared, slot
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_runtime.testing.services import RunningService

HUB = "bolton"
ATTENDED = {"attended": "yes", "session_happened": True}
FOOTPRINT = """
SELECT (SELECT version FROM cases WHERE id = :c),
       (SELECT count(*) FROM appointments WHERE case_id = :c AND attended IS NOT NULL),
       (SELECT count(*) FROM outbox WHERE aggregateid = :c),
       (SELECT count(*) FROM audit_log WHERE resource_id = CAST(:c AS text) AND action LIKE '%attendance%'),
       (SELECT state FROM case_lifecycle WHERE case_id = :c)
"""


async def _footprint(service: RunningService, case_id: str) -> tuple[Any, ...]:
    """The case's version, attendances, events, attendance audit rows and state."""
    async with service.infra.engine.connect() as conn:
        found = await conn.execute(text(FOOTPRINT), {"c": case_id})
        return tuple(found.one())


async def _events(service: RunningService, case_id: str, kind: str) -> int:
    async with service.infra.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM outbox WHERE aggregateid = :c AND type = :t"),
            {"c": case_id, "t": f"gmirs.case.{kind}.v1"},
        )
        return int(found.scalar_one())


async def test_attendance_on_one_case_at_once_applies_each_write_once_in_turn(
    start_service, kafka_broker
) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        case_id = await opened_case(service, kafka_broker.bootstrap, HUB)
        async with hub_client(service, HUB) as http:
            await plan_shared(http, case_id)
            booked = [
                await ok(http.post(f"/cases/{case_id}/appointments", json=slot("session", h)))
                for h in range(2, 10)
            ]
            version, attended, events, audited, _ = await _footprint(service, case_id)
            written = await asyncio.gather(
                *(
                    http.put(f"/cases/{case_id}/appointments/{b['id']}/attendance", json=ATTENDED)
                    for b in booked
                )
            )
            assert [w.status_code for w in written] == [200] * len(booked), written[0].text
            # each was written on the version before it: each moved it once, and answered its own
            tags = sorted(int(w.headers["ETag"].strip('"')) for w in written)
            assert tags == list(range(version + 1, version + 1 + len(booked)))
            after = await _footprint(service, case_id)
            assert after[:4] == (
                version + len(booked),
                attended + len(booked),
                events + len(booked) + 1,  # each attendance, and the one move below
                audited + len(booked),
            )
            # only the first attended session after the shared plan commences the intervention
            assert after[4] == "in-sessions"
            assert await _events(service, case_id, "intervention-commenced") == 1
            assert await _events(service, case_id, "attendance-recorded") >= len(booked)


async def test_the_same_attendance_twice_at_once_is_recorded_once(
    start_service, kafka_broker
) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        case_id = await opened_case(service, kafka_broker.bootstrap, HUB)
        async with hub_client(service, HUB) as http:
            booked = await ok(http.post(f"/cases/{case_id}/appointments", json=slot("session", 2)))
            path = f"/cases/{case_id}/appointments/{booked['id']}/attendance"
            before = await _footprint(service, case_id)
            missed = {"attended": "no", "session_happened": False}
            first, second = await asyncio.gather(
                http.put(path, json=missed), http.put(path, json=missed)
            )
            assert sorted([first.status_code, second.status_code]) == [200, 409]
            refused = first if first.status_code == 409 else second
            assert_problem(refused, 409)
            after = await _footprint(service, case_id)
            assert after[:4] == (before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1)


async def test_a_refused_attendance_leaves_nothing_behind(start_service, kafka_broker) -> None:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        case_id = await opened_case(service, kafka_broker.bootstrap, HUB)
        async with hub_client(service, HUB) as http:
            future = await ok(
                http.post(f"/cases/{case_id}/appointments", json=slot("session", -48))
            )
            past = await ok(http.post(f"/cases/{case_id}/appointments", json=slot("session", 2)))
            path = f"/cases/{case_id}/appointments/{future['id']}/attendance"
            before = await _footprint(service, case_id)
            wrong = {"attended": "no", "session_happened": True}
            for _ in range(5):  # again and again on one connection
                assert_problem(await http.put(path, json=ATTENDED), 409)
                on_past = f"/cases/{case_id}/appointments/{past['id']}/attendance"
                assert_problem(await http.put(on_past, json=wrong), 422)
            elsewhere = f"/cases/{case_id}/appointments/{case_id}/attendance"
            assert_problem(await http.put(elsewhere, json=ATTENDED), 404)
        async with hub_client(service, "wigan") as other_hub:
            assert_problem(await other_hub.put(path, json=ATTENDED), 404)
        assert await _footprint(service, case_id) == before

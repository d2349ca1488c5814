"""The floors for the caseload bench: a bare FastAPI app (run under uvicorn, like the service)
that answers each operation with the same single SQL statement the case service runs for it,
through asyncpg.

The page and the case read take their SQL from the service's own statement builders
(`page_statement`, `read_statement`), so the floor cannot drift from the query it stands
beside; a search and a case read write their audit row in that same statement, as the service
does. Recording attendance writes what the service must write: the appointment's attendance,
its case's version, the event's outbox row and the audit row, as one statement. No
authentication, validation, unit of work, ORM or event publishing: what is left is HTTP, JSON
and the query itself. Each request names its hub (`hub=`); the routes and the other query
parameters are the service's. `BARE_DATABASE_URL` is a plain postgresql:// URL; the schema is `casework`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request, Response
from sqlalchemy import Uuid, bindparam, text

from gmirs_case.adapters.case_read import read_statement
from gmirs_case.adapters.case_rows import case_select
from gmirs_case.adapters.caseload import CaseloadFilter, page_statement, page_values
from gmirs_case.domain.casework import today
from gmirs_case.domain.people import normalised_name
from gmirs_runtime import audit
from gmirs_runtime.json_body import json_bytes, json_response
from gmirs_runtime.precompiled import compile_statement

CASE_READ = compile_statement(read_statement(True))
ATTENDANCE = """
WITH case_version_bumped AS (
    UPDATE cases SET version = version + 1 WHERE id = $1 AND hub_id = $3 RETURNING version
), recorded AS (
    UPDATE appointments SET attended = $4, session_happened = $5, attendance_recorded_at = $6,
        no_session_reason = NULL, notify_pp_of_concerns = false
    WHERE id = $2 AND case_id = $1 RETURNING id
), published AS (
    INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, source, time, payload,
                        published_at)
    SELECT $7, 'case', $1, 'floor', 'floor', '/floor', $6, $8::jsonb, $6 FROM recorded
), audited AS (
    INSERT INTO audit_log (actor, action, resource_type, resource_id)
    SELECT 'floor', 'case.attendance-recorded', 'case', $1::text FROM recorded
)
SELECT version FROM case_version_bumped"""
"""What recording attendance must write, as one statement: the appointment's attendance, its
case's version moved on, the event in the outbox and the audit row of the write, all in the
same commit, as intake's floor writes its record and outbox row. Marked published, so the case
process's relay, when it starts, does not send the floor's rows."""
READ = compile_statement(
    text(case_select("id", scoped=True, lock=False, one_appointment=True)).bindparams(
        bindparam("id", type_=Uuid), bindparam("appointment_id", type_=Uuid)
    )
)
"""With `statements=service`, the service's own two statements instead: the case read with the
one appointment (its `case_select`), then the write above (no transaction, as in the service)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BARE_DATABASE_URL"],
        min_size=10,
        max_size=10,
        server_settings={"search_path": "casework"},
    )
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/cases")
async def page(hub: str, request: Request) -> Response:
    """A caseload page: first, filtered or searched, as the query's parameters say."""
    wanted = _filter(hub, request.query_params)
    audited = None
    if wanted.search is not None:
        audited = audit.row_values(
            actor="bare", action="search", resource_type="caseload", resource_id=hub
        )
    limit = int(request.query_params.get("limit", "50"))
    statement = page_statement(wanted, audited=audited is not None)
    values = page_values(wanted, limit=limit + 1, audited=audited)
    rows = await request.app.state.pool.fetch(statement.sql, *statement.arguments(values))
    items = [dict(row) for row in rows[:limit]]
    return json_response({"items": items})


def _filter(hub: str, query: Any) -> CaseloadFilter:
    opened_from = query.get("opened_from")
    return CaseloadFilter(
        hub_id=hub,
        opened_from=_start_of(date.fromisoformat(opened_from)) if opened_from else None,
        search=normalised_name(query["q"]) if "q" in query else None,
        state=query.get("state"),
        worker=query.get("worker"),
        overdue_before=today(datetime.now(UTC)) if query.get("overdue") == "true" else None,
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@app.get("/cases/{case_id}")
async def case_read(case_id: uuid.UUID, hub: str, request: Request) -> Response:
    """One case with its lifecycle and appointments, and its audit row, in one statement."""
    audited = audit.row_values(
        actor="bare", action="case.viewed", resource_type="case", resource_id=str(case_id)
    )
    values = {**audited, "id": case_id, "hub_id": hub}
    row = await request.app.state.pool.fetchrow(CASE_READ.sql, *CASE_READ.arguments(values))
    body = orjson.dumps(dict(row), default=_nested, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


def _nested(value: Any) -> Any:
    """Nested rows (the appointments) as lists, asyncpg's UUIDs as text (as the service's
    `json_body` writes them); orjson writes everything else itself."""
    if isinstance(value, asyncpg.Record):
        return list(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


@app.put("/cases/{case_id}/appointments/{appointment_id}/attendance")
async def attendance(
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    hub: str,
    request: Request,
    statements: str = "one",
) -> Response:
    """The attendance, the case's version, the event in the outbox and the audit row: in one
    statement, or (`statements=service`) after the service's read of the case."""
    body = orjson.loads(await request.body())
    now = datetime.now(UTC)
    event = json_bytes({"case_id": case_id, "appointment_id": appointment_id, **body}).decode()
    attended, happened = body["attended"], body["session_happened"]
    pool = request.app.state.pool
    values = (case_id, appointment_id, hub, attended, happened, now, uuid.uuid4(), event)
    if statements != "service":
        return json_response({"version": await pool.fetchval(ATTENDANCE, *values)})
    read = {"id": case_id, "appointment_id": appointment_id, "hub_id": hub}
    async with pool.acquire() as connection:
        await connection.fetchrow(READ.sql, *READ.arguments(read))
        version = await connection.fetchval(ATTENDANCE, *values)
    return json_response({"version": version})

"""Attendance on a case, written in one statement if the case is still as it was read: the
appointment's attendance, the case's new version, the lifecycle move it implies (if any), its
events' outbox rows and the audit row of the write, as data-modifying CTEs.

The case's version is the gate: every write of a case moves it (appointments, lifecycle, the
case row), so the statement writes nothing unless the version is still the one the decision was
made on, and the caller reads again and decides again (optimistic concurrency). PostgreSQL
checks the gate on the case row as it stands when the statement gets it, after any write
holding it has committed. No lock is taken before deciding, and no transaction is opened: the
read and this write are the only round trips. Through the unit of work the same attendance was
BEGIN, the locked read, the appointment with its version, the outbox row and COMMIT, through
SQLAlchemy's session, with no audit row: most of the case process's CPU per attendance went to
statements, not to deciding. The statement is compiled once per shape and sent straight
through asyncpg (`gmirs_runtime.precompiled`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from gmirs_case.adapters.case_rows import ATTENDANCE_COLUMNS
from gmirs_case.adapters.lifecycle import LifecycleRow, lifecycle_values
from gmirs_case.adapters.records import columns_of, record_of
from gmirs_case.domain.lifecycle import Lifecycle
from gmirs_case.domain.model import Appointment, Attendance
from gmirs_runtime import audit
from gmirs_runtime.eventing.tables import outbox
from gmirs_runtime.precompiled import Shapes, fetch

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]

_ATTENDANCE = tuple(columns_of(Attendance, rename=ATTENDANCE_COLUMNS))
_LIFECYCLE = tuple(
    c.name
    for c in LifecycleRow.__table__.columns  # type: ignore[attr-defined]
    if c.name != "case_id"
)
"""The lifecycle row's columns a move writes (the case id is the row's key)."""
_JSON = frozenset(
    c.name
    for table in (LifecycleRow.__table__, outbox)  # type: ignore[attr-defined]
    for c in table.columns
    if isinstance(c.type, JSONB)
)
"""jsonb columns: their values go as JSON text, as the engine's codec expects them."""


def _set(columns: Sequence[str], prefix: str) -> str:
    return ", ".join(f"{column} = :{prefix}{column}" for column in columns)


def _typed_rows(table: Table, columns: Sequence[str], prefixes: Sequence[str]) -> str:
    """VALUES rows of bind parameters cast to their columns' types (outside an INSERT's own
    VALUES, PostgreSQL would not know them)."""
    types = {c.name: c.type.compile(dialect=_PG) for c in table.columns}
    return ", ".join(
        "(" + ", ".join(f"CAST(:{p}{c} AS {types[c]})" for c in columns) + ")" for p in prefixes
    )


def _statement(shape: tuple[bool, tuple[str, ...], int]) -> Any:
    """`shape`: whether the lifecycle moves, the outbox rows' columns, how many rows."""
    moves, outbox_columns, events = shape
    gate = "EXISTS (SELECT FROM bumped)"
    lifecycle = ""
    if moves:
        assigned = _set(_LIFECYCLE, "l_")
        lifecycle = (
            f"moved AS (UPDATE case_lifecycle SET {assigned} WHERE case_id = :case_id AND {gate}),"  # noqa: S608
        )
    rows = _typed_rows(outbox, outbox_columns, [f"e{i}_" for i in range(events)])
    audited = _typed_rows(audit.audit_log, audit.FIELDS, [""])
    sql = f"""
WITH bumped AS (
    UPDATE cases SET version = version + 1
    WHERE id = :case_id AND version = :read_version RETURNING version
), recorded AS (
    UPDATE appointments SET {_set(_ATTENDANCE, "a_")}
    WHERE id = :appointment_id AND case_id = :case_id AND {gate}
), {lifecycle} published AS (
    INSERT INTO outbox ({", ".join(outbox_columns)})
    SELECT * FROM (VALUES {rows}) AS published WHERE {gate}
), audited AS (
    INSERT INTO audit_log ({", ".join(audit.FIELDS)})
    SELECT * FROM (VALUES {audited}) AS audited WHERE {gate}
)
SELECT version FROM bumped"""  # noqa: S608 (only our own table and column names)
    return text(sql)


_SHAPES = Shapes(_statement)


async def write_attendance(
    connection: asyncpg.Connection,
    appointment: Appointment,
    *,
    case_id: uuid.UUID,
    read_version: int,
    moved: Lifecycle | None,
    outbox_rows: Sequence[Mapping[str, Any]],
    audit_row: Mapping[str, Any],
) -> int | None:
    """Write it all if the case is still at `read_version`: its new version (the `ETag`), or
    None, with nothing written, if another write came first (read again and decide again)."""
    if appointment.attendance is None:
        raise ValueError("write_attendance needs an appointment with attendance")
    values: dict[str, Any] = {
        "case_id": case_id,
        "read_version": read_version,
        "appointment_id": appointment.id,
        **audit_row,
        **_prefixed("a_", record_of(appointment.attendance, rename=ATTENDANCE_COLUMNS)),
    }
    if moved is not None:
        values |= _prefixed("l_", lifecycle_values(case_id, moved))
    for i, row in enumerate(outbox_rows):
        values |= _prefixed(f"e{i}_", row)
    shape = (moved is not None, tuple(outbox_rows[0]), len(outbox_rows))
    rows = await fetch(connection, _SHAPES[shape], values)
    if not rows:
        return None
    version: int = rows[0]["version"]
    return version


def _prefixed(prefix: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        prefix + name: _json(value) if name in _JSON else value for name, value in values.items()
    }


def _json(value: Any) -> str | None:
    """JSON text, as the engine's serializer writes it; None stays SQL NULL."""
    return None if value is None else orjson.dumps(value).decode()

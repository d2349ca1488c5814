"""A case in one row: its columns, its lifecycle's and its appointments with their earlier times.

The appointments and their history come back as arrays of their tables' own row types, which
asyncpg decodes into typed values, so a case is read in one statement, not three (case,
appointments, lifecycle): each statement is a round trip, a socket send in the one-core case
process and a statement's CPU in PostgreSQL. The mappers read rows by attribute, whether an ORM
row or one of these decoded records.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from gmirs_case.adapters import appointments as stored
from gmirs_case.adapters.records import from_record
from gmirs_case.domain.appointment_values import Rescheduled
from gmirs_case.domain.model import Appointment, Attendance, Case

ATTENDANCE_COLUMNS = {"recorded_at": "attendance_recorded_at"}
"""Attendance is stored flat on its appointment's row; only this column name differs."""

_CASE = """
SELECT c.id, c.referral_id, c.hub_id, c.probation_delivery_unit, c.crn, c.reference_number,
       c.rm_referral_id, c.opened_at, c.version,
       l.case_id AS lifecycle_case_id, l.state, l.since, l.reached, l.closure_reason,
       l.closure_settled, l.rm_withdrawal_code, l.rm_delivery_state, l.closed_by,
       l.plan_agreed_at, l.outcomes,
       ARRAY(SELECT a FROM appointments AS a WHERE a.case_id = c.id{one_appointment}
             ORDER BY a.starts_at, a.id) AS appointment_rows,
       ARRAY(SELECT h FROM appointment_reschedules AS h WHERE h.case_id = c.id{one_moved}
             ORDER BY h.id) AS reschedule_rows{snapshot}
FROM cases AS c LEFT JOIN case_lifecycle AS l ON l.case_id = c.id
WHERE c.{key} = :{key}"""


def case_select(key: str, *, scoped: bool, lock: bool, one_appointment: bool = False) -> str:
    """The case whose `key` column (id or referral_id) is `:key`, in `:hub_id` if `scoped`;
    `lock`: its row locked for this transaction's write (the lifecycle's row is not);
    `one_appointment`: with only appointment `:appointment_id` (a command on that one)."""
    sql = _CASE.format(
        key=key,
        one_appointment=" AND a.id = :appointment_id" if one_appointment else "",
        one_moved=" AND h.appointment_id = :appointment_id" if one_appointment else "",
        snapshot="," + _SNAPSHOT_VERSION if lock else "",
    )
    if scoped:
        sql += " AND c.hub_id = :hub_id"
    if lock:
        sql += " FOR UPDATE OF c"
    return sql


_SNAPSHOT_VERSION = """
       (SELECT s.version FROM cases AS s WHERE s.id = c.id) AS snapshot_version"""
"""The case's version as the statement's snapshot saw it, beside the locked row's own.

A locked read that waited for another write's lock gets the case row as that write left it, but
its lifecycle and appointments as they were when the statement began (PostgreSQL re-reads only
the locked row): deciding on those, two commands could both make the same move. Every write of a
case moves its version, so a version the snapshot did not see says the rest may be stale: the
caller reads again, under the lock it now holds (`read_is_stale`)."""


def read_is_stale(row: Any) -> bool:
    """Whether a locked read waited for another write: read it again (the lock is now held)."""
    return bool(row.version != row.snapshot_version)


def case_in(row: Any) -> Case:
    """The case, with its appointments, in a row `case_select` read."""
    appointments = appointments_of(_fields(row.appointment_rows), _fields(row.reschedule_rows))
    return case_of(row, appointments)


def has_lifecycle(row: Any) -> bool:
    return row.lifecycle_case_id is not None


def case_of(row: Any, appointments: list[Appointment]) -> Case:
    """The case from a row holding its columns (a `CaseRow`, or a wider row of a joined read)."""
    return from_record(Case, row, appointments=appointments)


def appointments_of(rows: Sequence[Any], history: Sequence[Any]) -> list[Appointment]:
    """Appointment rows (in order) with the case's history rows (oldest first) as domain objects."""
    earlier: dict[uuid.UUID, list[Rescheduled]] = {}
    for moved in history:
        earlier.setdefault(moved.appointment_id, []).append(stored.rescheduled_of(moved))
    return [appointment_of(row, earlier.get(row.id, [])) for row in rows]


def appointment_of(row: Any, history: list[Rescheduled]) -> Appointment:
    attendance = None
    if row.attended is not None and row.attendance_recorded_at is not None:
        attendance = from_record(Attendance, row, rename=ATTENDANCE_COLUMNS)
    nested = stored.nested_of(row)
    return from_record(Appointment, row, attendance=attendance, reschedules=history, **nested)


def _fields(records: Sequence[Mapping[str, Any]]) -> list[SimpleNamespace]:
    """Decoded row values (asyncpg records) readable by attribute, as the row mappers read them
    (a namespace's attributes are read in C, not through a `__getattr__` of ours)."""
    return [SimpleNamespace(**record) for record in records]

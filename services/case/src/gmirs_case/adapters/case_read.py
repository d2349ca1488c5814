"""One case as a hub reads it, and the audit row of that read, in a single statement.

The case with its lifecycle and appointments comes back in one row (`case_rows`), and the audit
row rides along as a data-modifying CTE. The read used to be four round trips (case,
appointments, lifecycle, audit INSERT), each a socket send in the one-core case process and a
statement's CPU in PostgreSQL. The audit INSERT selects from the case under
the same scope as the read, so a case the caller may not see is neither answered nor audited.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import TextClause, Uuid, bindparam, text

from gmirs_case.adapters.case_rows import case_in, case_select, has_lifecycle
from gmirs_case.adapters.lifecycle import lifecycle_of
from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.domain.lifecycle import Lifecycle
from gmirs_case.domain.model import Case
from gmirs_runtime import audit
from gmirs_runtime.precompiled import compile_statement, fetch

_COLUMNS = ", ".join(audit.FIELDS)
_VALUES = ", ".join(f"CAST(:{field} AS text)" for field in audit.FIELDS)
_AUDITED = f"""
WITH audited AS (
    INSERT INTO audit_log ({_COLUMNS}) SELECT {_VALUES}
    FROM cases WHERE cases.id = :id {{scope}}
)"""  # noqa: S608 (the audit table's own field names)
"""The audit row's fields are `audit.FIELDS`, given as `audit.row_values` gives them."""


@dataclass(frozen=True, slots=True)
class CaseAsRead:
    case: Case
    version: int
    """The version read with the case row (its `ETag`)."""
    lifecycle: Lifecycle


@functools.cache
def read_statement(scoped: bool) -> TextClause:
    """Built once per scope (one hub, or every hub); the caseload bench's floor runs it too."""
    audited = _AUDITED.format(scope="AND cases.hub_id = :hub_id" if scoped else "")
    read = case_select("id", scoped=scoped, lock=False)
    return text(audited + read).bindparams(bindparam("id", type_=Uuid))


_COMPILED = {scoped: compile_statement(read_statement(scoped)) for scoped in (True, False)}
_WITH_ONE = {
    scoped: compile_statement(
        text(case_select("id", scoped=scoped, lock=False, one_appointment=True)).bindparams(
            bindparam("id", type_=Uuid), bindparam("appointment_id", type_=Uuid)
        )
    )
    for scoped in (True, False)
}


async def read_audited(
    connection: asyncpg.Connection,
    case_id: uuid.UUID,
    *,
    hub_id: str | None,
    audit: Mapping[str, Any],
) -> CaseAsRead | None:
    """The case if `hub_id` (None: every hub) may see it, and then the audit row `audit` (the
    values `gmirs_runtime.audit.row_values` gives) written. Sent straight through asyncpg
    without a transaction (`DirectConnections`): the audit row commits with the read."""
    parameters = {**audit, "id": case_id, "hub_id": hub_id}
    return _as_read(await fetch(connection, _COMPILED[hub_id is not ALL_HUBS], parameters))


async def read_with_one(
    connection: asyncpg.Connection,
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    *,
    hub_id: str | None,
) -> CaseAsRead | None:
    """The case if `hub_id` (None: every hub) may see it, with its version, carrying only that
    one appointment of the case's (none if it is not the case's): for a command on it alone
    (attendance), written only if the version is unchanged. Decoding every appointment of a
    long case cost more than the statement."""
    parameters = {"id": case_id, "appointment_id": appointment_id, "hub_id": hub_id}
    return _as_read(await fetch(connection, _WITH_ONE[hub_id is not ALL_HUBS], parameters))


def _as_read(rows: Sequence[Mapping[str, Any]]) -> CaseAsRead | None:
    if not rows:
        return None
    row = SimpleNamespace(**rows[0])  # read by attribute, as the row mappers read rows
    if not has_lifecycle(row):
        raise LookupError(f"case {row.id} has no lifecycle")
    return CaseAsRead(case_in(row), row.version, lifecycle_of(row))

"""Append-only audit log of access to personal data and of operator actions.

Each service keeps its own `audit_log` table. Rows say who (the client id or operator), what
(action and resource), when, and why (the stated reason); they never copy the personal data.
The table's grants in production allow INSERT and SELECT only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Insert,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_runtime.telemetry import current_traceparent


def _columns() -> list[Any]:
    return [
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor", Text, nullable=False),
        Column("action", Text, nullable=False),
        Column("resource_type", Text, nullable=False),
        Column("resource_id", Text),
        Column("reason", Text),
        Column("traceparent", Text),
    ]


audit_log = Table("audit_log", MetaData(), *_columns())

_NO_UPDATES = (
    """
CREATE FUNCTION "{schema}".audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$
""",
    """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "{schema}".audit_log
FOR EACH ROW EXECUTE FUNCTION "{schema}".audit_log_is_append_only();
""",
)


def create_audit_table(op: Any, schema: str) -> None:
    """Create the append-only audit table in `schema` (call from a service's first migration)."""
    op.create_table("audit_log", *_columns(), schema=schema)
    for statement in _NO_UPDATES:
        op.execute(statement.format(schema=schema))


def drop_audit_table(op: Any, schema: str) -> None:
    op.drop_table("audit_log", schema=schema)
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".audit_log_is_append_only()')


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Add an audit row in the caller's transaction (it commits with the access it describes)."""
    row = row_values(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        reason=reason,
    )
    await session.execute(insert(audit_log).values(row))


FIELDS = ("actor", "action", "resource_type", "resource_id", "reason", "traceparent")
"""An audit row's fields as its writer gives them (`row_values`); the table fills `id` and `at`."""


def row_values(
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    reason: str | None = None,
) -> dict[str, str | None]:
    """One audit row's fields (with the current trace), as `record` writes them, or as the bind
    parameters of a read's own statement that writes the row as a data-modifying CTE
    (`entry_template`, or SQL naming `FIELDS`): the row and the read it describes succeed or
    fail together, in one round trip."""
    traceparent, _ = current_traceparent()
    values = (actor, action, resource_type, resource_id, reason, traceparent)
    return dict(zip(FIELDS, values, strict=True))


def entry_template() -> Insert:
    """The INSERT of one audit row with a bind parameter per field, named as `FIELDS`, for a
    statement compiled once and sent with `row_values` (gmirs_runtime.precompiled)."""
    return insert(audit_log).values({field: bindparam(field, type_=Text()) for field in FIELDS})

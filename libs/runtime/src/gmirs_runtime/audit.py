"""Append-only audit log of access to personal data and of operator actions.

Each service keeps its own `audit_log` table. Rows say who (the client id or operator), what
(action and resource), when, and why (the stated reason); they never copy the personal data.
The table's grants in production allow INSERT and SELECT only.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    await session.execute(
        entry(
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            reason=reason,
        )
    )


def entry(
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    reason: str | None = None,
) -> Insert:
    """The INSERT of one audit row, for a caller that sends it inside its read's own statement
    (a data-modifying CTE: the row and the read it describes succeed or fail together, in one
    round trip)."""
    return insert(audit_log).values(
        row_values(
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            reason=reason,
        )
    )


def row_values(
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    reason: str | None = None,
) -> dict[str, str | None]:
    """One audit row's column values (with the current trace), for a caller whose own statement
    writes it (an INSERT ... SELECT that audits a read only when it finds what was asked for)."""
    traceparent, _ = current_traceparent()
    return {
        "actor": actor,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "reason": reason,
        "traceparent": traceparent,
    }


FIELDS = ("actor", "action", "resource_type", "resource_id", "reason", "traceparent")
PREFIX = "audit_"
"""`entry_template`'s bind parameters are the fields' names after this prefix."""


def entry_template() -> Insert:
    """`entry`'s INSERT with a bind parameter per field, for a statement compiled once and sent
    with `template_values` (gmirs_runtime.precompiled)."""
    return insert(audit_log).values(
        {field: bindparam(PREFIX + field, type_=Text()) for field in FIELDS}
    )


def template_values(row: Mapping[str, str | None]) -> dict[str, str | None]:
    """An audit row (`row_values`) as `entry_template`'s bind parameters."""
    return {PREFIX + field: value for field, value in row.items()}

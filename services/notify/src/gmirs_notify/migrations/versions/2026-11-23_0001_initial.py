"""Subscriptions, deliveries and their attempts, and the eventing and audit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from gmirs_runtime.audit import create_audit_table, drop_audit_table
from gmirs_runtime.eventing.tables import create_eventing_tables, drop_eventing_tables
from gmirs_runtime.migrations import current_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# New deliveries wake the dispatchers; NOTIFY is delivered only when the inserting transaction
# commits, so a dispatcher never looks for a delivery before it is visible.
_NOTIFY_FUNCTION = """
CREATE FUNCTION {schema}.notify_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gmirs_deliveries_' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END $$;
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER deliveries_inserted AFTER INSERT ON {schema}.deliveries
FOR EACH STATEMENT EXECUTE FUNCTION {schema}.notify_deliveries();
"""


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _subscriptions(schema: str) -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("owner_client_id", sa.Text, nullable=False, index=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("event_types", ARRAY(sa.Text), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text),
        _ts("previous_secret_expires_at"),
        sa.Column("active", sa.Boolean, nullable=False),
        _ts("created_at", nullable=False),
        _ts("deactivated_at"),
        sa.Column("deactivation_reason", sa.Text),
        schema=schema,
    )


def _deliveries(schema: str) -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "subscription_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.subscriptions.id"),
            nullable=False,
        ),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("appointment_id", sa.Uuid, nullable=False),
        sa.Column("body", JSONB, nullable=False),
        _ts("due_at", nullable=False),
        _ts("created_at", nullable=False),
        _ts("next_attempt_at", nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.Text, nullable=False),
        _ts("last_attempt_at"),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error_class", sa.Text),
        _ts("acknowledged_at"),
        _ts("escalated_at"),
        sa.Column("traceparent", sa.Text),
        sa.Column("tracestate", sa.Text),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_deliveries_subscription_event"),
        sa.CheckConstraint(
            "status IN ('pending', 'acknowledged', 'failed')", name="ck_deliveries_status"
        ),
        schema=schema,
    )
    _delivery_indexes(schema)


def _delivery_indexes(schema: str) -> None:
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        schema=schema,
        postgresql_where=pending,
    )
    op.create_index(
        "ix_deliveries_at_risk",
        "deliveries",
        ["due_at"],
        schema=schema,
        postgresql_where=sa.text("status = 'pending' AND escalated_at IS NULL"),
    )
    op.create_index("ix_deliveries_status_due", "deliveries", ["status", "due_at"], schema=schema)
    op.execute(_NOTIFY_FUNCTION.format(schema=schema))
    op.execute(_NOTIFY_TRIGGER.format(schema=schema))


def _delivery_attempts(schema: str) -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column(
            "delivery_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        _ts("at", nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error_class", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_delivery_attempts"),
        schema=schema,
    )


def upgrade() -> None:
    schema = current_schema()
    create_eventing_tables(op, schema)
    create_audit_table(op, schema)
    _subscriptions(schema)
    _deliveries(schema)
    _delivery_attempts(schema)


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("delivery_attempts", schema=schema)
    op.execute(f"DROP TRIGGER IF EXISTS deliveries_inserted ON {schema}.deliveries")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.notify_deliveries()")
    op.drop_table("deliveries", schema=schema)
    op.drop_table("subscriptions", schema=schema)
    drop_audit_table(op, schema)
    drop_eventing_tables(op, schema)

"""Webhook endpoints grow filters, a partner name and an on/off switch; deliveries carry their
event type, why they ended, and whether an attempt was asked for by a person; small projections
of case events give each case's probation delivery unit, each appointment's session number and
the person's consents (to gate case events on them).

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from gmirs_runtime.migrations import current_schema

revision: str = "0004"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY = sa.text("'{}'::text[]")
_DELETE_CASE_EVENT_ATTEMPTS = """
DELETE FROM {schema}.delivery_attempts WHERE delivery_id IN
  (SELECT id FROM {schema}.deliveries WHERE appointment_id IS NULL)
"""
_DELETE_CASE_EVENT_DELIVERIES = "DELETE FROM {schema}.deliveries WHERE appointment_id IS NULL"


def upgrade() -> None:
    schema = current_schema()
    op.add_column(
        "subscriptions",
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        schema=schema,
    )
    op.add_column(
        "subscriptions",
        sa.Column("hub_ids", ARRAY(sa.Text), nullable=False, server_default=_EMPTY),
        schema=schema,
    )
    op.add_column(
        "subscriptions",
        sa.Column("pdu_codes", ARRAY(sa.Text), nullable=False, server_default=_EMPTY),
        schema=schema,
    )
    op.add_column("subscriptions", sa.Column("partner", sa.Text), schema=schema)
    op.add_column(
        "deliveries",
        sa.Column("event_type", sa.Text, nullable=False, server_default="non-attendance.recorded"),
        schema=schema,
    )
    op.alter_column("deliveries", "appointment_id", nullable=True, schema=schema)
    op.add_column("deliveries", sa.Column("failure_reason", sa.Text), schema=schema)
    op.add_column("deliveries", sa.Column("failed_at", sa.DateTime(timezone=True)), schema=schema)
    op.add_column(
        "deliveries", sa.Column("redelivered_at", sa.DateTime(timezone=True)), schema=schema
    )
    op.add_column(
        "delivery_attempts",
        sa.Column("manual", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=schema,
    )
    op.create_table(
        "case_facts",
        sa.Column("case_id", sa.Uuid, primary_key=True),
        sa.Column("probation_delivery_unit", sa.Text, nullable=False),
        sa.Column("crn", sa.Text, nullable=False),
        sa.Column("reference_number", sa.Text),
        schema=schema,
    )
    op.create_table(
        "appointment_sessions",
        sa.Column("appointment_id", sa.Uuid, primary_key=True),
        sa.Column("session_number", sa.Integer),
        schema=schema,
    )
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False, index=True),
        sa.Column("partner", sa.Text, nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        schema=schema,
    )
    op.create_table(
        "skipped_events",
        sa.Column("subscription_id", sa.Uuid, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "event_id", name="pk_skipped_events"),
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("skipped_events", schema=schema)
    op.drop_table("consents", schema=schema)
    op.drop_table("appointment_sessions", schema=schema)
    op.drop_table("case_facts", schema=schema)
    op.drop_column("delivery_attempts", "manual", schema=schema)
    for column in ("redelivered_at", "failed_at", "failure_reason", "event_type"):
        op.drop_column("deliveries", column, schema=schema)
    # Case-event deliveries have no appointment: they cannot exist in the older schema.
    op.execute(_DELETE_CASE_EVENT_ATTEMPTS.format(schema=schema))
    op.execute(_DELETE_CASE_EVENT_DELIVERIES.format(schema=schema))
    op.alter_column("deliveries", "appointment_id", nullable=False, schema=schema)
    for column in ("partner", "pdu_codes", "hub_ids", "enabled"):
        op.drop_column("subscriptions", column, schema=schema)

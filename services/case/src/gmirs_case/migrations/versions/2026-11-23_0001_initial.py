"""Cases, appointments, and the eventing and audit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.audit import create_audit_table, drop_audit_table
from gmirs_runtime.eventing.tables import create_eventing_tables, drop_eventing_tables
from gmirs_runtime.migrations import current_schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = current_schema()
    create_eventing_tables(op, schema)
    create_audit_table(op, schema)
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("referral_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("hub_id", sa.Text, nullable=False, index=True),
        sa.Column("probation_delivery_unit", sa.Text, nullable=False),
        sa.Column("crn", sa.Text, nullable=False),
        sa.Column("reference_number", sa.Text),
        sa.Column("rm_referral_id", sa.Uuid),
        _ts("opened_at"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        schema=schema,
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "case_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.cases.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("session_number", sa.Integer),
        _ts("starts_at"),
        _ts("ends_at"),
        sa.Column("delivery_type", sa.Text, nullable=False),
        _ts("booked_at"),
        sa.Column("attended", sa.Text),
        sa.Column("session_happened", sa.Boolean),
        sa.Column("no_session_reason", sa.Text),
        sa.Column("notify_pp_of_concerns", sa.Boolean),
        _ts("attendance_recorded_at", nullable=True),
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("appointments", schema=schema)
    op.drop_table("cases", schema=schema)
    drop_audit_table(op, schema)
    drop_eventing_tables(op, schema)

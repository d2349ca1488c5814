"""Referrals per borough per month, and the eventing and audit tables.

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


def upgrade() -> None:
    schema = current_schema()
    create_eventing_tables(op, schema)
    create_audit_table(op, schema)
    op.create_table(
        "referrals_by_borough",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("referrals", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("month", "hub_id"),
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("referrals_by_borough", schema=schema)
    drop_audit_table(op, schema)
    drop_eventing_tables(op, schema)

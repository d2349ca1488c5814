"""KPI facts: outcomes achieved on the lifecycle (DS5) and mitigations (DS2, KP6).

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from gmirs_runtime.migrations import current_schema

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = current_schema()
    op.add_column("case_lifecycle", sa.Column("outcomes", JSONB, nullable=True), schema=schema)
    op.create_table(
        "kpi_mitigations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "case_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.cases.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("measure", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("kpi_mitigations", schema=schema)
    op.drop_column("case_lifecycle", "outcomes", schema=schema)

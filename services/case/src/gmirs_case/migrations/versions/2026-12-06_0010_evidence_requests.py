"""Evidence requests from the commissioner (KP4), answered in place.

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0010"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "evidence_requests",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("asked", sa.Text, nullable=False),
        sa.Column("hub_id", sa.Text, nullable=True, index=True),
        sa.Column(
            "case_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.cases.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("requested_by", sa.Text, nullable=False, index=True),
        _ts("requested_at"),
        _ts("recorded_at"),
        sa.Column("counted_from", sa.Date, nullable=False),
        _ts("due_at"),
        sa.Column("answer", sa.Text, nullable=True),
        _ts("answered_at", nullable=True),
        sa.Column("answered_by", sa.Text, nullable=True),
        sa.Column("on_time", sa.Boolean, nullable=True),
        sa.CheckConstraint(
            "(answered_at IS NULL) = (answer IS NULL AND answered_by IS NULL AND on_time IS NULL)",
            name="answered_in_full",
        ),
        schema=schema,
    )
    op.create_index(
        "ix_evidence_requests_open_due",
        "evidence_requests",
        ["due_at"],
        schema=schema,
        postgresql_where=sa.text("answered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("evidence_requests", schema=current_schema())

"""The attendance watchdog: one watch per booked appointment (its end, hub, case and state), so
an appointment whose attendance nobody recorded some hours after its end warns the hub once.

A watch is also kept for an appointment whose attendance or cancellation arrived first (state
`recorded` / `cancelled`), so a booking that comes later, or again, arms nothing.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "attendance_watches",
        sa.Column("appointment_id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("referral_id", sa.Uuid, nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("appointment_kind", sa.Text, nullable=False),
        _ts("ends_at", nullable=False),
        _ts("changed_at", nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        _ts("warned_at"),
        _ts("closed_at"),
        _ts("email_sent_at"),
        _ts("email_retry_at"),
        schema=schema,
    )
    op.create_index(
        "ix_attendance_watches_watching",
        "attendance_watches",
        ["ends_at"],
        postgresql_where=sa.text("state = 'watching'"),
        schema=schema,
    )
    op.create_index(
        "ix_attendance_watches_unsent",
        "attendance_watches",
        ["warned_at"],
        postgresql_where=sa.text("state = 'warned' AND email_sent_at IS NULL"),
        schema=schema,
    )


def downgrade() -> None:
    op.drop_table("attendance_watches", schema=current_schema())

"""The R&M write-back of each hub-recorded non-attendance: what to write, how far it got (one row
per report; the step reached is committed after each R&M call, so a restart resumes there), and
the manual-entry queue for what R&M refuses.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "rm_writebacks",
        sa.Column("report_id", sa.Uuid, sa.ForeignKey(f"{schema}.reports.id"), primary_key=True),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("rm_referral_id", sa.Uuid, nullable=False),
        sa.Column("rm_appointment_id", sa.Uuid),
        sa.Column("reference_number", sa.Text),
        sa.Column("crn", sa.Text, nullable=False),
        sa.Column("appointment_kind", sa.Text, nullable=False),
        sa.Column("session_number", sa.Integer),
        _ts("appointment_starts_at", nullable=False),
        _ts("appointment_ends_at", nullable=False),
        _ts("due_at", nullable=False),
        sa.Column("attended", sa.Text, nullable=False),
        sa.Column("session_happened", sa.Boolean, nullable=False),
        sa.Column("no_session_reason", sa.Text),
        sa.Column("notify_pp_of_concerns", sa.Boolean, nullable=False),
        sa.Column("recorded_by", sa.Text),
        sa.Column("step", sa.Text, nullable=False),
        _ts("next_at"),
        sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_reason", sa.Text),
        _ts("manual_since"),
        _ts("manual_done_at"),
        sa.Column("manual_done_by", sa.Text),
        _ts("created_at", nullable=False),
        schema=schema,
    )
    op.create_index(
        "ix_rm_writebacks_next_at",
        "rm_writebacks",
        ["next_at"],
        postgresql_where=sa.text("next_at IS NOT NULL"),
        schema=schema,
    )
    op.create_index(
        "ix_rm_writebacks_manual",
        "rm_writebacks",
        ["hub_id", "due_at"],
        postgresql_where=sa.text("step = 'manual'"),
        schema=schema,
    )


def downgrade() -> None:
    op.drop_table("rm_writebacks", schema=current_schema())

"""The statutory report per non-attendance: its deadline, channel attempts, escalation and breach;
and the referring practitioner's address for referrals outside R&M (the report goes by email).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _reports(schema: str) -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("appointment_id", sa.Uuid, nullable=False),
        sa.Column("rm_appointment_id", sa.Uuid),
        sa.Column("referral_id", sa.Uuid, nullable=False),
        sa.Column("rm_referral_id", sa.Uuid),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("reference_number", sa.Text),
        sa.Column("origin", sa.Text, nullable=False),
        _ts("appointment_ends_at", nullable=False),
        _ts("due_at", nullable=False),
        _ts("created_at", nullable=False),
        _ts("acknowledged_at"),
        sa.Column("acknowledged_channel", sa.Text),
        _ts("escalated_at"),
        sa.Column("escalation_cause", sa.Text),
        sa.Column("escalation_detail", sa.Text),
        _ts("escalation_notified_at"),
        _ts("escalation_email_retry_at"),
        _ts("breached_at"),
        sa.Column("breach_cause", sa.Text),
        sa.Column("breach_detail", sa.Text),
        _ts("next_check_at"),
        sa.Column("email_notification_id", sa.Text),
        _ts("email_next_at"),
        sa.UniqueConstraint("case_id", "appointment_id", name="uq_reports_case_appointment"),
        schema=schema,
    )
    op.create_index(
        "ix_reports_next_check_at",
        "reports",
        ["next_check_at"],
        schema=schema,
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.create_index(
        "ix_reports_rm_appointment",
        "reports",
        ["case_id", "rm_appointment_id"],
        schema=schema,
        postgresql_where=sa.text("rm_appointment_id IS NOT NULL"),
    )
    op.create_index("ix_reports_due_at", "reports", ["due_at", "id"], schema=schema)
    op.create_index(
        "ix_reports_email_next_at",
        "reports",
        ["email_next_at"],
        schema=schema,
        postgresql_where=sa.text("email_next_at IS NOT NULL"),
    )


def _practitioners(schema: str) -> None:
    op.create_table(
        "practitioners",
        sa.Column("referral_id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        _ts("recorded_at", nullable=False),
        schema=schema,
    )


def _report_attempts(schema: str) -> None:
    op.create_table(
        "report_attempts",
        sa.Column("report_id", sa.Uuid, sa.ForeignKey(f"{schema}.reports.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        _ts("at", nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("report_id", "seq", name="pk_report_attempts"),
        schema=schema,
    )


def upgrade() -> None:
    schema = current_schema()
    _reports(schema)
    _report_attempts(schema)
    _practitioners(schema)


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("practitioners", schema=schema)
    op.drop_table("report_attempts", schema=schema)
    op.drop_table("reports", schema=schema)

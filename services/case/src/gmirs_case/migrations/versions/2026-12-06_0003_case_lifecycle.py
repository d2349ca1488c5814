"""Each case's lifecycle, R&M appointment ids, and R&M progress held until its case opens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


BACKFILL = """
INSERT INTO case_lifecycle (case_id, state, since, reached, referral_sent_at)
SELECT id, 'allocated', opened_at,
       jsonb_build_object('received', to_jsonb(opened_at), 'allocated', to_jsonb(opened_at)),
       opened_at
FROM cases
"""
"""Cases opened before the lifecycle existed are allocated since they opened (their referral's
sent time was not kept, so their opening stands in for it)."""


def upgrade() -> None:
    op.create_table(
        "case_lifecycle",
        sa.Column(
            "case_id", sa.Uuid, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("state", sa.Text, nullable=False, index=True),
        _ts("since"),
        sa.Column("reached", JSONB, nullable=False),
        sa.Column("closure_reason", sa.Text),
        sa.Column("closure_settled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("rm_withdrawal_code", sa.Text),
        sa.Column("rm_delivery_state", sa.Text),
        sa.Column("closed_by", sa.Text),
        _ts("plan_agreed_at", nullable=True),
        _ts("referral_sent_at"),
    )
    op.execute(BACKFILL)
    op.add_column("appointments", sa.Column("rm_appointment_id", sa.Uuid))
    op.alter_column("appointments", "delivery_type", nullable=True)  # unknown for R&M's
    op.create_unique_constraint(
        "appointments_rm_appointment_id_key", "appointments", ["rm_appointment_id"]
    )
    op.create_table(
        "pending_rm_progress",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("referral_id", sa.Uuid, nullable=False, index=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("ce_type", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        _ts("held_at"),
    )


def downgrade() -> None:
    op.drop_table("pending_rm_progress")
    op.drop_constraint("appointments_rm_appointment_id_key", "appointments")
    op.drop_column("appointments", "rm_appointment_id")
    op.alter_column("appointments", "delivery_type", nullable=False)
    op.drop_table("case_lifecycle")

"""Contact attempts, outcome assessments (distance travelled), consents and onward referrals.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from gmirs_runtime.migrations import current_schema

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _case_id(schema: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "case_id",
        sa.Uuid,
        sa.ForeignKey(f"{schema}.cases.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        _ts("occurred_at"),
        _ts("recorded_at"),
        schema=schema,
    )
    op.create_table(
        "outcome_assessments",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("areas", JSONB, nullable=False),
        _ts("occurred_at"),
        _ts("recorded_at"),
        sa.Column("corrects", sa.Uuid, sa.ForeignKey(f"{schema}.outcome_assessments.id")),
        schema=schema,
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        sa.Column("partner", sa.Text, nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        _ts("given_at"),
        sa.Column("recorded_by", sa.Text, nullable=False),
        _ts("recorded_at"),
        _ts("withdrawn_at", nullable=True),
        _ts("withdrawal_recorded_at", nullable=True),
        schema=schema,
    )
    op.create_table(
        "onward_referrals",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        sa.Column("agency", sa.Text, nullable=False),
        sa.Column("need", sa.Text, nullable=False),
        _ts("referred_at"),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("consent_id", sa.Uuid, sa.ForeignKey(f"{schema}.consents.id"), nullable=False),
        _ts("recorded_at"),
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    for table in ("onward_referrals", "consents", "outcome_assessments", "contact_attempts"):
        op.drop_table(table, schema=schema)

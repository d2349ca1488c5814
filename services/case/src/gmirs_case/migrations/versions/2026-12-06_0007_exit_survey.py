"""Exit survey: single-use offers (token hashes only), the answers given, and declines.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0007"
down_revision: str | None = "0006"
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
        "exit_survey_offers",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("form_nonce", sa.Text, nullable=False),
        _ts("offered_at"),
        _ts("expires_at"),
        _ts("completed_at", nullable=True),
        schema=schema,
    )
    op.create_table(
        "exit_survey_responses",
        sa.Column(
            "offer_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.exit_survey_offers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _case_id(schema),
        _ts("submitted_at"),
        sa.Column("helpfulness", sa.SmallInteger, nullable=False),
        sa.Column("helped_most", sa.Text, nullable=False),
        sa.Column("could_be_better", sa.Text, nullable=False),
        sa.Column("would_recommend", sa.Text, nullable=False),
        sa.Column("comments", sa.Text, nullable=False),
        sa.CheckConstraint("helpfulness BETWEEN 1 AND 5", name="helpfulness_1_to_5"),
        schema=schema,
    )
    op.create_table(
        "exit_survey_declines",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        _ts("declined_at"),
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    for table in ("exit_survey_declines", "exit_survey_responses", "exit_survey_offers"):
        op.drop_table(table, schema=schema)

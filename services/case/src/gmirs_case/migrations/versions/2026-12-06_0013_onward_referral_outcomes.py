"""When an onward referral's outcome was recorded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "onward_referrals",
        sa.Column("outcome_recorded_at", sa.DateTime(timezone=True), nullable=True),
        schema=current_schema(),
    )


def downgrade() -> None:
    op.drop_column("onward_referrals", "outcome_recorded_at", schema=current_schema())

"""R&M events applied (de-duplication by content identity), and finding referrals by R&M ids.

`rm_events` holds one row per R&M event identity (see domain/rm_envelope.py), written in the
same transaction as the events it caused. Referrals are found by the R&M referral id and the
R&M reference number inside their JSON, through expression indexes rather than new columns, so
every source (R&M, direct, pilot import) is covered without each having to fill a column; the
R&M id is unique across all sources: one referral per R&M referral. A referral whose probation
delivery unit is not one of ours has none (null), and is held for the lead provider.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RM_ID = "(referral->>'rm_referral_id')"
REFERENCE = "(referral->>'reference_number')"


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "rm_events",
        sa.Column("identity", sa.Uuid, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("rm_referral_id", sa.Uuid),
        sa.Column("referral_id", sa.Uuid),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    op.create_index("rm_events_by_referral", "rm_events", ["referral_id"], schema=schema)
    op.alter_column("referrals", "probation_delivery_unit", nullable=True, schema=schema)
    op.create_index(
        "referrals_by_rm_referral_id",
        "referrals",
        [sa.text(RM_ID)],
        unique=True,
        postgresql_where=sa.text(f"{RM_ID} IS NOT NULL"),
        schema=schema,
    )
    op.create_index(
        "referrals_by_reference_number", "referrals", [sa.text(REFERENCE)], schema=schema
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_index("referrals_by_reference_number", "referrals", schema=schema)
    op.drop_index("referrals_by_rm_referral_id", "referrals", schema=schema)
    # search_path is the service schema while migrating; held referrals keep an empty unit.
    op.execute(
        "UPDATE referrals SET probation_delivery_unit = '' WHERE probation_delivery_unit IS NULL"
    )
    op.alter_column("referrals", "probation_delivery_unit", nullable=False, schema=schema)
    op.drop_index("rm_events_by_referral", "rm_events", schema=schema)
    op.drop_table("rm_events", schema=schema)

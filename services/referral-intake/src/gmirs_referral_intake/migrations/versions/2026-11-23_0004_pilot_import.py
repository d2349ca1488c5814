"""Pilot caseload import: what became of each row of each imported file.

One row per (file digest, row number), written in the same transaction as the referral the row
created, so an import stopped at any point resumes where it stopped and a re-run of the same
file changes nothing. `rm_progress` keeps the row's R&M performance-export columns (action plan
dates, sessions, end) for the handover record; they are not part of the referral event.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from gmirs_runtime.migrations import current_schema

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "('imported', 'already-imported', 'already-held', 'rejected')"


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "pilot_import_rows",
        sa.Column("file_sha256", sa.Text, nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("referral_ref", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("referral_id", sa.Uuid),
        sa.Column("rm_progress", JSONB),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("file_sha256", "row_number", name="pilot_import_rows_pkey"),
        sa.CheckConstraint(f"status IN {STATUSES}", name="pilot_import_rows_status"),
        schema=schema,
    )
    op.create_index(
        "pilot_import_rows_by_referral", "pilot_import_rows", ["referral_id"], schema=schema
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_index("pilot_import_rows_by_referral", "pilot_import_rows", schema=schema)
    op.drop_table("pilot_import_rows", schema=schema)

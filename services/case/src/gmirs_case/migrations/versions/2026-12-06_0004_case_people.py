"""The person on the case, caseworker assignments, case notes and tasks.

`case_people.search_name` (lower-case "given family") and `crn` are stored apart so a search
can index them (a prefix index is created here; a trigram index needs pg_trgm, left to search).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
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


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _case_id(schema: str, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "case_id",
        sa.Uuid,
        sa.ForeignKey(f"{schema}.cases.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
        index=not primary_key,
    )


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "case_people",
        _case_id(schema, primary_key=True),
        sa.Column("crn", sa.Text, nullable=False, index=True),
        sa.Column("given_name", sa.Text, nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("search_name", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("referral", JSONB, nullable=False),
        sa.Column("contact", JSONB, nullable=False, server_default="{}"),
        sa.Column("contact_version", sa.Integer, nullable=False, server_default="1"),
        _ts("contact_updated_at", nullable=True),
        sa.Column("contact_updated_by", sa.Text),
        schema=schema,
    )
    op.execute(
        f'CREATE INDEX case_people_search_name_prefix ON "{schema}".case_people '
        "(search_name text_pattern_ops)"
    )
    op.create_table(
        "worker_assignments",
        sa.Column("referral_id", sa.Uuid, primary_key=True),
        sa.Column("worker", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        _ts("assigned_at"),
        sa.Column("assigned_by", sa.Text, nullable=False),
        schema=schema,
    )
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        _ts("written_at"),
        sa.Column("author_client", sa.Text, nullable=False),
        sa.Column("author_worker", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        schema=schema,
    )
    op.create_table(
        "case_tasks",
        sa.Column("id", sa.Uuid, primary_key=True),
        _case_id(schema),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("worker", sa.Text),
        _ts("created_at"),
        sa.Column("created_by", sa.Text, nullable=False),
        _ts("done_at", nullable=True),
        sa.Column("done_by", sa.Text),
        schema=schema,
    )
    op.create_index(
        "case_tasks_open_by_hub", "case_tasks", ["hub_id", "worker", "due_on"], schema=schema
    )


def downgrade() -> None:
    schema = current_schema()
    for table in ("case_tasks", "case_notes", "worker_assignments", "case_people"):
        op.drop_table(table, schema=schema)

"""The name-search index writes each new name straight into its tree (no pending list).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

A GIN index buffers new entries in a pending list (`fastupdate`, on by default) that every
search reads from end to end until (auto)vacuum merges it. After 100,000 people were loaded a
surname search read 400 pages of it: 10-14 ms instead of 1 ms. People arrive a few an hour, so
writing each name into the tree as it comes costs nothing that matters; searches stay as fast
between vacuums as after one. The list already pending is merged here.
"""

from collections.abc import Sequence

from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "case_people_search_name_trigram"


def upgrade() -> None:
    schema = current_schema()
    op.execute(f'ALTER INDEX "{schema}".{INDEX} SET (fastupdate = off)')
    op.execute(f"SELECT gin_clean_pending_list('\"{schema}\".{INDEX}'::regclass)")


def downgrade() -> None:
    op.execute(f'ALTER INDEX "{current_schema()}".{INDEX} RESET (fastupdate)')

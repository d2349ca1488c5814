"""Caseload search by name: a trigram index on `case_people.search_name`.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06

`search_name` is the case-folded, single-spaced "given family" name (revision 0004); a GIN
trigram index serves `LIKE '%part%'` on it, so a surname, a given name or any part of three
characters or more is found without reading every person. pg_trgm ships with PostgreSQL (and
is a trusted extension: the database owner may create it). It is created in the service's
schema unless the database already has it elsewhere; the index names its operator class in
whichever schema holds it. The extension is left in place on downgrade (others may use it).
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from gmirs_runtime.migrations import current_schema

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "case_people_search_name_trigram"


def upgrade() -> None:
    schema = current_schema()
    op.execute(f'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA "{schema}"')
    found = op.get_bind().execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
    )
    extension_schema = found.scalar_one()
    op.execute(
        f'CREATE INDEX {INDEX} ON "{schema}".case_people'
        f' USING gin (search_name "{extension_schema}".gin_trgm_ops)'
    )


def downgrade() -> None:
    op.drop_index(INDEX, "case_people", schema=current_schema())

"""The case's lifecycle state kept on `cases` too, so the caseload reads one table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

`GET /cases` joined every case of a page to `case_lifecycle` for its state, and a state filter
walked the hub's cases newest first looking each one's state up there (about 500 cases read for
a page of 50 in one state). `cases.state` now holds the same value: an AFTER INSERT OR UPDATE OF
state trigger on `case_lifecycle` copies it, whoever writes the lifecycle (the API, the consumer,
a migration, COPY), and existing cases get theirs here. An index on (hub, state, opened_at, id)
makes a state filter an index scan in page order. `case_lifecycle` stays the record of the
lifecycle; `cases.state` is only ever written by the trigger.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_cases_hub_state_opened"
BACKFILL = """
UPDATE "{schema}".cases SET state = lifecycle.state
FROM "{schema}".case_lifecycle AS lifecycle WHERE lifecycle.case_id = cases.id
"""
FOLLOW = """
CREATE FUNCTION "{schema}".case_state_follows_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "{schema}".cases SET state = NEW.state
  WHERE id = NEW.case_id AND state IS DISTINCT FROM NEW.state;
  RETURN NULL;
END $$
"""
TRIGGER = """
CREATE TRIGGER case_state_follows_lifecycle AFTER INSERT OR UPDATE OF state
ON "{schema}".case_lifecycle FOR EACH ROW EXECUTE FUNCTION "{schema}".case_state_follows_lifecycle()
"""


def upgrade() -> None:
    schema = current_schema()
    op.add_column("cases", sa.Column("state", sa.Text(), nullable=True), schema=schema)
    for statement in (BACKFILL, FOLLOW, TRIGGER):
        op.execute(statement.format(schema=schema))
    op.execute(f'CREATE INDEX {INDEX} ON "{schema}".cases (hub_id, state, opened_at DESC, id DESC)')


def downgrade() -> None:
    schema = current_schema()
    op.drop_index(INDEX, "cases", schema=schema)
    op.execute(f'DROP TRIGGER case_state_follows_lifecycle ON "{schema}".case_lifecycle')
    op.execute(f'DROP FUNCTION "{schema}".case_state_follows_lifecycle()')
    op.drop_column("cases", "state", schema=schema)

"""The case's assigned worker kept on `cases` too, so a worker filter reads one index in order.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

`GET /cases?worker=` found the worker's referrals in `worker_assignments`, then the cases; with
`overdue=true` as well the planner read the whole hub's caseload (10,000 cases at 100,000) to
meet the two semi-joins: 5 ms a page. `cases.worker` now holds the assignment's worker, kept by
triggers whoever writes (the API, the consumer, COPY): an assignment written or changed sets it
on the referral's case; a case opened after its referral was assigned takes it on insert. An
index on (hub, worker, opened_at, id) makes the filter an index scan in page order.
`worker_assignments` stays the record; `cases.worker` is only ever written by the triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_cases_hub_worker_opened"
BACKFILL = """
UPDATE "{schema}".cases SET worker = assignment.worker
FROM "{schema}".worker_assignments AS assignment WHERE assignment.referral_id = cases.referral_id
"""
FOLLOW = """
CREATE FUNCTION "{schema}".case_worker_follows_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE "{schema}".cases SET worker = NULL WHERE referral_id = OLD.referral_id;
  ELSE
    UPDATE "{schema}".cases SET worker = NEW.worker
    WHERE referral_id = NEW.referral_id AND worker IS DISTINCT FROM NEW.worker;
  END IF;
  RETURN NULL;
END $$
"""
TRIGGER = """
CREATE TRIGGER case_worker_follows_assignment AFTER INSERT OR UPDATE OF worker OR DELETE
ON "{schema}".worker_assignments FOR EACH ROW
EXECUTE FUNCTION "{schema}".case_worker_follows_assignment()
"""
ON_OPEN = """
CREATE FUNCTION "{schema}".case_worker_on_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.worker := (SELECT worker FROM "{schema}".worker_assignments
                 WHERE referral_id = NEW.referral_id);
  RETURN NEW;
END $$
"""
OPEN_TRIGGER = """
CREATE TRIGGER case_worker_on_open BEFORE INSERT ON "{schema}".cases FOR EACH ROW
EXECUTE FUNCTION "{schema}".case_worker_on_open()
"""


def upgrade() -> None:
    schema = current_schema()
    op.add_column("cases", sa.Column("worker", sa.Text(), nullable=True), schema=schema)
    for statement in (BACKFILL, FOLLOW, TRIGGER, ON_OPEN, OPEN_TRIGGER):
        op.execute(statement.format(schema=schema))
    op.execute(
        f'CREATE INDEX {INDEX} ON "{schema}".cases (hub_id, worker, opened_at DESC, id DESC)'
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_index(INDEX, "cases", schema=schema)
    op.execute(f'DROP TRIGGER case_worker_on_open ON "{schema}".cases')
    op.execute(f'DROP FUNCTION "{schema}".case_worker_on_open()')
    op.execute(f'DROP TRIGGER case_worker_follows_assignment ON "{schema}".worker_assignments')
    op.execute(f'DROP FUNCTION "{schema}".case_worker_follows_assignment()')
    op.drop_column("cases", "worker", schema=schema)

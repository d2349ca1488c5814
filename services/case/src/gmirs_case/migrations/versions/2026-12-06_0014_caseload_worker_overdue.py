"""Caseload filters by assigned worker and by overdue actions: their indexes.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-06

`GET /cases?worker=` finds a worker's referrals through an index on `worker_assignments.worker`
(then each case by its unique `referral_id`). `GET /cases?overdue=true` reads the open tasks due
before today: a partial index holds only the open tasks (done ones are most of them in time), by
hub and due day, with the case id in the index so the heap is not read.
"""

from collections.abc import Sequence

from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    schema = current_schema()
    op.create_index("ix_worker_assignments_worker", "worker_assignments", ["worker"], schema=schema)
    op.execute(
        f'CREATE INDEX ix_case_tasks_open_due ON "{schema}".case_tasks (hub_id, due_on)'
        " INCLUDE (case_id) WHERE done_at IS NULL"
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_index("ix_case_tasks_open_due", "case_tasks", schema=schema)
    op.drop_index("ix_worker_assignments_worker", "worker_assignments", schema=schema)

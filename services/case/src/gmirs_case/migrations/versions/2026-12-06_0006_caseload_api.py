"""The hub API: indexes for the newest-first caseload and its search, and idempotency keys.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Paging walks `(opened_at, id)` newest first, per hub (hub users) or over all hubs (the lead
provider). Search is a prefix of a CRN or reference number, case-insensitive: btree indexes on
`upper(...)` with `text_pattern_ops` serve `LIKE 'X12%'` whatever the database's collation
(pg_trgm, for substring search on names, is an extension this revision does not rely on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.idempotency import create_idempotency_table, drop_idempotency_table
from gmirs_runtime.migrations import current_schema

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEWEST_FIRST = [sa.text("opened_at DESC"), sa.text("id DESC")]


def upgrade() -> None:
    schema = current_schema()
    create_idempotency_table(op, schema)
    op.create_index("ix_cases_hub_newest", "cases", ["hub_id", *_NEWEST_FIRST], schema=schema)
    op.create_index("ix_cases_newest", "cases", _NEWEST_FIRST, schema=schema)
    op.create_index(
        "ix_cases_crn_prefix",
        "cases",
        [sa.text("upper(crn) text_pattern_ops")],
        schema=schema,
    )
    op.create_index(
        "ix_cases_reference_prefix",
        "cases",
        [sa.text("upper(reference_number) text_pattern_ops")],
        schema=schema,
    )


def downgrade() -> None:
    schema = current_schema()
    for index in (
        "ix_cases_reference_prefix",
        "ix_cases_crn_prefix",
        "ix_cases_newest",
        "ix_cases_hub_newest",
    ):
        op.drop_index(index, "cases", schema=schema)
    drop_idempotency_table(op, schema)

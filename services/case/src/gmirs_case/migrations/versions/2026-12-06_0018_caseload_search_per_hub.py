"""A hub's CRN and reference-number search reads only that hub's entries.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

Revision 0006's prefix indexes cover every hub: a hub's search for five characters of a CRN
found the 100 matching cases of all hubs (at 100,000 cases) and then read each to keep its own
ten. The same prefixes behind the hub id find the ten directly; 0006's indexes stay for the
lead provider's search over every hub.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_cases_hub_crn_prefix": "upper(crn) text_pattern_ops",
    "ix_cases_hub_reference_prefix": "upper(reference_number) text_pattern_ops",
}


def upgrade() -> None:
    schema = current_schema()
    for name, expression in INDEXES.items():
        op.create_index(name, "cases", ["hub_id", sa.text(expression)], schema=schema)


def downgrade() -> None:
    schema = current_schema()
    for name in INDEXES:
        op.drop_index(name, "cases", schema=schema)

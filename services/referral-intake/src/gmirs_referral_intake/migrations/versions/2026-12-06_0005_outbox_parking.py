"""The outbox can park a row the relay can never publish, with its reason.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gmirs_runtime.eventing.tables import add_outbox_parking, drop_outbox_parking
from gmirs_runtime.migrations import current_schema

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_parking(op, current_schema())


def downgrade() -> None:
    drop_outbox_parking(op, current_schema())

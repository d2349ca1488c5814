"""The outbox can park a row the relay can never publish, with its reason.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gmirs_runtime.eventing.tables import add_outbox_parking, drop_outbox_parking
from gmirs_runtime.migrations import current_schema

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_parking(op, current_schema())


def downgrade() -> None:
    drop_outbox_parking(op, current_schema())

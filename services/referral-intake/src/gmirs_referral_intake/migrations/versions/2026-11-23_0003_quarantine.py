"""Quarantine (messages that can never be processed as they are) and pending messages (to retry).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

A message is held once while it stays held: a partial unique index on its digest makes a second
arrival of the same text bump `attempts` instead of adding a row. A replayed or discarded message
that arrives again is held afresh. Pending messages are keyed by what identifies a delivery (an
SQS message id, an R&M event identity) so a redelivery updates its row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="held"),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.Text),
        sa.CheckConstraint(
            "source IN ('sqs', 'sns-http', 'bare', 'poller', 'pilot-csv')", name="quarantine_source"
        ),
        sa.CheckConstraint("status IN ('held', 'replayed', 'discarded')", name="quarantine_status"),
        schema=schema,
    )
    op.create_index(
        "quarantine_held_digest",
        "quarantine",
        ["digest"],
        unique=True,
        postgresql_where=sa.text("status = 'held'"),
        schema=schema,
    )
    op.create_index(
        "quarantine_status_last_seen", "quarantine", ["status", "last_seen_at"], schema=schema
    )
    op.create_table(
        "pending_messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column(
            "last_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW
        ),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    op.create_index("pending_messages_due", "pending_messages", ["next_attempt_at"], schema=schema)


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("pending_messages", schema=schema)
    op.drop_table("quarantine", schema=schema)

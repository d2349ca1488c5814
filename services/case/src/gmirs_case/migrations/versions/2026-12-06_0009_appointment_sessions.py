"""Appointments' place (session type, office code, address), moves with history, cancellations,
and group and family sessions with their registers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from gmirs_runtime.migrations import current_schema

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _reference(name: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name,
        sa.Uuid,
        sa.ForeignKey(f"{current_schema()}.{target}.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _place_and_cancellation() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("nps_office_code", sa.Text),
        sa.Column("address", JSONB),
        _ts("cancelled_at", nullable=True),
        sa.Column("cancellation_reason", sa.Text),
        sa.Column("cancellation_note", sa.Text),
    ]


def _history(name: str, owner: str, owner_table: str, *extra: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _reference(owner, owner_table),
        *extra,
        _ts("previous_starts_at"),
        _ts("previous_ends_at"),
        _ts("rescheduled_at"),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        schema=current_schema(),
    )


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "group_sessions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("hub_id", sa.Text, nullable=False, index=True),
        sa.Column("session_type", sa.Text, nullable=False),
        _ts("starts_at"),
        _ts("ends_at"),
        sa.Column("delivery_type", sa.Text, nullable=False),
        *_place_and_cancellation(),
        _ts("created_at"),
        sa.CheckConstraint("ends_at > starts_at", name="group_session_ends_after_start"),
        schema=schema,
    )
    session_type = sa.Column("session_type", sa.Text, nullable=False, server_default="one-to-one")
    for column in [session_type, *_place_and_cancellation()]:
        op.add_column("appointments", column, schema=schema)
    op.add_column(
        "appointments",
        sa.Column(
            "group_session_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.group_sessions.id", ondelete="SET NULL"),
        ),
        schema=schema,
    )
    op.create_index(
        "appointments_one_place_per_session",
        "appointments",
        ["group_session_id", "case_id"],
        unique=True,
        schema=schema,
    )
    _history(
        "appointment_reschedules", "appointment_id", "appointments", _reference("case_id", "cases")
    )
    _history("group_session_reschedules", "group_session_id", "group_sessions")


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("group_session_reschedules", schema=schema)
    op.drop_table("appointment_reschedules", schema=schema)
    op.drop_index("appointments_one_place_per_session", "appointments", schema=schema)
    for column in (
        "group_session_id",
        "cancellation_note",
        "cancellation_reason",
        "cancelled_at",
        "address",
        "nps_office_code",
        "session_type",
    ):
        op.drop_column("appointments", column, schema=schema)
    op.drop_table("group_sessions", schema=schema)

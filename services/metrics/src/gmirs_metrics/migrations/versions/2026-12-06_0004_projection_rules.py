"""What the projections need to stay order independent, and the projection's generation.

- Guard times beside the values that follow the latest (or earliest) fact of a kind, so events
  applied in any order give the same row: which hub holds a case and its state (`hub_seen_at`,
  `state_seen_at`), its closure reason (`closure_settled`, `closure_recorded_at`: a settled
  reason beats a provisional one, then the later one), its outcome counts (`outcomes_from_rm`,
  `outcomes_recorded_at`: R&M's end of service report beats the hub's counts), an
  appointment's times (`times_seen_at`) and an onward referral's outcome
  (`outcome_recorded_at`).
- `case_missed_assessments`: one row per missed initial assessment event, so the count on
  `case_facts` is recomputed, never incremented (a replay cannot count one twice).
- `outcome_assessment_facts.corrected_by`: the assessment that replaces this one (queries use
  the rows with none).
- An onward referral's outcome may arrive before the referral itself: its details may be null.
- `projection_generations`: the Kafka consumer group the live projection reads with; a rebuild
  builds the next generation beside the live tables and switches to it.
- `referrals_by_borough` is gone: the route counts `referral_facts` (a counter could not be
  rebuilt beside the live tables or made idempotent without the inbox).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from gmirs_runtime.migrations import current_schema

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
_GUARDS: dict[str, list[sa.Column[Any]]] = {
    "case_facts": [
        sa.Column("hub_seen_at", TS),
        sa.Column("state_seen_at", TS),
        sa.Column("closure_settled", sa.Boolean),
        sa.Column("closure_recorded_at", TS),
        sa.Column("outcomes_from_rm", sa.Boolean),
        sa.Column("outcomes_recorded_at", TS),
    ],
    "appointment_facts": [sa.Column("times_seen_at", TS)],
    "onward_referral_facts": [sa.Column("outcome_recorded_at", TS)],
    "outcome_assessment_facts": [sa.Column("corrected_by", UUID(as_uuid=True))],
}
_NULLABLE_ONWARD = ("agency", "need", "referred_at", "recorded_at")


def upgrade() -> None:
    schema = current_schema()
    for table, columns in _GUARDS.items():
        for column in columns:
            op.add_column(table, column, schema=schema)
    for name in _NULLABLE_ONWARD:
        op.alter_column("onward_referral_facts", name, nullable=True, schema=schema)
    op.create_index(
        "outcome_assessment_facts_by_corrects",
        "outcome_assessment_facts",
        ["corrects"],
        schema=schema,
    )
    op.create_table(
        "case_missed_assessments",
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "event_id"),
        schema=schema,
    )
    op.create_table(
        "projection_generations",
        sa.Column("consumer_group", sa.Text, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("kafka_group", sa.Text, nullable=False),
        sa.Column("switched_at", TS, nullable=False, server_default=sa.func.now()),
        schema=schema,
    )
    op.drop_table("referrals_by_borough", schema=schema)


def downgrade() -> None:
    schema = current_schema()
    op.create_table(
        "referrals_by_borough",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("referrals", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("month", "hub_id"),
        schema=schema,
    )
    op.drop_table("projection_generations", schema=schema)
    op.drop_table("case_missed_assessments", schema=schema)
    op.drop_index("outcome_assessment_facts_by_corrects", "outcome_assessment_facts", schema=schema)
    for name in _NULLABLE_ONWARD:
        op.alter_column("onward_referral_facts", name, nullable=False, schema=schema)
    for table, columns in _GUARDS.items():
        for column in columns:
            op.drop_column(table, column.name, schema=schema)

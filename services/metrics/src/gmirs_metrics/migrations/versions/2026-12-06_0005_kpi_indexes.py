"""Indexes for the KPI queries: each measure's cohort is "its clock started in the month", so
each starting moment gets an index, and the per-case lookups (a case's baseline, a correction's
original) get theirs. Without them a month's KPIs scan every fact table (measured in
tests/bench/test_metrics_kpis.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("case_facts_by_assessed", "case_facts", ["initial_assessment_attended_at"]),
    ("case_facts_by_plan_agreed", "case_facts", ["action_plan_agreed_at"]),
    ("case_facts_by_plan_approved", "case_facts", ["action_plan_approved_at"]),
    ("case_facts_by_commenced", "case_facts", ["intervention_commenced_at"]),
    ("case_facts_by_sessions_completed", "case_facts", ["sessions_completed_at"]),
    ("contact_facts_by_occurred", "contact_facts", ["occurred_at"]),
    ("appointment_facts_by_ends", "appointment_facts", ["ends_at"]),
    ("outcome_assessment_facts_by_stage", "outcome_assessment_facts", ["stage", "occurred_at"]),
    ("evidence_request_facts_by_requested", "evidence_request_facts", ["requested_at"]),
)


BASELINES = "outcome_assessment_facts_baselines"
"""A case's baselines in time order, with their ids: DS4's first baseline and distance
travelled's baseline are one index probe each (index-only once vacuumed)."""


def upgrade() -> None:
    schema = current_schema()
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, schema=schema)
    op.create_index(
        BASELINES,
        "outcome_assessment_facts",
        ["case_id", "occurred_at", "recorded_at"],
        schema=schema,
        postgresql_where=sa.text("stage = 'baseline'"),
        postgresql_include=["assessment_id"],
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_index(BASELINES, table_name="outcome_assessment_facts", schema=schema)
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table, schema=schema)

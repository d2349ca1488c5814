"""Covering indexes for the KPI queries: each month's statement reads only that month's index
entries (an index-only scan once autovacuum has marked the pages all-visible), never the heap.

Each index that 0005 (or 0003) made on a measure's starting moment is replaced by one with the
same key and name that also carries the columns its measures read (the hub, the step that ends
the window, the closure), so the count of indexes a write maintains stays the same. Measured
with tests/bench/test_metrics_kpis.py: a month's cohort of 20,000 cases read through the plain
index costs one heap page visit per case; through these, a few hundred index pages.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from gmirs_runtime.migrations import current_schema

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSURE = ["hub_id", "case_id", "closed_at", "closure_reason"]
"""What every case-level window measure reads besides its two moments (kpi_windows.py)."""

COVERING: tuple[tuple[str, str, str, list[str]], ...] = (
    (
        "case_facts_by_sent",
        "case_facts",
        "referral_sent_at",
        [*_CLOSURE, "initial_assessment_attended_at"],
    ),
    (
        "case_facts_by_assessed",
        "case_facts",
        "initial_assessment_attended_at",
        [
            *_CLOSURE,
            "action_plan_shared_at",
            "action_plan_agreed_at",
            "intervention_commenced_at",
        ],
    ),
    (
        "case_facts_by_plan_agreed",
        "case_facts",
        "action_plan_agreed_at",
        [*_CLOSURE, "action_plan_agreed_recorded_at", "action_plan_shared_at"],
    ),
    (
        "case_facts_by_plan_approved",
        "case_facts",
        "action_plan_approved_at",
        [*_CLOSURE, "intervention_commenced_at"],
    ),
    (
        "case_facts_by_commenced",
        "case_facts",
        "intervention_commenced_at",
        [*_CLOSURE, "referral_sent_at"],
    ),
    (
        "case_facts_by_sessions_completed",
        "case_facts",
        "sessions_completed_at",
        [*_CLOSURE, "exit_survey_offered_at"],
    ),
    (
        "case_facts_by_closed",
        "case_facts",
        "closed_at",
        [
            "hub_id",
            "closure_reason",
            "rm_withdrawal_code",
            "referral_sent_at",
            "action_plan_approved_at",
            "intervention_commenced_at",
            "outcomes_achieved",
            "outcomes_partially_achieved",
        ],
    ),
    (
        "contact_facts_by_occurred",
        "contact_facts",
        "occurred_at",
        ["hub_id", "successful", "recorded_at"],
    ),
    (
        "appointment_facts_by_ends",
        "appointment_facts",
        "ends_at",
        ["hub_id", "cancelled_at", "attendance_recorded_at"],
    ),
    ("referral_facts_by_sent", "referral_facts", "sent_at", ["hub_id"]),
)
"""(name, table, key, included columns)."""


def upgrade() -> None:
    schema = current_schema()
    for name, table, key, included in COVERING:
        op.drop_index(name, table_name=table, schema=schema)
        op.create_index(name, table, [key], schema=schema, postgresql_include=included)


def downgrade() -> None:
    schema = current_schema()
    for name, table, key, _ in COVERING:
        op.drop_index(name, table_name=table, schema=schema)
        op.create_index(name, table, [key], schema=schema)

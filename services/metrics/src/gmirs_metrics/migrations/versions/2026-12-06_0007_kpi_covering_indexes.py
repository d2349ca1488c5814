"""Covering indexes for the KPI queries, and two KPI inputs kept beside their facts, so each
month's statement reads only that month's index entries (an index-only scan once autovacuum has
marked the pages all-visible): no heap page per case, no index probe per case.

- `case_facts.first_baseline_at` (DS4's step) and, on exit assessments, the change from the
  case's baseline per outcome area (`changed_areas`, `self_changes`, `staff_changes`) and its
  mean over those areas (`self_mean`, `staff_mean`): distance travelled. The projection settles them after each batch (`adapters/kpi_inputs.py`); this
  revision fills them for the facts already there, with the same statements.

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

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from gmirs_runtime.migrations import current_schema

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
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
            "first_baseline_at",
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
        [*_CLOSURE, "referral_sent_at", "first_baseline_at"],
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
MITIGATIONS = "mitigation_facts_by_case"
"""0003's (case_id), now (case_id, measure): the late cases' mitigation lookups are index-only."""
"""(name, table, key, included columns)."""


EXITS = "outcome_assessment_facts_by_stage"
"""0005's (stage, occurred_at), now carrying what distance travelled reads of a month's exits."""
_CHANGES = (
    ("changed_areas", ARRAY(sa.Text)),
    ("self_changes", ARRAY(sa.Integer)),
    ("staff_changes", ARRAY(sa.Integer)),
    ("self_mean", sa.Numeric),
    ("staff_mean", sa.Numeric),
)
EXIT_COLUMNS = ["case_id", "hub_id", "assessment_id", "recorded_at", *(c for c, _ in _CHANGES)]

FIRST_BASELINES = """
UPDATE case_facts AS c SET first_baseline_at = f.first_at
FROM (SELECT case_id, min(occurred_at) AS first_at FROM outcome_assessment_facts
      WHERE stage = 'baseline' GROUP BY case_id) AS f
WHERE c.case_id = f.case_id
"""

EXIT_CHANGES = """
WITH baselines AS (
  SELECT DISTINCT ON (b.case_id) b.case_id, b.assessment_id
  FROM outcome_assessment_facts AS b
  WHERE b.stage = 'baseline'
    AND NOT EXISTS (SELECT 1 FROM outcome_assessment_facts AS r WHERE r.corrects = b.assessment_id)
  ORDER BY b.case_id, b.occurred_at, b.recorded_at
), changes AS (
  SELECT xs.assessment_id,
         array_agg(xs.area ORDER BY xs.area) AS areas,
         array_agg(xs.self_score - bs.self_score ORDER BY xs.area) AS self_changes,
         array_agg(xs.staff_score - bs.staff_score ORDER BY xs.area) AS staff_changes,
         avg(xs.self_score - bs.self_score) AS self_mean,
         avg(xs.staff_score - bs.staff_score) AS staff_mean
  FROM outcome_assessment_facts AS x
  JOIN baselines AS b ON b.case_id = x.case_id
  JOIN outcome_score_facts AS xs ON xs.assessment_id = x.assessment_id
  JOIN outcome_score_facts AS bs ON bs.assessment_id = b.assessment_id AND bs.area = xs.area
  WHERE x.stage = 'exit'
  GROUP BY xs.assessment_id
)
UPDATE outcome_assessment_facts AS a
SET changed_areas = d.areas, self_changes = d.self_changes, staff_changes = d.staff_changes,
    self_mean = d.self_mean, staff_mean = d.staff_mean
FROM changes AS d WHERE a.assessment_id = d.assessment_id
"""
"""The projection's statements (adapters/kpi_inputs.py) over every case at once, as they stood
at this revision."""


def upgrade() -> None:
    schema = current_schema()
    op.add_column("case_facts", sa.Column("first_baseline_at", TS), schema=schema)
    for name, pg_type in _CHANGES:
        op.add_column("outcome_assessment_facts", sa.Column(name, pg_type), schema=schema)
    op.execute(FIRST_BASELINES)
    op.execute(EXIT_CHANGES)
    for name, table, key, included in COVERING:
        op.drop_index(name, table_name=table, schema=schema)
        op.create_index(name, table, [key], schema=schema, postgresql_include=included)
    op.drop_index(MITIGATIONS, table_name="mitigation_facts", schema=schema)
    op.create_index(MITIGATIONS, "mitigation_facts", ["case_id", "measure"], schema=schema)
    op.drop_index(EXITS, table_name="outcome_assessment_facts", schema=schema)
    op.create_index(
        EXITS,
        "outcome_assessment_facts",
        ["stage", "occurred_at"],
        schema=schema,
        postgresql_include=EXIT_COLUMNS,
    )


def downgrade() -> None:
    schema = current_schema()
    op.drop_index(EXITS, table_name="outcome_assessment_facts", schema=schema)
    op.create_index(EXITS, "outcome_assessment_facts", ["stage", "occurred_at"], schema=schema)
    op.drop_index(MITIGATIONS, table_name="mitigation_facts", schema=schema)
    op.create_index(MITIGATIONS, "mitigation_facts", ["case_id"], schema=schema)
    for name, table, key, _ in COVERING:
        op.drop_index(name, table_name=table, schema=schema)
        op.create_index(name, table, [key], schema=schema)
    for name, _ in _CHANGES:
        op.drop_column("outcome_assessment_facts", name, schema=schema)
    op.drop_column("case_facts", "first_baseline_at", schema=schema)

"""KPI inputs kept beside the facts they come from, so a month's KPIs read a few thousand rows
instead of probing an index once per case (migration 0007):

- `case_facts.first_baseline_at`: the case's earliest baseline outcome assessment (DS4's step;
  corrected ones included, as DS4 always counted them);
- on each exit assessment, the change from the case's baseline for each outcome area scored at
  both (`changed_areas`, `self_changes`, `staff_changes`, aligned and in area order); the
  baseline is the case's earliest one not replaced by a correction (distance travelled,
  MEASURES.md); and the person's mean change over those areas (`self_mean`, `staff_mean`: the
  same `avg` the query used to take per person). Null when the case has no baseline yet.

Both are recomputed from the rows present for the cases a write touched, never incremented, so
a fact arriving late, twice or out of order (an exit before its baseline, an assessment before
its case) settles to the same values: the projection's `FactWriter` runs them after every batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SOME_CASES = "SELECT DISTINCT unnest(CAST(:ids AS uuid[])) AS case_id"
EVERY_CASE = "SELECT case_id FROM case_facts"

_FIRST_BASELINES = """
UPDATE case_facts AS c SET first_baseline_at = f.first_at
FROM (
  SELECT o.case_id, min(o.occurred_at) AS first_at FROM outcome_assessment_facts AS o
  WHERE o.stage = 'baseline' AND o.case_id IN ({cases})
  GROUP BY o.case_id
) AS f
WHERE c.case_id = f.case_id AND c.first_baseline_at IS DISTINCT FROM f.first_at
"""
"""Only cases with a baseline are touched: facts are never deleted, so a case's earliest
baseline can only appear or move earlier (a case row written before any baseline keeps null)."""

_EXIT_CHANGES = """
WITH cases AS ({cases}), baselines AS (
  SELECT DISTINCT ON (b.case_id) b.case_id, b.assessment_id
  FROM outcome_assessment_facts AS b JOIN cases AS k ON k.case_id = b.case_id
  WHERE b.stage = 'baseline'
    AND NOT EXISTS (SELECT 1 FROM outcome_assessment_facts AS r WHERE r.corrects = b.assessment_id)
  ORDER BY b.case_id, b.occurred_at, b.recorded_at
), changes AS (
  SELECT x.assessment_id, d.areas, d.self_changes, d.staff_changes, d.self_mean, d.staff_mean
  FROM outcome_assessment_facts AS x JOIN cases AS k ON k.case_id = x.case_id
  LEFT JOIN baselines AS b ON b.case_id = x.case_id
  LEFT JOIN LATERAL (
    SELECT array_agg(xs.area ORDER BY xs.area) AS areas,
           array_agg(xs.self_score - bs.self_score ORDER BY xs.area) AS self_changes,
           array_agg(xs.staff_score - bs.staff_score ORDER BY xs.area) AS staff_changes,
           avg(xs.self_score - bs.self_score) AS self_mean,
           avg(xs.staff_score - bs.staff_score) AS staff_mean
    FROM outcome_score_facts AS xs
    JOIN outcome_score_facts AS bs ON bs.assessment_id = b.assessment_id AND bs.area = xs.area
    WHERE xs.assessment_id = x.assessment_id
  ) AS d ON TRUE
  WHERE x.stage = 'exit'
)
UPDATE outcome_assessment_facts AS a
SET changed_areas = d.areas, self_changes = d.self_changes, staff_changes = d.staff_changes,
    self_mean = d.self_mean, staff_mean = d.staff_mean
FROM changes AS d
WHERE a.assessment_id = d.assessment_id
  AND (a.changed_areas, a.self_changes, a.staff_changes, a.self_mean, a.staff_mean)
      IS DISTINCT FROM (d.areas, d.self_changes, d.staff_changes, d.self_mean, d.staff_mean)
"""


def first_baselines_sql(cases: str = SOME_CASES) -> str:
    """Settle `first_baseline_at` for `cases` (a query of case ids: SOME_CASES binds `ids`)."""
    return _FIRST_BASELINES.format(cases=cases)


def exit_changes_sql(cases: str = SOME_CASES) -> str:
    """Settle the exit assessments' changes for `cases` (SOME_CASES binds `ids`)."""
    return _EXIT_CHANGES.format(cases=cases)


_SETTLE_FIRST_BASELINES = text(first_baselines_sql())
_SETTLE_EXIT_CHANGES = text(exit_changes_sql())


async def settle_kpi_inputs(
    session: AsyncSession, *, cases: Sequence[uuid.UUID], assessed: Sequence[uuid.UUID]
) -> None:
    """Recompute the inputs above: first baselines for `cases` (their rows or their
    assessments were written), exit changes for `assessed` (their assessments were)."""
    if cases:
        await session.execute(_SETTLE_FIRST_BASELINES, {"ids": list(cases)})
    if assessed:
        await session.execute(_SETTLE_EXIT_CHANGES, {"ids": list(assessed)})

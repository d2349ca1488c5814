"""SQL for the 24-hour non-attendance report KPI and distance travelled (MEASURES.md).

Reports belong to the month they fell due in (`due_at`, London time); distance travelled to the
month of the case's exit assessment. Both per hub and overall (`all`).
"""

from __future__ import annotations

from gmirs_metrics.domain.kpi_readings import KpiReadings

REPORT_TIMES = """
SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
       count(*) AS due,
       count(*) FILTER (WHERE within_deadline) AS completed_in_time,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds_taken) AS p50,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY seconds_taken) AS p95,
       max(seconds_taken) AS max,
       count(*) FILTER (WHERE escalated_at IS NOT NULL) AS escalations
FROM report_facts
WHERE due_at >= :month_start AND due_at < :month_end
GROUP BY GROUPING SETS ((hub_id), ())
"""

REPORT_BREACHES = """
SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
       coalesce(breach_cause, 'unknown') AS cause, count(*) AS breaches
FROM report_facts
WHERE due_at >= :month_start AND due_at < :month_end AND breached_at IS NOT NULL
GROUP BY GROUPING SETS ((hub_id, coalesce(breach_cause, 'unknown')),
                        (coalesce(breach_cause, 'unknown')))
"""

_SCORE = {
    "self": "{s}.self_score",
    "staff": "{s}.staff_score",
    "mean": "({s}.self_score + {s}.staff_score) / 2.0",
}


_CURRENT = "{a}.assessment_id NOT IN (SELECT assessment_id FROM corrected)"
"""Not replaced by a correction. Corrections are few: their ids are read once (the index on
`corrects` skips the nulls) and hashed; a NOT EXISTS per row became an anti join reading every
assessment ever made. The LATERAL lookups (OFFSET 0 keeps them from being flattened into hash
joins over every score) probe indexes per exit instead (measured at 200,000 cases)."""


def distance_sql(readings: KpiReadings) -> str:
    """(area, outcome_area, people, mean_change): per outcome area, and `overall` as each
    person's mean change over the areas scored at both baseline and exit, averaged."""
    exit_score = _SCORE[readings.distance_score].format(s="xs")
    base_score = _SCORE[readings.distance_score].format(s="bs")
    # Fixed fragments only (the readings pick among them); no input reaches this text.
    return f"""
    WITH corrected AS MATERIALIZED (
      SELECT corrects AS assessment_id FROM outcome_assessment_facts WHERE corrects IS NOT NULL
    ), exits AS MATERIALIZED (
      SELECT DISTINCT ON (a.case_id) a.case_id, a.hub_id, a.assessment_id
      FROM outcome_assessment_facts a
      WHERE a.stage = 'exit' AND a.occurred_at >= :month_start AND a.occurred_at < :month_end
        AND {_CURRENT.format(a="a")}
      ORDER BY a.case_id, a.occurred_at DESC, a.recorded_at DESC
    ), pairs AS MATERIALIZED (
      SELECT e.case_id, e.hub_id, e.assessment_id AS exit_id, b.assessment_id AS baseline_id
      FROM exits e
      CROSS JOIN LATERAL (
        SELECT b.assessment_id FROM outcome_assessment_facts b
        WHERE b.case_id = e.case_id AND b.stage = 'baseline' AND {_CURRENT.format(a="b")}
        ORDER BY b.occurred_at, b.recorded_at LIMIT 1
      ) AS b
    ), changes AS (
      SELECT p.case_id, p.hub_id, xs.area AS outcome_area, ({exit_score}) - ({base_score}) AS change
      FROM pairs p
      CROSS JOIN LATERAL (
        SELECT * FROM outcome_score_facts s WHERE s.assessment_id = p.exit_id OFFSET 0
      ) AS xs
      CROSS JOIN LATERAL (
        SELECT * FROM outcome_score_facts s WHERE s.assessment_id = p.baseline_id OFFSET 0
      ) AS bs
      WHERE bs.area = xs.area
    ), people AS (
      SELECT case_id, hub_id, avg(change) AS change FROM changes GROUP BY case_id, hub_id
    )
    SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area, outcome_area,
           count(*) AS people, avg(change)::float8 AS mean_change
    FROM changes GROUP BY GROUPING SETS ((hub_id, outcome_area), (outcome_area))
    UNION ALL
    SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END, 'overall',
           count(*), avg(change)::float8
    FROM people GROUP BY GROUPING SETS ((hub_id), ())
    """  # noqa: S608

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

_CHANGE = {
    "self": ("u.self_change", "e.self_mean"),
    "staff": ("u.staff_change", "e.staff_mean"),
    "mean": ("(u.self_change + u.staff_change) / 2.0", "(e.self_mean + e.staff_mean) / 2.0"),
}
"""An area's change and a person's mean change under each reading of the score: exit minus
baseline, of the PoP's own score, the staff's, or their mean ((xs + xt) / 2 - (bs + bt) / 2 is
(self change + staff change) / 2, and so is its mean over the areas)."""


_CURRENT = "{a}.assessment_id NOT IN (SELECT assessment_id FROM corrected)"
"""Not replaced by a correction. Corrections are few: their ids are read once (the index on
`corrects` skips the nulls) and hashed."""


def distance_sql(readings: KpiReadings) -> str:
    """Per hub and outcome area, and `overall`, the mean change of the month's exits.

    Each exit assessment carries its change from the case's baseline per area scored at both,
    and the person's mean over them (settled by the projection: adapters/kpi_inputs.py), so the
    month reads its exits' index entries and nothing else: each case's latest exit in the month
    that no correction replaced. An area's mean is its changes' sum over their count, per hub
    then summed for `all` (the same numeric division `avg` makes). With no exits at all, `all`
    still has its `overall` row, of no people."""
    change, person = _CHANGE[readings.distance_score]
    # Fixed fragments only (the readings pick among them); no input reaches this text.
    return f"""
    WITH corrected AS MATERIALIZED (
      SELECT corrects AS assessment_id FROM outcome_assessment_facts WHERE corrects IS NOT NULL
    ), exits AS MATERIALIZED (
      SELECT DISTINCT ON (a.case_id) a.hub_id, a.changed_areas, a.self_changes,
             a.staff_changes, a.self_mean, a.staff_mean
      FROM outcome_assessment_facts a
      WHERE a.stage = 'exit' AND a.occurred_at >= :month_start AND a.occurred_at < :month_end
        AND {_CURRENT.format(a="a")}
      ORDER BY a.case_id, a.occurred_at DESC, a.recorded_at DESC
    ), areas AS (
      SELECT hub_id, unnest(changed_areas) AS area,
             unnest(self_changes) AS self_change, unnest(staff_changes) AS staff_change
      FROM exits
    ), per_area AS (
      SELECT u.hub_id, u.area, count(*) AS n, sum({change}) AS total
      FROM areas u GROUP BY u.hub_id, u.area
    ), per_hub AS (
      SELECT e.hub_id, count(*) AS n, sum({person}) AS total
      FROM exits e WHERE e.self_mean IS NOT NULL GROUP BY e.hub_id
    )
    SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
           area AS outcome_area, sum(n) AS people, (sum(total) / sum(n))::float8 AS mean_change
    FROM per_area GROUP BY GROUPING SETS ((hub_id, area), (area))
    UNION ALL
    SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END, 'overall',
           coalesce(sum(n), 0), (sum(total) / sum(n))::float8
    FROM per_hub GROUP BY GROUPING SETS ((hub_id), ())
    """  # noqa: S608

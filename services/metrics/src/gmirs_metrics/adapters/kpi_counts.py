"""The KPIs that are counts over a month rather than windows: DS1, DS5, KP4, PM001, SL002.

Each statement answers (area, numerator, denominator, mitigated, pending, excluded) per hub
and `all`, the shape of the window measures (kpi_windows.py). MEASURES.md quotes each
definition.
"""

from __future__ import annotations

from gmirs_metrics.domain.kpi_readings import KpiReadings

AREA = "CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area"
PER_HUB = "GROUP BY GROUPING SETS ((hub_id), ())"

DS1 = """
SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area, count(*) AS numerator,
       0 AS denominator, 0 AS mitigated, 0 AS pending, 0 AS excluded
FROM referral_facts
WHERE sent_at >= :month_start AND sent_at < :month_end AND hub_id IS NOT NULL
GROUP BY GROUPING SETS ((hub_id), ())
"""
"""Referrals R&M sent in the month, per hub; the denominator is the hub's target (settings).
Referrals not yet routed to a hub count only in `all` (added by the caller)."""

DS1_UNROUTED = """
SELECT count(*) FROM referral_facts
WHERE sent_at >= :month_start AND sent_at < :month_end AND hub_id IS NULL
"""

KP4 = """
SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
       count(*) FILTER (WHERE answered_at IS NOT NULL AND answered_at < due_at) AS numerator,
       count(*) FILTER (WHERE answered_at IS NOT NULL OR due_at <= :now) AS denominator,
       0 AS mitigated,
       count(*) FILTER (WHERE answered_at IS NULL AND due_at > :now) AS pending,
       0 AS excluded
FROM (SELECT coalesce(hub_id, 'lead-provider') AS hub_id, answered_at, due_at
      FROM evidence_request_facts
      WHERE requested_at >= :month_start AND requested_at < :month_end) AS requests
GROUP BY GROUPING SETS ((hub_id), ())
"""
"""Evidence requested in the month; in time when answered before case's `due_at` (case works
the working day out, with its cut-off). Unanswered and not yet due: pending."""

PM001 = """
SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
       coalesce(sum(numerator), 0) AS numerator, coalesce(sum(denominator), 0) AS denominator,
       0 AS mitigated, 0 AS pending, 0 AS excluded
FROM (SELECT hub_id, count(*) AS numerator, 0 AS denominator
      FROM case_facts
      WHERE intervention_commenced_at >= :month_start AND intervention_commenced_at < :month_end
      GROUP BY hub_id
      UNION ALL
      SELECT hub_id, 0, count(*) FROM case_facts
      WHERE referral_sent_at >= :month_start AND referral_sent_at < :month_end
      GROUP BY hub_id) AS counts
GROUP BY GROUPING SETS ((hub_id), ())
"""
"""Starts: interventions commenced (ICA) in the month, beside the month's referrals (each arm
counts one of the two: a case sent and started in the month is in each once)."""

# SL002's negative end reasons, used below: ('DIS', 'END', 'NOT', 'SEE').
"""End reasons counted against the provider when no ICA happened: the technical note's
"Negative" rows (DIS disengaged, END sentence ended) and R&M's current codes for the same
(NOT not engaged, SEE sentence expired). Every other code, or none, is neutral."""

SL002 = """
WITH ended AS (
  SELECT hub_id,
         intervention_commenced_at IS NOT NULL AND intervention_commenced_at <= closed_at
           AS started,
         action_plan_approved_at IS NOT NULL AS plan_approved,
         coalesce(upper(rm_withdrawal_code) IN ('DIS', 'END', 'NOT', 'SEE')
                  OR (rm_withdrawal_code IS NULL AND closure_reason IN ('disengaged', 'declined')),
                  FALSE) AS negative_reason,
         closed_at - referral_sent_at < interval '25 hours'
           AND (closed_at AT TIME ZONE 'Europe/London')::date
               = (referral_sent_at AT TIME ZONE 'Europe/London')::date AS same_day
  FROM case_facts
  WHERE closed_at >= :month_start AND closed_at < :month_end
), judged AS (
  SELECT hub_id, started,
         NOT started AND (NOT plan_approved OR NOT negative_reason) AS neutral
  FROM ended WHERE started OR NOT same_day
)
SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area, count(*) FILTER (WHERE started) AS numerator,
       count(*) FILTER (WHERE NOT neutral) AS denominator,
       0 AS mitigated, 0 AS pending, count(*) FILTER (WHERE neutral) AS excluded
FROM judged GROUP BY GROUPING SETS ((hub_id), ())
"""
"""a / (b - c) x 100 over referrals that ended in the month; `excluded` is c (neutralised).
The 25-hour test spares most rows the time zone conversion (a London day is at most 25 hours)."""


def ds5_sql(readings: KpiReadings) -> str:
    """PoP on programme (intervention commenced) whose case closed in the month; met when at
    least one desired outcome was achieved (or partly, if the reading counts it)."""
    achieved = "coalesce(outcomes_achieved, 0)"
    if readings.ds5_counts_partial:
        achieved += " + coalesce(outcomes_partially_achieved, 0)"
    # Fixed fragments only (the reading picks one); no input reaches this text.
    return f"""
    SELECT {AREA}, count(*) FILTER (WHERE {achieved} > 0) AS numerator,
           count(*) AS denominator, 0 AS mitigated, 0 AS pending, 0 AS excluded
    FROM case_facts
    WHERE closed_at >= :month_start AND closed_at < :month_end
      AND intervention_commenced_at IS NOT NULL
    {PER_HUB}
    """  # noqa: S608

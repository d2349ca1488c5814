"""The KPIs that ask "did step B follow step A within N working days" (DS2-DS4, KP1-KP3, KP5,
KP6), as SQL over the fact tables: one statement per measure, grouped per hub and overall.

The statements are built from fixed fragments chosen by `KpiReadings` (never from input). Each
row of a measure's cohort (its clock started in the month) is one of:
- met: B happened before the London midnight that ends the deadline day of A's London date
  (kpi_calendar.py: the same test as comparing London dates, without converting every row);
- excluded: B never happened and the case closed for a reason outside the provider's control
  (withdrawn by the PP, ended in R&M) or was found unsuitable (inappropriate, signposted);
- pending: B has not happened, the case is open, and `now` is still within the window (not
  yet a failure);
- mitigated: B is late or missing and the hub recorded a mitigation for this measure
  ("inclusive of mitigation"): counted as met, or left out, as `KpiReadings.mitigation` says;
- failed: anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from gmirs_metrics.domain.kpi_readings import KpiReadings

OUTSIDE_PROVIDER = "('withdrawn', 'ended-in-rm', 'inappropriate', 'signposted-elsewhere')"


@dataclass(frozen=True)
class WindowMeasure:
    code: str
    source: str
    """FROM clause; the row alias is `c`."""
    start: str
    end: str
    window: int
    where: str = "TRUE"
    mitigation: str | None = None
    """The measure a recorded mitigation names (DS2, KP6), if the KPI is inclusive of it."""
    case_level: bool = True
    """Rows are cases (closure exclusions apply), not contacts or appointments."""


def _both(first: str, second: str) -> str:
    """The later of two moments, or null until both have happened."""
    return f"CASE WHEN {first} IS NULL OR {second} IS NULL THEN NULL ELSE greatest({first}, {second}) END"


def _first_baseline() -> str:
    return (
        "(SELECT min(o.occurred_at) FROM outcome_assessment_facts o"
        " WHERE o.case_id = c.case_id AND o.stage = 'baseline')"
    )


def window_measures(readings: KpiReadings) -> list[WindowMeasure]:
    """The window KPIs under `readings` (MEASURES.md gives each one's words and reading)."""
    assessed = "c.initial_assessment_attended_at"
    kp2_end = (
        _both("c.action_plan_agreed_recorded_at", "c.action_plan_shared_at")
        if readings.kp2_shared_within_window
        else "c.action_plan_agreed_recorded_at"
    )
    return [
        WindowMeasure("DS2", "case_facts c", "c.referral_sent_at", assessed, 10, mitigation="DS2"),
        WindowMeasure(
            "DS3", "case_facts c", assessed, f"c.action_plan_{readings.ds3_plan_milestone}_at", 5
        ),
        WindowMeasure(
            "DS4",
            "case_facts c",
            assessed
            if readings.ds4_starts_at == "initial-assessment"
            else "c.intervention_commenced_at",
            _first_baseline(),
            10,
        ),
        WindowMeasure(
            "KP1",
            "contact_facts c",
            "c.occurred_at",
            "c.recorded_at",
            1,
            where="c.successful",
            case_level=False,
        ),
        WindowMeasure("KP2", "case_facts c", "c.action_plan_agreed_at", kp2_end, 1),
        WindowMeasure(
            "KP3",
            "appointment_facts c",
            "c.ends_at",
            "c.attendance_recorded_at",
            1,
            where="c.cancelled_at IS NULL",
            case_level=False,
        ),
        WindowMeasure(
            "KP5", "case_facts c", "c.sessions_completed_at", "c.exit_survey_offered_at", 1
        ),
        WindowMeasure(
            "KP6",
            "case_facts c",
            assessed
            if readings.kp6_starts_at == "initial-assessment"
            else "c.action_plan_approved_at",
            "c.intervention_commenced_at",
            10,
            mitigation="KP6",
        ),
    ]


def window_sql(measure: WindowMeasure, readings: KpiReadings) -> str:
    """One statement: (area, numerator, denominator, mitigated, pending, excluded) per hub
    and `all`."""
    mitigated = (
        "EXISTS (SELECT 1 FROM mitigation_facts m"  # noqa: S608 (a fixed measure code)
        f" WHERE m.case_id = k.case_id AND m.measure = '{measure.mitigation}')"
        if measure.mitigation
        else "FALSE"
    )
    excluded = (
        f"c.closed_at IS NOT NULL AND c.closure_reason IN {OUTSIDE_PROVIDER}"
        if measure.case_level
        else "FALSE"
    )
    closed = "c.closed_at IS NOT NULL" if measure.case_level else "FALSE"
    counted = "TRUE" if readings.mitigation == "counts-as-met" else "FALSE"
    # Fixed fragments only (the readings pick among them); no input reaches this text.
    return f"""
    WITH bounds AS (
      SELECT CAST(:day_starts AS timestamptz[]) AS day_starts,
             CAST(:in_time_before_{measure.window} AS timestamptz[]) AS in_time_before
    ), cohort AS MATERIALIZED (
      SELECT c.case_id, c.hub_id, b.in_time_before[width_bucket({measure.start}, b.day_starts)]
               AS in_time_before,
             {measure.end} AS end_at, {excluded} AS excluded, {closed} AS closed
      FROM {measure.source} CROSS JOIN bounds b
      WHERE {measure.start} >= :month_start AND {measure.start} < :month_end AND {measure.where}
    ), outcome AS (
      SELECT k.hub_id,
             CASE WHEN k.end_at IS NOT NULL AND k.end_at < k.in_time_before THEN 'met'
                  WHEN k.end_at IS NULL AND k.excluded THEN 'excluded'
                  WHEN k.end_at IS NULL AND NOT k.closed
                       AND CAST(:now AS timestamptz) < k.in_time_before THEN 'pending'
                  WHEN {mitigated} THEN 'mitigated'
                  ELSE 'failed' END AS verdict
      FROM cohort k
    )
    SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
           count(*) FILTER (WHERE verdict = 'met' OR (verdict = 'mitigated' AND {counted}))
             AS numerator,
           count(*) FILTER (WHERE verdict IN ('met', 'failed')
                            OR (verdict = 'mitigated' AND {counted})) AS denominator,
           count(*) FILTER (WHERE verdict = 'mitigated') AS mitigated,
           count(*) FILTER (WHERE verdict = 'pending') AS pending,
           count(*) FILTER (WHERE verdict = 'excluded') AS excluded
    FROM outcome GROUP BY GROUPING SETS ((hub_id), ())
    """  # noqa: S608

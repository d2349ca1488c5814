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
            "c.first_baseline_at",
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
    and `all`.

    Each cohort row gets a verdict number (1 met, 2 excluded, 3 pending, 4 mitigated, 5 failed)
    and the rows are counted per (hub, verdict) in one pass; the five figures are then summed
    from those few dozen counts. A mitigation is looked up (one index probe) only for a row
    that is late or missing: OFFSET 0 keeps the planner from hashing every mitigation ever
    recorded instead."""
    mitigated = (
        "EXISTS (SELECT 1 FROM mitigation_facts m"  # noqa: S608 (a fixed measure code)
        f" WHERE m.case_id = c.case_id AND m.measure = '{measure.mitigation}' OFFSET 0)"
        if measure.mitigation
        else "FALSE"
    )
    excluded = (
        f"c.closed_at IS NOT NULL AND c.closure_reason IN {OUTSIDE_PROVIDER}"
        if measure.case_level
        else "FALSE"
    )
    closed = "c.closed_at IS NOT NULL" if measure.case_level else "FALSE"
    case_id = ", c.case_id" if measure.mitigation else ""
    counted = "4" if readings.mitigation == "counts-as-met" else "0"
    deadline = f"b.in_time_before[width_bucket({measure.start}, b.day_starts)]"
    # Fixed fragments only (the readings pick among them); no input reaches this text.
    return f"""
    WITH bounds AS (
      SELECT CAST(:day_starts AS timestamptz[]) AS day_starts,
             CAST(:in_time_before_{measure.window} AS timestamptz[]) AS in_time_before
    ), cohort AS (
      SELECT c.hub_id, {measure.end} AS end_at, {deadline} AS in_time_before,
             {excluded} AS excluded, {closed} AS closed{case_id}
      FROM {measure.source} CROSS JOIN bounds b
      WHERE {measure.start} >= :month_start AND {measure.start} < :month_end AND {measure.where}
      OFFSET 0
    ), verdicts AS (
      SELECT c.hub_id,
             CASE WHEN c.end_at IS NOT NULL AND c.end_at < c.in_time_before THEN 1
                  WHEN c.end_at IS NULL AND c.excluded THEN 2
                  WHEN c.end_at IS NULL AND NOT c.closed
                       AND CAST(:now AS timestamptz) < c.in_time_before THEN 3
                  WHEN {mitigated} THEN 4
                  ELSE 5 END AS verdict,
             count(*) AS n
      FROM cohort c GROUP BY 1, 2
    )
    SELECT CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
           coalesce(sum(n) FILTER (WHERE verdict IN (1, {counted})), 0) AS numerator,
           coalesce(sum(n) FILTER (WHERE verdict IN (1, 5, {counted})), 0) AS denominator,
           coalesce(sum(n) FILTER (WHERE verdict = 4), 0) AS mitigated,
           coalesce(sum(n) FILTER (WHERE verdict = 3), 0) AS pending,
           coalesce(sum(n) FILTER (WHERE verdict = 2), 0) AS excluded
    FROM verdicts GROUP BY GROUPING SETS ((hub_id), ())
    """  # noqa: S608

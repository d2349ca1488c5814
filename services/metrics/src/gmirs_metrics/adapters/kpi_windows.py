"""The KPIs that ask "did step B follow step A within N working days" (DS2-DS4, KP1-KP3, KP5,
KP6), as SQL over the fact tables: one statement per cohort (measures whose clocks start at the
same moment share one, e.g. DS3, DS4 and KP6 at the initial assessment), grouped per hub and
overall.

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


def window_groups(readings: KpiReadings) -> list[list[WindowMeasure]]:
    """The window measures grouped by cohort (the same rows, from the same starting moment),
    in the order they are declared: one statement, so one index range read, per group."""
    groups: dict[tuple[str, str, str], list[WindowMeasure]] = {}
    for measure in window_measures(readings):
        groups.setdefault((measure.source, measure.start, measure.where), []).append(measure)
    return list(groups.values())


def _verdict(measure: WindowMeasure, i: int) -> str:
    """1 met, 2 excluded, 3 pending, 4 mitigated, 5 failed (module docstring)."""
    end, due = f"c.end_{i}", f"c.due_{measure.window}"
    mitigated = (
        "EXISTS (SELECT 1 FROM mitigation_facts m"  # noqa: S608 (a fixed measure code)
        f" WHERE m.case_id = c.case_id AND m.measure = '{measure.mitigation}' OFFSET 0)"
        if measure.mitigation
        else "FALSE"
    )
    return f"""CASE WHEN {end} IS NOT NULL AND {end} < {due} THEN 1
                  WHEN {end} IS NULL AND c.excluded THEN 2
                  WHEN {end} IS NULL AND NOT c.closed AND CAST(:now AS timestamptz) < {due} THEN 3
                  WHEN {mitigated} THEN 4
                  ELSE 5 END"""


def _figures(measure: WindowMeasure, i: int, readings: KpiReadings) -> str:
    counted = "4" if readings.mitigation == "counts-as-met" else "0"
    return f"""
    SELECT '{measure.code}' AS code,
           CASE WHEN GROUPING(hub_id) = 1 THEN 'all' ELSE hub_id END AS area,
           coalesce(sum(n) FILTER (WHERE v{i} IN (1, {counted})), 0) AS numerator,
           coalesce(sum(n) FILTER (WHERE v{i} IN (1, 5, {counted})), 0) AS denominator,
           coalesce(sum(n) FILTER (WHERE v{i} = 4), 0) AS mitigated,
           coalesce(sum(n) FILTER (WHERE v{i} = 3), 0) AS pending,
           coalesce(sum(n) FILTER (WHERE v{i} = 2), 0) AS excluded
    FROM verdicts GROUP BY GROUPING SETS ((hub_id), ())"""  # noqa: S608 (fixed fragments)


def window_sql(measures: list[WindowMeasure], readings: KpiReadings) -> str:
    """One statement for measures sharing a cohort: (code, area, numerator, denominator,
    mitigated, pending, excluded) per measure, hub and `all`.

    Each cohort row gets a verdict number per measure and the rows are counted per (hub,
    verdicts) in one pass; each measure's figures are then summed from those few dozen counts.
    A mitigation is looked up (one index probe) only for a row that is late or missing: OFFSET
    0 keeps the planner from hashing every mitigation ever recorded instead."""
    first = measures[0]
    windows = sorted({m.window for m in measures})
    arrays = "".join(
        f", CAST(:in_time_before_{w} AS timestamptz[]) AS in_time_before_{w}" for w in windows
    )
    dues = "".join(
        f", b.in_time_before_{w}[width_bucket({first.start}, b.day_starts)] AS due_{w}"
        for w in windows
    )
    ends = "".join(f", {m.end} AS end_{i}" for i, m in enumerate(measures))
    excluded = (
        f"c.closed_at IS NOT NULL AND c.closure_reason IN {OUTSIDE_PROVIDER}"
        if first.case_level
        else "FALSE"
    )
    closed = "c.closed_at IS NOT NULL" if first.case_level else "FALSE"
    case_id = ", c.case_id" if any(m.mitigation for m in measures) else ""
    verdicts = "".join(f", {_verdict(m, i)} AS v{i}" for i, m in enumerate(measures))
    keys = "".join(f", v{i}" for i in range(len(measures)))
    figures = "\n    UNION ALL".join(_figures(m, i, readings) for i, m in enumerate(measures))
    # Fixed fragments only (the readings pick among them); no input reaches this text.
    return f"""
    WITH bounds AS (
      SELECT CAST(:day_starts AS timestamptz[]) AS day_starts{arrays}
    ), cohort AS (
      SELECT c.hub_id{ends}{dues},
             {excluded} AS excluded, {closed} AS closed{case_id}
      FROM {first.source} CROSS JOIN bounds b
      WHERE {first.start} >= :month_start AND {first.start} < :month_end AND {first.where}
      OFFSET 0
    ), verdicts AS MATERIALIZED (
      SELECT c.hub_id{verdicts}, count(*) AS n
      FROM cohort c GROUP BY c.hub_id{keys}
    ){figures}
    """  # noqa: S608

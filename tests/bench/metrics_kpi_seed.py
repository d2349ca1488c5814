"""Seed the metrics fact tables with `cases` synthetic cases in SQL (generate_series), spread
evenly over `months` months from `start`: a referral and a case each, one contact and one
appointment per case, a baseline for most and an exit for those who finished (three outcome
areas each), a mitigation for one case in twenty, an evidence request for one in a hundred and
a 24-hour report for one in five. Milestones follow each other at varied gaps, some missing, so
every KPI has met, late, pending and excluded cases. No row names a person."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.adapters.kpi_inputs import EVERY_CASE, exit_changes_sql, first_baselines_sql

HUBS = "ARRAY[" + ", ".join(f"'{hub}'" for hub in HUB_IDS) + "]"
DAY = "interval '1 day'"

_SERIES = """
  SELECT i, $1::timestamptz + (i * $2::float8 / $3::int) * interval '1 second' AS sent
  FROM generate_series(1, $3::int) AS i
"""

CASES = f"""
INSERT INTO case_facts (case_id, referral_id, hub_id, referral_sent_at,
  initial_assessment_attended_at, action_plan_agreed_at, action_plan_agreed_recorded_at,
  action_plan_shared_at, action_plan_approved_at, intervention_commenced_at,
  sessions_completed_at, exit_survey_offered_at, closed_at, closure_reason, rm_withdrawal_code,
  outcomes_achieved, outcomes_partially_achieved)
SELECT md5('c' || i)::uuid, md5('r' || i)::uuid, ({HUBS})[1 + i % 10], sent,
  assessed, agreed, agreed + interval '2 hours', agreed + (i % 3) * {DAY},
  agreed + (i % 3 + 1) * {DAY}, commenced, completed, completed + (i % 3) * {DAY},
  CASE WHEN i % 8 = 0 THEN sent + 30 * {DAY} ELSE completed + 5 * {DAY} END,
  CASE WHEN i % 8 = 0 THEN (ARRAY['withdrawn', 'disengaged', 'ended-in-rm', 'declined'])[1 + i / 8 % 4]
       WHEN completed IS NOT NULL THEN 'completed' END,
  CASE WHEN i % 8 = 0 THEN (ARRAY['DIS', 'MOV', 'PPJ', NULL])[1 + i / 8 % 4] END,
  i % 3, i % 2
FROM ({_SERIES}) AS g,
LATERAL (SELECT CASE WHEN i % 20 <> 0 THEN sent + (i % 15) * {DAY} END AS assessed) AS a,
LATERAL (SELECT assessed + (i % 7) * {DAY} AS agreed) AS p,
LATERAL (SELECT CASE WHEN i % 8 <> 0 THEN agreed + (i % 3 + 1 + i % 12) * {DAY} END AS commenced)
  AS s,
LATERAL (SELECT CASE WHEN i % 5 <> 0 THEN commenced + 60 * {DAY} END AS completed) AS c
"""

REFERRALS = f"""
INSERT INTO referral_facts (referral_id, source, hub_id, sent_at, received_at, from_rm,
  service_categories)
SELECT md5('r' || i)::uuid, 'refer-and-monitor', ({HUBS})[1 + i % 10], sent,
  sent + interval '1 minute', TRUE, ARRAY['emotional-wellbeing']
FROM ({_SERIES}) AS g
"""

CONTACTS = f"""
INSERT INTO contact_facts (contact_id, case_id, hub_id, method, outcome, successful,
  occurred_at, recorded_at)
SELECT md5('t' || i)::uuid, md5('c' || i)::uuid, ({HUBS})[1 + i % 10], 'phone', 'spoke',
  i % 6 <> 0, sent + 2 * {DAY}, sent + (2 + i % 3) * {DAY}
FROM ({_SERIES}) AS g
"""

APPOINTMENTS = f"""
INSERT INTO appointment_facts (appointment_id, case_id, hub_id, kind, starts_at, ends_at,
  cancelled_at, attendance_recorded_at)
SELECT md5('a' || i)::uuid, md5('c' || i)::uuid, ({HUBS})[1 + i % 10], 'session',
  sent + 10 * {DAY}, sent + 10 * {DAY} + interval '1 hour',
  CASE WHEN i % 25 = 0 THEN sent END,
  CASE WHEN i % 9 <> 0 THEN sent + (10 + i % 3) * {DAY} END
FROM ({_SERIES}) AS g
"""

ASSESSMENTS = f"""
INSERT INTO outcome_assessment_facts (assessment_id, case_id, hub_id, stage, occurred_at,
  recorded_at)
SELECT md5(stage || i)::uuid, md5('c' || i)::uuid, ({HUBS})[1 + i % 10], stage, at, at
FROM ({_SERIES}) AS g,
LATERAL (VALUES ('baseline', sent + (i % 15 + i % 12) * {DAY}),
                ('exit', CASE WHEN i % 8 <> 0 AND i % 5 <> 0 THEN sent + 100 * {DAY} END))
  AS v(stage, at)
WHERE i % 20 <> 0 AND at IS NOT NULL
"""

SCORES = """
INSERT INTO outcome_score_facts (assessment_id, area, self_score, staff_score)
SELECT a.assessment_id, area, 1 + (hashtext(a.assessment_id::text || area) & 7),
  1 + (hashtext(area || a.assessment_id::text) & 7)
FROM outcome_assessment_facts a,
  unnest(ARRAY['physical-health', 'drugs-and-alcohol', 'meaningful-use-of-time']) AS area
"""

MITIGATIONS = f"""
INSERT INTO mitigation_facts (mitigation_id, case_id, hub_id, measure, reason, occurred_at,
  recorded_at)
SELECT md5('m' || i)::uuid, md5('c' || i)::uuid, ({HUBS})[1 + i % 10],
  CASE WHEN i % 40 = 0 THEN 'KP6' ELSE 'DS2' END, 'pop-unwell', sent + {DAY}, sent + {DAY}
FROM ({_SERIES}) AS g WHERE i % 20 = 0
"""

EVIDENCE = f"""
INSERT INTO evidence_request_facts (request_id, hub_id, requested_at, counted_from, due_at,
  answered_at, on_time)
SELECT md5('e' || i)::uuid, ({HUBS})[1 + i % 10], sent, sent::date, sent + {DAY},
  sent + (i % 3) * interval '18 hours', i % 3 < 2
FROM ({_SERIES}) AS g WHERE i % 100 = 0
"""

REPORTS = f"""
INSERT INTO report_facts (report_id, case_id, hub_id, origin, appointment_ends_at, due_at,
  acknowledged_at, channel, seconds_taken, within_deadline, escalated_at, escalation_cause,
  breached_at, breach_cause)
SELECT md5('n' || i)::uuid, md5('c' || i)::uuid, ({HUBS})[1 + i % 10], 'hub', sent,
  sent + {DAY}, CASE WHEN i % 50 <> 0 THEN sent + (i % 3600) * interval '1 second' END, 'webhook',
  CASE WHEN i % 50 <> 0 THEN i % 3600 END, i % 50 <> 0,
  CASE WHEN i % 25 = 0 THEN sent + interval '20 hours' END,
  CASE WHEN i % 25 = 0 THEN 'failing' END,
  CASE WHEN i % 50 = 0 THEN sent + {DAY} END,
  CASE WHEN i % 50 = 0 THEN (ARRAY['failing', 'not-attempted', 'refused'])[1 + i / 50 % 3] END
FROM ({_SERIES}) AS g WHERE i % 5 = 0
"""

STATEMENTS = (
    CASES,
    REFERRALS,
    CONTACTS,
    APPOINTMENTS,
    ASSESSMENTS,
    SCORES,
    MITIGATIONS,
    EVIDENCE,
    REPORTS,
)


SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename LIKE '%_facts'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
"""


async def seed(conn: asyncpg.Connection, cases: int, start: datetime, seconds: float) -> None:
    """Fill every fact table (see the module docstring), then VACUUM ANALYZE them (the steady
    state autovacuum keeps: statistics, and the visibility map that lets the baseline lookups be
    index-only). The KPI inputs the projection settles after each batch (adapters/kpi_inputs.py)
    are settled once, by the same statements over every case. The migrations' secondary indexes are dropped first and built again after (the same definitions): building
    an index once is far faster than maintaining it row by row through a million inserts."""
    indexes = await conn.fetch(SECONDARY_INDEXES)
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    for statement in STATEMENTS:
        if "$1" in statement:
            await conn.execute(statement, start, seconds, cases)
        else:
            await conn.execute(statement)
    await conn.execute("ANALYZE")  # fresh tables: the settles' plans need their sizes
    for settle in (first_baselines_sql(EVERY_CASE), exit_changes_sql(EVERY_CASE)):
        await conn.execute(settle)  # what the projection's writer settles after each batch
    for index in indexes:
        await conn.execute(index["indexdef"])
    await conn.execute("VACUUM ANALYZE")

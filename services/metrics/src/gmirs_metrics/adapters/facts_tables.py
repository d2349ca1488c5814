"""The fact tables of migrations 0003 and 0004 as the projections write them: key and merge rules.

`provider_activity` is not here: the lead provider and the hubs enter it through the API, it
comes from no event, so a rebuild keeps it as it is.
"""

from __future__ import annotations

from gmirs_metrics.adapters.facts_rules import Column, FactTable, Rule

UUID, TEXT, TS, INT, BOOL, DATE = "uuid", "text", "timestamptz", "int4", "bool", "date"
TEXT_ARRAY = "text[]"

E, L, BL, BE = Rule.EARLIEST, Rule.LATEST, Rule.BY_LATEST, Rule.BY_EARLIEST


def _keep(*names: str, pg_type: str = TEXT) -> tuple[Column, ...]:
    return tuple(Column(n, pg_type) for n in names)


def _earliest(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, TS, E) for n in names)


def _following(guard: tuple[str, ...], rule: Rule, *columns: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, pg_type, rule, guard) for name, pg_type in columns)


REFERRALS = FactTable(
    "referral_facts",
    ("referral_id",),
    (
        Column("referral_id", UUID),
        *_keep("source", "hub_id", "probation_delivery_unit", "complexity", "gender", "ethnicity"),
        *_keep("current_location"),
        *_earliest("sent_at", "received_at"),
        *_keep("from_rm", "has_disability", "needs_interpreter", pg_type=BOOL),
        Column("service_categories", TEXT_ARRAY),
    ),
)

CASE_MILESTONES = (
    "opened_at",
    "allocated_at",
    "first_contact_at",
    "first_contact_recorded_at",
    "initial_assessment_booked_at",
    "initial_assessment_attended_at",
    "initial_assessment_recorded_at",
    "needs_assessed_at",
    "action_plan_agreed_at",
    "action_plan_agreed_recorded_at",
    "action_plan_shared_at",
    "action_plan_shared_recorded_at",
    "action_plan_approved_at",
    "intervention_commenced_at",
    "sessions_completed_at",
    "exit_survey_offered_at",
    "exit_survey_offered_recorded_at",
    "exit_survey_completed_at",
    "exit_survey_declined_at",
    "closed_at",
)
_HUB = ("hub_seen_at",)
_STATE = ("state_seen_at",)
_CLOSURE = ("closure_settled", "closure_recorded_at")
_OUTCOMES = ("outcomes_from_rm", "outcomes_recorded_at")

CASES = FactTable(
    "case_facts",
    ("case_id",),
    (
        Column("case_id", UUID),
        Column("referral_id", UUID),
        Column("probation_delivery_unit", TEXT),
        *_following(_HUB, BL, ("hub_id", TEXT), ("hub_seen_at", TS)),
        *_earliest("referral_sent_at", *CASE_MILESTONES),
        *_following(_STATE, BL, ("state", TEXT), ("state_seen_at", TS)),
        *_following(
            _CLOSURE,
            BL,
            ("closure_reason", TEXT),
            ("rm_withdrawal_code", TEXT),
            ("rm_delivery_state", TEXT),
            ("closure_settled", BOOL),
            ("closure_recorded_at", TS),
        ),
        *_following(
            _OUTCOMES,
            BL,
            ("outcomes_achieved", INT),
            ("outcomes_partially_achieved", INT),
            ("outcomes_not_achieved", INT),
            ("outcomes_from_rm", BOOL),
            ("outcomes_recorded_at", TS),
        ),
    ),
)

MISSED_ASSESSMENTS = FactTable(
    "case_missed_assessments",
    ("case_id", "event_id"),
    (Column("case_id", UUID), Column("event_id", UUID)),
)

CONTACTS = FactTable(
    "contact_facts",
    ("contact_id",),
    (
        Column("contact_id", UUID),
        Column("case_id", UUID),
        *_keep("hub_id", "method", "outcome"),
        Column("successful", BOOL),
        *_earliest("occurred_at", "recorded_at"),
    ),
)

_TIMES = ("times_seen_at",)
_ATTENDANCE = ("attendance_recorded_at",)
_CANCELLED = ("cancelled_at",)

APPOINTMENTS = FactTable(
    "appointment_facts",
    ("appointment_id",),
    (
        Column("appointment_id", UUID),
        Column("case_id", UUID),
        *_keep("hub_id", "kind", "session_type"),
        Column("session_number", INT),
        *_following(_TIMES, BL, ("starts_at", TS), ("ends_at", TS), ("times_seen_at", TS)),
        *_earliest("booked_at", "cancelled_at"),
        *_following(_CANCELLED, BE, ("cancellation_reason", TEXT)),
        *_following(
            _ATTENDANCE,
            BL,
            ("attended", TEXT),
            ("non_attendance", BOOL),
            ("attendance_source", TEXT),
        ),
        Column("attendance_recorded_at", TS, L),
    ),
)

ASSESSMENTS = FactTable(
    "outcome_assessment_facts",
    ("assessment_id",),
    (
        Column("assessment_id", UUID),
        Column("case_id", UUID),
        *_keep("hub_id", "stage"),
        Column("corrects", UUID),
        *_earliest("occurred_at", "recorded_at"),
    ),
)

SCORES = FactTable(
    "outcome_score_facts",
    ("assessment_id", "area"),
    (
        Column("assessment_id", UUID),
        Column("area", TEXT),
        *_keep("self_score", "staff_score", pg_type=INT),
    ),
)

MITIGATIONS = FactTable(
    "mitigation_facts",
    ("mitigation_id",),
    (
        Column("mitigation_id", UUID),
        Column("case_id", UUID),
        *_keep("hub_id", "measure", "reason"),
        *_earliest("occurred_at", "recorded_at"),
    ),
)

_OUTCOME = ("outcome_recorded_at",)

ONWARD_REFERRALS = FactTable(
    "onward_referral_facts",
    ("onward_referral_id",),
    (
        Column("onward_referral_id", UUID),
        Column("case_id", UUID),
        *_keep("hub_id", "agency", "need"),
        *_earliest("referred_at", "recorded_at"),
        *_following(_OUTCOME, BL, ("outcome", TEXT), ("outcome_recorded_at", TS)),
    ),
)

_ANSWERED = ("answered_at",)

EVIDENCE_REQUESTS = FactTable(
    "evidence_request_facts",
    ("request_id",),
    (
        Column("request_id", UUID),
        Column("hub_id", TEXT),
        Column("case_id", UUID),
        *_earliest("requested_at", "due_at", "answered_at"),
        Column("counted_from", DATE),
        *_following(_ANSWERED, BE, ("on_time", BOOL), ("answered_by_hub", BOOL)),
    ),
)

_ACKNOWLEDGED, _ESCALATED, _BREACHED = ("acknowledged_at",), ("escalated_at",), ("breached_at",)

REPORTS = FactTable(
    "report_facts",
    ("report_id",),
    (
        Column("report_id", UUID),
        Column("case_id", UUID),
        *_keep("hub_id", "origin"),
        *_earliest("appointment_ends_at", "due_at", "acknowledged_at", "escalated_at"),
        Column("breached_at", TS, E),
        *_following(
            _ACKNOWLEDGED,
            BE,
            ("channel", TEXT),
            ("seconds_taken", INT),
            ("within_deadline", BOOL),
        ),
        *_following(_ESCALATED, BE, ("escalation_cause", TEXT)),
        *_following(_BREACHED, BE, ("breach_cause", TEXT)),
    ),
)

FACT_TABLES = (
    REFERRALS,
    CASES,
    MISSED_ASSESSMENTS,
    CONTACTS,
    APPOINTMENTS,
    ASSESSMENTS,
    SCORES,
    MITIGATIONS,
    ONWARD_REFERRALS,
    EVIDENCE_REQUESTS,
    REPORTS,
)
"""Every table a projection writes (all rebuilt from the events)."""

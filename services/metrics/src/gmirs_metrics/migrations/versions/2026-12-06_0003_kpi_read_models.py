"""The KPI read models: one row per referral and per case, and the facts the KPIs count.

Each table is keyed by the id its events carry, so applying an event twice, or out of order,
lands in the same row (projections upsert; a milestone keeps its earliest time). Only what the
measures need: no names, no CRN, no dates of birth, no free text.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from gmirs_runtime.migrations import current_schema

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _referrals(schema: str) -> None:
    op.create_table(
        "referral_facts",
        sa.Column("referral_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("hub_id", sa.Text),
        sa.Column("probation_delivery_unit", sa.Text),
        sa.Column("sent_at", TS, nullable=False, comment="When the PP sent it (R&M's time)."),
        sa.Column("received_at", TS, nullable=False, comment="When intake received it."),
        sa.Column("from_rm", sa.Boolean, nullable=False),
        sa.Column("complexity", sa.Text, comment="The highest complexity of its categories."),
        sa.Column("service_categories", ARRAY(sa.Text), nullable=False),
        sa.Column("gender", sa.Text),
        sa.Column("ethnicity", sa.Text),
        sa.Column("has_disability", sa.Boolean),
        sa.Column("needs_interpreter", sa.Boolean),
        sa.Column("current_location", sa.Text),
        schema=schema,
    )
    op.create_index("referral_facts_by_sent", "referral_facts", ["sent_at"], schema=schema)


def _cases(schema: str) -> None:
    milestones = [
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
    ]
    op.create_table(
        "case_facts",
        sa.Column("case_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("referral_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False, comment="The hub holding it now."),
        sa.Column("probation_delivery_unit", sa.Text),
        sa.Column("referral_sent_at", TS),
        *(sa.Column(name, TS) for name in milestones),
        sa.Column("initial_assessments_missed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.Text, comment="The latest lifecycle state seen."),
        sa.Column("closure_reason", sa.Text),
        sa.Column("rm_withdrawal_code", sa.Text),
        sa.Column("rm_delivery_state", sa.Text),
        sa.Column("outcomes_achieved", sa.Integer),
        sa.Column("outcomes_partially_achieved", sa.Integer),
        sa.Column("outcomes_not_achieved", sa.Integer),
        schema=schema,
    )
    op.create_index("case_facts_by_referral", "case_facts", ["referral_id"], schema=schema)
    op.create_index("case_facts_by_sent", "case_facts", ["referral_sent_at"], schema=schema)
    op.create_index("case_facts_by_closed", "case_facts", ["closed_at"], schema=schema)


def _per_case_facts(schema: str) -> None:
    op.create_table(
        "contact_facts",
        sa.Column("contact_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("successful", sa.Boolean, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        schema=schema,
    )
    op.create_table(
        "appointment_facts",
        sa.Column("appointment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("session_type", sa.Text),
        sa.Column("session_number", sa.Integer),
        sa.Column("starts_at", TS),
        sa.Column("ends_at", TS),
        sa.Column("booked_at", TS),
        sa.Column("cancelled_at", TS),
        sa.Column("cancellation_reason", sa.Text),
        sa.Column("attended", sa.Text, comment="yes / late / no, R&M's vocabulary."),
        sa.Column("non_attendance", sa.Boolean),
        sa.Column("attendance_source", sa.Text),
        sa.Column("attendance_recorded_at", TS),
        schema=schema,
    )
    op.create_table(
        "outcome_assessment_facts",
        sa.Column("assessment_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("corrects", UUID(as_uuid=True), comment="The assessment this one replaces."),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        schema=schema,
    )
    op.create_table(
        "outcome_score_facts",
        sa.Column("assessment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("area", sa.Text, nullable=False),
        sa.Column("self_score", sa.Integer, nullable=False),
        sa.Column("staff_score", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", "area"),
        schema=schema,
    )
    op.create_table(
        "mitigation_facts",
        sa.Column("mitigation_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("measure", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        schema=schema,
    )
    op.create_table(
        "onward_referral_facts",
        sa.Column("onward_referral_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("agency", sa.Text, nullable=False),
        sa.Column("need", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("referred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        schema=schema,
    )
    for table in ("contact_facts", "appointment_facts", "outcome_assessment_facts"):
        op.create_index(f"{table}_by_case", table, ["case_id"], schema=schema)
    op.create_index("mitigation_facts_by_case", "mitigation_facts", ["case_id"], schema=schema)


def _service_facts(schema: str) -> None:
    op.create_table(
        "evidence_request_facts",
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("hub_id", sa.Text, comment="Null when asked of the lead provider."),
        sa.Column("case_id", UUID(as_uuid=True)),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("counted_from", sa.Date, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("answered_at", TS),
        sa.Column("on_time", sa.Boolean),
        sa.Column("answered_by_hub", sa.Boolean),
        schema=schema,
    )
    op.create_table(
        "report_facts",
        sa.Column("report_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("case_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("appointment_ends_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS),
        sa.Column("channel", sa.Text),
        sa.Column("seconds_taken", sa.Integer),
        sa.Column("within_deadline", sa.Boolean),
        sa.Column("escalated_at", TS),
        sa.Column("escalation_cause", sa.Text),
        sa.Column("breached_at", TS),
        sa.Column("breach_cause", sa.Text),
        schema=schema,
    )
    op.create_index("report_facts_by_due", "report_facts", ["due_at"], schema=schema)
    op.create_table(
        "provider_activity",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("hub_id", sa.Text, nullable=False, comment="A hub, or the lead provider."),
        sa.Column("measure", sa.Text, nullable=False),
        sa.Column("value", sa.Numeric(14, 2), nullable=False),
        sa.Column("entered_by", sa.Text, nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("month", "hub_id", "measure"),
        schema=schema,
    )


def upgrade() -> None:
    schema = current_schema()
    _referrals(schema)
    _cases(schema)
    _per_case_facts(schema)
    _service_facts(schema)


TABLES = (
    "provider_activity",
    "report_facts",
    "evidence_request_facts",
    "onward_referral_facts",
    "mitigation_facts",
    "outcome_score_facts",
    "outcome_assessment_facts",
    "appointment_facts",
    "contact_facts",
    "case_facts",
    "referral_facts",
)


def downgrade() -> None:
    schema = current_schema()
    for table in TABLES:
        op.drop_table(table, schema=schema)

"""notify's tables (schema `notify`, reached through the connection's search_path).

Core tables rather than ORM classes: the dispatcher's claim is one hand-written statement, and
the repositories map rows to domain objects explicitly.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_client_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text),
    Column("event_types", ARRAY(Text), nullable=False),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text),
    _ts("previous_secret_expires_at"),
    Column("active", Boolean, nullable=False),
    _ts("created_at", nullable=False),
    _ts("deactivated_at"),
    Column("deactivation_reason", Text),
    Column("enabled", Boolean, nullable=False),
    Column("hub_ids", ARRAY(Text), nullable=False),
    Column("pdu_codes", ARRAY(Text), nullable=False),
    Column("partner", Text),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subscription_id", Uuid, ForeignKey("subscriptions.id"), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("case_id", Uuid, nullable=False),
    Column("appointment_id", Uuid),
    Column("event_type", Text, nullable=False),
    Column("body", JSONB, nullable=False),
    _ts("due_at", nullable=False),
    _ts("created_at", nullable=False),
    _ts("next_attempt_at", nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", Text, nullable=False),
    _ts("last_attempt_at"),
    Column("last_status", Integer),
    Column("last_error_class", Text),
    _ts("acknowledged_at"),
    _ts("escalated_at"),
    Column("traceparent", Text),
    Column("tracestate", Text),
    Column("failure_reason", Text),
    _ts("failed_at"),
    _ts("redelivered_at"),
    UniqueConstraint("subscription_id", "event_id", name="uq_deliveries_subscription_event"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("delivery_id", Uuid, ForeignKey("deliveries.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    _ts("at", nullable=False),
    Column("status_code", Integer),
    Column("error_class", Text),
    Column("duration_ms", Integer, nullable=False),
    Column("manual", Boolean, nullable=False),
    PrimaryKeyConstraint("delivery_id", "attempt", name="pk_delivery_attempts"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("case_id", Uuid, nullable=False),
    Column("appointment_id", Uuid, nullable=False),
    Column("rm_appointment_id", Uuid),
    Column("referral_id", Uuid, nullable=False),
    Column("rm_referral_id", Uuid),
    Column("hub_id", Text, nullable=False),
    Column("reference_number", Text),
    Column("origin", Text, nullable=False),
    _ts("appointment_ends_at", nullable=False),
    _ts("due_at", nullable=False),
    _ts("created_at", nullable=False),
    _ts("acknowledged_at"),
    Column("acknowledged_channel", Text),
    _ts("escalated_at"),
    Column("escalation_cause", Text),
    Column("escalation_detail", Text),
    _ts("escalation_notified_at"),
    _ts("escalation_email_retry_at"),
    _ts("breached_at"),
    Column("breach_cause", Text),
    Column("breach_detail", Text),
    _ts("next_check_at"),
    Column("email_notification_id", Text),
    _ts("email_next_at"),
    UniqueConstraint("case_id", "appointment_id", name="uq_reports_case_appointment"),
)

practitioners = Table(
    "practitioners",
    metadata,
    Column("referral_id", Uuid, primary_key=True),
    Column("email", Text, nullable=False),
    _ts("recorded_at", nullable=False),
)

report_attempts = Table(
    "report_attempts",
    metadata,
    Column("report_id", Uuid, ForeignKey("reports.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    _ts("at", nullable=False),
    Column("result", Text, nullable=False),
    Column("detail", Text),
    PrimaryKeyConstraint("report_id", "seq", name="pk_report_attempts"),
)

case_facts = Table(
    "case_facts",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("probation_delivery_unit", Text, nullable=False),
    Column("crn", Text, nullable=False),
    Column("reference_number", Text),
)

appointment_sessions = Table(
    "appointment_sessions",
    metadata,
    Column("appointment_id", Uuid, primary_key=True),
    Column("session_number", Integer),
)

consents = Table(
    "consents",
    metadata,
    Column("consent_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("partner", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    _ts("given_at", nullable=False),
    _ts("withdrawn_at"),
)

skipped_events = Table(
    "skipped_events",
    metadata,
    Column("subscription_id", Uuid, nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("case_id", Uuid, nullable=False),
    Column("reason", Text, nullable=False),
    _ts("at", nullable=False),
    PrimaryKeyConstraint("subscription_id", "event_id", name="pk_skipped_events"),
)

attendance_watches = Table(
    "attendance_watches",
    metadata,
    Column("appointment_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("referral_id", Uuid, nullable=False),
    Column("hub_id", Text, nullable=False),
    Column("appointment_kind", Text, nullable=False),
    _ts("ends_at", nullable=False),
    _ts("changed_at", nullable=False),
    Column("state", Text, nullable=False),
    _ts("warned_at"),
    _ts("closed_at"),
    _ts("email_sent_at"),
    _ts("email_retry_at"),
)

DELIVERIES_CHANNEL = "gmirs_deliveries"


def deliveries_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which new deliveries wake the schema's dispatchers."""
    return f"{DELIVERIES_CHANNEL}_{schema}"

"""The metrics projection: every consumed event's facts, folded per row and written per batch.

`project` is the batch handler the consumer calls with a fetch's new events (the inbox has
dropped the duplicates); each event type's mapper says what it tells about which rows, and the
rules in `adapters.facts_tables` merge them, so the result does not depend on batch boundaries or
on the order the events arrive in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gmirs_contracts import case, case_appointments, intake, notify
from gmirs_contracts.base import ContractModel
from gmirs_contracts.case_evidence import EvidenceRequestAnswered, EvidenceRequested
from gmirs_contracts.case_exit_survey import ExitSurveyCompleted, ExitSurveyDeclined
from gmirs_contracts.case_kpi import MitigationRecorded
from gmirs_contracts.case_needs import (
    ContactAttempted,
    OnwardReferralMade,
    OnwardReferralOutcomeRecorded,
    OutcomeAssessmentRecorded,
)
from gmirs_contracts.registry import contract_for
from gmirs_metrics.adapters.facts_rules import Fact, fold
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.projections import activity, cases, referrals, service_levels
from gmirs_runtime.eventing.batch_consumer import HandlesBatches, Parsed
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.subscriptions import ConsumedType

Mapper = Callable[[Any, Event], list[Fact]]

GROUP = "metrics"
"""The projection's consumer group: its inbox rows and its dead-letter and retry topics."""
TOPICS = (intake.TOPIC, case.TOPIC, notify.TOPIC)

MAPPERS: dict[type[ContractModel], Mapper] = {
    intake.ReferralReceived: referrals.referral_received,
    case.CaseOpened: cases.case_opened,
    **dict.fromkeys(cases.LIFECYCLE, cases.lifecycle_moved),
    ExitSurveyCompleted: cases.exit_survey_completed,
    ExitSurveyDeclined: cases.exit_survey_declined,
    case.AppointmentBooked: activity.appointment_booked,
    case_appointments.AppointmentRescheduled: activity.appointment_changed,
    case_appointments.AppointmentCancelled: activity.appointment_changed,
    case_appointments.AppointmentLinked: activity.appointment_changed,
    case.AttendanceRecorded: activity.attendance_recorded,
    ContactAttempted: activity.contact_attempted,
    OutcomeAssessmentRecorded: activity.outcome_assessment_recorded,
    MitigationRecorded: activity.mitigation_recorded,
    OnwardReferralMade: activity.onward_referral_made,
    OnwardReferralOutcomeRecorded: activity.onward_referral_outcome,
    EvidenceRequested: service_levels.evidence_requested,
    EvidenceRequestAnswered: service_levels.evidence_answered,
    notify.ReportAcknowledged: service_levels.report_acknowledged,
    notify.ReportEscalated: service_levels.report_escalated,
    notify.ReportBreached: service_levels.report_breached,
}
"""Per payload model, what its event tells the fact tables."""


def contracts() -> list[ConsumedType[ContractModel]]:
    """The event types the projection consumes (the rest of the topics is ignored)."""
    return [contract_for(model) for model in MAPPERS]


def facts_of(items: Sequence[tuple[Any, Event]]) -> list[Fact]:
    """Every fact the events tell, in order."""
    return [fact for payload, event in items for fact in MAPPERS[type(payload)](payload, event)]


async def project(items: Sequence[Parsed], uow: MetricsUnitOfWork) -> None:
    """The batch handler: fold the new events' facts per row and upsert them."""
    await uow.facts.write(fold(facts_of([(item.payload, item.event) for item in items])))


def handles() -> HandlesBatches[MetricsUnitOfWork]:
    return HandlesBatches(contracts(), project)

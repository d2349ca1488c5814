"""Which model and schema file belong to each CloudEvents type and webhook payload.

Producers look up the topic and the `dataschema` URI here; tests use it to check that the models,
the JSON Schema files and asyncapi.yaml all describe the same set of events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from gmirs_contracts import (
    case,
    case_appointments,
    case_evidence,
    case_exit_survey,
    case_kpi,
    case_lifecycle,
    case_needs,
    case_people,
    intake,
    intake_progress,
    notify,
    webhooks,
)
from gmirs_contracts.base import ContractModel

M = TypeVar("M", bound=ContractModel)

SCHEMA_BASE_URI = "https://contracts.gmirs.example/"
"""Base of every schema `$id` (an identifier, not a download location); also `ce_dataschema`."""

_TYPE = re.compile(r"^gmirs\.(?P<context>[a-z-]+)\.(?P<event>[a-z-]+)\.v(?P<version>[1-9][0-9]*)$")


def contracts_dir() -> Path:
    """The contracts/ folder (the package is installed editable from contracts/src)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class EventContract(Generic[M]):
    """One CloudEvents type: the topic it travels on, its payload model and its schema file.

    Generic in the model, so a consumer subscribed to `contract_for(ReferralReceived)` is given
    a `ReferralReceived` (see gmirs_runtime.eventing.subscriptions).
    """

    ce_type: str
    topic: str
    model: type[M]

    @property
    def context(self) -> str:
        return self._parts()[0]

    @property
    def schema_path(self) -> PurePosixPath:
        """Path of the schema file relative to contracts/."""
        context, event, version = self._parts()
        return PurePosixPath("events", context, f"{event}.v{version}.schema.json")

    @property
    def dataschema(self) -> str:
        """The schema's `$id`, which producers put in `ce_dataschema`."""
        return SCHEMA_BASE_URI + str(self.schema_path)

    def _parts(self) -> tuple[str, str, str]:
        match = _TYPE.match(self.ce_type)
        if match is None:
            raise ValueError(f"malformed event type {self.ce_type!r}")
        return match["context"], match["event"], match["version"]


@dataclass(frozen=True, slots=True)
class WebhookContract:
    """One webhook payload version and its schema file."""

    name: str
    model: type[ContractModel]

    @property
    def schema_path(self) -> PurePosixPath:
        return PurePosixPath("webhooks", f"{self.name}.schema.json")

    @property
    def dataschema(self) -> str:
        return SCHEMA_BASE_URI + str(self.schema_path)


def _index(*contracts: EventContract[Any]) -> Mapping[str, EventContract[Any]]:
    return MappingProxyType({contract.ce_type: contract for contract in contracts})


def _intake_progress() -> tuple[EventContract[Any], ...]:
    """R&M progress events, on the referral topic beside the referral itself."""
    p = intake_progress
    return tuple(
        EventContract(ce_type, intake.TOPIC, model)
        for ce_type, model in (
            ("gmirs.intake.referral-assigned.v1", p.ReferralAssigned),
            ("gmirs.intake.action-plan-submitted.v1", p.ActionPlanSubmitted),
            ("gmirs.intake.action-plan-approved.v1", p.ActionPlanApproved),
            ("gmirs.intake.attendance-recorded.v1", p.AttendanceRecorded),
            ("gmirs.intake.session-feedback-submitted.v1", p.SessionFeedbackSubmitted),
            ("gmirs.intake.end-of-service-report-submitted.v1", p.EndOfServiceReportSubmitted),
            ("gmirs.intake.referral-ended.v1", p.ReferralEnded),
            ("gmirs.intake.referral-concluded.v1", p.ReferralConcluded),
        )
    )


def _case_lifecycle() -> tuple[EventContract[Any], ...]:
    """One event per transition of a case's lifecycle, on the case topic."""
    lc = case_lifecycle
    return tuple(
        EventContract(f"gmirs.case.{event}.v1", case.TOPIC, model)
        for event, model in (
            ("case-allocated", lc.CaseAllocated),
            ("case-reallocated", lc.CaseReallocated),
            ("first-contact-made", lc.FirstContactMade),
            ("initial-assessment-booked", lc.InitialAssessmentBooked),
            ("initial-assessment-attended", lc.InitialAssessmentAttended),
            ("initial-assessment-missed", lc.InitialAssessmentMissed),
            ("needs-assessed", lc.NeedsAssessed),
            ("action-plan-agreed", lc.ActionPlanAgreed),
            ("action-plan-shared", lc.ActionPlanShared),
            ("action-plan-approved", lc.ActionPlanApproved),
            ("intervention-commenced", lc.InterventionCommenced),
            ("sessions-completed", lc.SessionsCompleted),
            ("exit-survey-offered", lc.ExitSurveyOffered),
            ("case-closed", lc.CaseClosed),
        )
    )


def _case_needs() -> tuple[EventContract[Any], ...]:
    """Contact attempts, outcome assessments (distance travelled) and consent, on the case topic."""
    n = case_needs
    return tuple(
        EventContract(f"gmirs.case.{event}.v1", case.TOPIC, model)
        for event, model in (
            ("contact-attempted", n.ContactAttempted),
            ("outcome-assessment-recorded", n.OutcomeAssessmentRecorded),
            ("consent-given", n.ConsentGiven),
            ("consent-withdrawn", n.ConsentWithdrawn),
            ("onward-referral-made", n.OnwardReferralMade),
            ("onward-referral-outcome-recorded", n.OnwardReferralOutcomeRecorded),
        )
    )


def _case_appointments() -> tuple[EventContract[Any], ...]:
    """An appointment moved, cancelled or linked to R&M's, on the case topic."""
    a = case_appointments
    return tuple(
        EventContract(f"gmirs.case.{event}.v1", case.TOPIC, model)
        for event, model in (
            ("appointment-rescheduled", a.AppointmentRescheduled),
            ("appointment-cancelled", a.AppointmentCancelled),
            ("appointment-linked", a.AppointmentLinked),
        )
    )


EVENTS: Mapping[str, EventContract[Any]] = _index(
    EventContract("gmirs.intake.referral-received.v1", intake.TOPIC, intake.ReferralReceived),
    *_intake_progress(),
    EventContract("gmirs.case.case-opened.v1", case.TOPIC, case.CaseOpened),
    EventContract("gmirs.case.appointment-booked.v1", case.TOPIC, case.AppointmentBooked),
    EventContract("gmirs.case.attendance-recorded.v1", case.TOPIC, case.AttendanceRecorded),
    *_case_appointments(),
    *_case_lifecycle(),
    *_case_needs(),
    EventContract("gmirs.case.mitigation-recorded.v1", case.TOPIC, case_kpi.MitigationRecorded),
    EventContract("gmirs.case.worker-assigned.v1", case.TOPIC, case_people.WorkerAssigned),
    EventContract(
        "gmirs.case.exit-survey-completed.v1", case.TOPIC, case_exit_survey.ExitSurveyCompleted
    ),
    EventContract(
        "gmirs.case.exit-survey-declined.v1", case.TOPIC, case_exit_survey.ExitSurveyDeclined
    ),
    EventContract("gmirs.case.evidence-requested.v1", case.TOPIC, case_evidence.EvidenceRequested),
    EventContract(
        "gmirs.case.evidence-request-answered.v1",
        case.TOPIC,
        case_evidence.EvidenceRequestAnswered,
    ),
    EventContract(
        "gmirs.notify.non-attendance-reported.v1", notify.TOPIC, notify.NonAttendanceReported
    ),
    EventContract("gmirs.notify.report-acknowledged.v1", notify.TOPIC, notify.ReportAcknowledged),
    EventContract("gmirs.notify.report-escalated.v1", notify.TOPIC, notify.ReportEscalated),
    EventContract("gmirs.notify.report-breached.v1", notify.TOPIC, notify.ReportBreached),
    EventContract(
        "gmirs.notify.attendance-watchdog-warned.v1", notify.TOPIC, notify.AttendanceWatchdogWarned
    ),
)
"""Every published CloudEvents type, keyed by type."""

WEBHOOKS: Mapping[str, WebhookContract] = MappingProxyType(
    {
        "probation-alert.v1": WebhookContract("probation-alert.v1", webhooks.ProbationAlert),
        "ping.v1": WebhookContract("ping.v1", webhooks.WebhookPing),
        "action-plan-agreed.v1": WebhookContract(
            "action-plan-agreed.v1", webhooks.ActionPlanAgreedAlert
        ),
        "case-closed.v1": WebhookContract("case-closed.v1", webhooks.CaseClosedAlert),
    }
)
"""Every webhook payload version, keyed by name."""

PROBATION_ALERT = WEBHOOKS["probation-alert.v1"]


class UnknownEventType(LookupError):
    """No contract is published for this CloudEvents type."""


def event_contract(ce_type: str) -> EventContract[Any]:
    """The contract for `ce_type`, or UnknownEventType naming the known types."""
    try:
        return EVENTS[ce_type]
    except KeyError:
        known = ", ".join(sorted(EVENTS))
        raise UnknownEventType(f"no contract for event type {ce_type!r}; known: {known}") from None


def contract_for(model: type[M]) -> EventContract[M]:
    """The one published type whose payload is `model` (what a consumer subscribes to)."""
    found = [contract for contract in EVENTS.values() if contract.model is model]
    if len(found) != 1:
        raise UnknownEventType(f"{len(found)} published event types carry {model.__name__}")
    return found[0]


def topics() -> frozenset[str]:
    """All topics that carry published events."""
    return frozenset(contract.topic for contract in EVENTS.values())

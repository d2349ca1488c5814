"""Which of our events an R&M event becomes, built from the resource its `detailUrl` names.

Pure: the handler fetches the detail and supplies our referral; this module only maps. Times
come from the event where R&M defines them by the event (`occurredAt` is the submission,
approval or assignment time), so a resource that moved on since still yields the right event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gmirs_contracts.base import ContractModel
from gmirs_contracts.intake_progress import (
    ActionPlanApproved,
    ActionPlanSubmitted,
    EndOfServiceReportSubmitted,
    ReferralAssigned,
    ReferralConcluded,
    ReferralEnded,
)
from gmirs_referral_intake.domain import rm_appointments
from gmirs_referral_intake.domain.rm_envelope import RmEnvelope
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError
from gmirs_referral_intake.domain.rm_json import RmJson

SENT = "intervention.referral.sent"
DETAIL_IS_SENT_REFERRAL = frozenset(
    {
        SENT,
        "intervention.referral.assigned",
        "intervention.referral.ended",
        "intervention.referral.concluded",
    }
)
"""Event types whose `detailUrl` is the sent referral itself (it can create our referral)."""

_DELIVERY_STATES = {
    "CANCELLED": "cancelled",
    "PREMATURELY_ENDED": "prematurely-ended",
    "COMPLETED": "completed",
}
_ACHIEVEMENT = {
    "ACHIEVED": ("achieved", 1.0),
    "PARTIALLY_ACHIEVED": ("partially-achieved", 0.5),
    "NOT_ACHIEVED": ("not-achieved", 0.0),
}


@dataclass(frozen=True)
class ReferralRef:
    """Our referral, as the events about it name it."""

    referral_id: uuid.UUID
    rm_referral_id: uuid.UUID
    crn: str
    reference_number: str | None

    def ids(self) -> dict[str, Any]:
        return {"referral_id": self.referral_id, "rm_referral_id": self.rm_referral_id}


def rm_referral_id(envelope: RmEnvelope, detail: Mapping[str, Any]) -> uuid.UUID:
    """The R&M referral an event is about: from the envelope, else from its detail."""
    found = envelope.rm_referral_id or RmJson(detail, "detail").opt_id("referralId")
    if found is None:
        raise UnusableMessageError("additionalInformation.referralId: missing (and not in detail)")
    return found


def progress_event(
    envelope: RmEnvelope, detail: Mapping[str, Any], ref: ReferralRef
) -> tuple[str, ContractModel] | None:
    """Our CloudEvents type and payload for an R&M event; None for `referral.sent`."""
    if envelope.event_type == SENT:
        return None
    kind = envelope.event_type.removeprefix("intervention.")
    json = RmJson(detail, "detail")
    if kind.startswith("action-plan."):
        return _action_plan(envelope, json, ref)
    if kind.endswith((".attended", ".missed", ".session-feedback-submitted")):
        return _appointment(envelope, json, ref)
    build = _SIMPLE.get(kind)
    if build is None:  # RM_EVENT_TYPES and this module must agree (a test checks)
        raise UnusableMessageError("eventType: no mapping")
    return f"gmirs.intake.{kind.replace('.', '-')}.v1", build(envelope, json, ref)


def _assigned(envelope: RmEnvelope, detail: RmJson, ref: ReferralRef) -> ReferralAssigned:
    assignee = detail.opt_obj("assignedTo")
    username = envelope.additional_information.get("assignedTo") or (
        assignee.opt_text("username") if assignee else None
    )
    if not username:
        raise UnusableMessageError("additionalInformation.assignedTo: missing")
    return ReferralAssigned.model_validate(
        {**ref.ids(), "assigned_at": envelope.occurred_at, "assigned_to": username}
    )


def _action_plan(envelope: RmEnvelope, plan: RmJson, ref: ReferralRef) -> tuple[str, ContractModel]:
    data = {
        **ref.ids(),
        "action_plan_id": plan.id("id"),
        "number_of_sessions": plan.opt_int("numberOfSessions"),
        "activities": [a.text("description") for a in plan.objects("activities")],
    }
    if envelope.event_type.endswith(".approved"):
        data["submitted_at"] = plan.opt_when("submittedAt")
        model = ActionPlanApproved.model_validate({**data, "approved_at": envelope.occurred_at})
        return "gmirs.intake.action-plan-approved.v1", model
    data["submitted_at"] = envelope.occurred_at
    return "gmirs.intake.action-plan-submitted.v1", ActionPlanSubmitted.model_validate(data)


def _appointment(
    envelope: RmEnvelope, detail: RmJson, ref: ReferralRef
) -> tuple[str, ContractModel]:
    initial = envelope.event_type.startswith("intervention.initial-assessment-appointment.")
    chosen = rm_appointments.choose_appointment(
        detail, initial_assessment=initial, at=envelope.occurred_at
    )
    delius = chosen.delius_appointment_id or envelope.additional_information.get(
        "deliusAppointmentId"
    )
    chosen = rm_appointments.Chosen(
        chosen.kind, chosen.session_number, chosen.appointment, delius or None
    )
    context = {**ref.ids(), "crn": ref.crn, "reference_number": ref.reference_number}
    if envelope.event_type.endswith(".session-feedback-submitted"):
        model: ContractModel = rm_appointments.session_feedback_submitted(
            chosen, context, submitted_at=envelope.occurred_at
        )
        return "gmirs.intake.session-feedback-submitted.v1", model
    model = rm_appointments.attendance_recorded(chosen, context, recorded_at=envelope.occurred_at)
    return "gmirs.intake.attendance-recorded.v1", model


def _report(envelope: RmEnvelope, report: RmJson, ref: ReferralRef) -> EndOfServiceReportSubmitted:
    outcomes = []
    score = 0.0
    for outcome in report.objects("outcomes"):
        wanted = outcome.opt_obj("desiredOutcome")
        level = _ACHIEVEMENT.get(outcome.text("achievementLevel"))
        if level is None:
            raise UnusableMessageError(f"{outcome.where}.achievementLevel: unknown")
        score += level[1]
        outcomes.append(
            {
                "desired_outcome_id": wanted.id("id") if wanted else outcome.id("desiredOutcomeId"),
                "desired_outcome": wanted.opt_text("description") if wanted else None,
                "achievement_level": level[0],
                "progression_comments": outcome.opt_text("progressionComments"),
                "additional_task_comments": outcome.opt_text("additionalTaskComments"),
            }
        )
    return EndOfServiceReportSubmitted.model_validate(
        {
            **ref.ids(),
            "end_of_service_report_id": report.id("id"),
            "submitted_at": report.opt_when("submittedAt") or envelope.occurred_at,
            "further_information": report.opt_text("furtherInformation"),
            "outcomes": outcomes,
            "achievement_score": score,
        }
    )


def _delivery_state(envelope: RmEnvelope) -> str | None:
    raw = envelope.additional_information.get("deliveryState")
    state = _DELIVERY_STATES.get(raw or "")
    if raw and state is None:
        raise UnusableMessageError("additionalInformation.deliveryState: unknown")
    return state


def _ended(envelope: RmEnvelope, sent: RmJson, ref: ReferralRef) -> ReferralEnded:
    return ReferralEnded.model_validate(
        {
            **ref.ids(),
            "ended_at": envelope.occurred_at,
            "delivery_state": _delivery_state(envelope),
            "withdrawal_code": envelope.additional_information.get("withdrawalCode") or None,
            "end_requested_at": sent.opt_when("endRequestedAt"),
        }
    )


def _concluded(envelope: RmEnvelope, _: RmJson, ref: ReferralRef) -> ReferralConcluded:
    state = _delivery_state(envelope)
    if state is None:
        raise UnusableMessageError("additionalInformation.deliveryState: missing")
    return ReferralConcluded.model_validate(
        {**ref.ids(), "concluded_at": envelope.occurred_at, "delivery_state": state}
    )


_SIMPLE: dict[str, Callable[[RmEnvelope, RmJson, ReferralRef], ContractModel]] = {
    "referral.assigned": _assigned,
    "end-of-service-report.submitted": _report,
    "referral.ended": _ended,
    "referral.concluded": _concluded,
}
"""R&M event (without `intervention.`) whose our-type is its name hyphenated, e.g. referral-ended."""

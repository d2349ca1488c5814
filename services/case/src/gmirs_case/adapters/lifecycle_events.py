"""Lifecycle events to their published contracts (gmirs_contracts.case_lifecycle).

One mapping for every event type: the values any lifecycle payload may carry are gathered
once, and each contract takes exactly the fields it declares.
"""

from __future__ import annotations

from typing import Any

from gmirs_case.adapters import records
from gmirs_case.domain.achievement import OutcomeAchievement
from gmirs_case.domain.lifecycle import CaseState, LifecycleEvent
from gmirs_case.domain.model import Case
from gmirs_contracts import case_kpi as kpi
from gmirs_contracts.base import ContractModel
from gmirs_contracts.registry import EVENTS, EventContract


def contract_of(event: LifecycleEvent) -> EventContract[Any]:
    return EVENTS[f"gmirs.case.{event.name.value}.v1"]


def payload(event: LifecycleEvent, case: Case, previous_hub_id: str | None) -> ContractModel:
    """The event's payload: the move, the case, and the KPI times the contract asks for."""
    lifecycle, cause = event.lifecycle, event.cause
    reached = lifecycle.reached
    values: dict[str, Any] = {
        "case_id": case.id,
        "referral_id": case.referral_id,
        "hub_id": case.hub_id,
        "from_state": event.from_state.value,
        "state": event.to_state.value,
        "source": event.source.value,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "referral_sent_at": reached[CaseState.RECEIVED],
        "previous_hub_id": previous_hub_id,
        "appointment_id": getattr(cause, "appointment_id", None),
        "starts_at": getattr(cause, "starts_at", None),
        "version": getattr(cause, "version", None),
        "number_of_sessions": getattr(cause, "number_of_sessions", None),
        "initial_assessment_attended_at": reached.get(CaseState.INITIAL_ASSESSMENT_ATTENDED),
        "agreed_at": lifecycle.plan_agreed_at,
        "shared_at": reached.get(CaseState.ACTION_PLAN_SHARED),
        "sessions_completed_at": reached.get(CaseState.SESSIONS_COMPLETED),
        "exit_survey_offered_at": reached.get(CaseState.EXIT_SURVEY_OFFERED),
        "reason_settled": lifecycle.closure_settled,
        "outcomes": achievement_of(lifecycle.outcomes),
    } | records.record_of(
        lifecycle,
        leave_out={
            "state",
            "since",
            "reached",
            "closure_settled",
            "closed_by",
            "plan_agreed_at",
            "outcomes",
        },
    )
    model: type[ContractModel] = contract_of(event).model
    return records.contract(model, values)


def achievement_of(outcomes: OutcomeAchievement | None) -> kpi.OutcomeAchievement | None:
    """The published shape of the outcome counts, with R&M's score."""
    if outcomes is None:
        return None
    return kpi.OutcomeAchievement(
        achieved=outcomes.achieved,
        partially_achieved=outcomes.partially_achieved,
        not_achieved=outcomes.not_achieved,
        achievement_score=outcomes.achievement_score,
    )

"""A case's row in `case_facts`: its hub, state, milestones, closure and outcomes, from case's events.

Every lifecycle event names the case, referral and hub; the hub and state follow the latest
recorded event, each milestone keeps its earliest occurrence, including the earlier milestone
times later events carry (so a lost or late event does not leave a gap). A missed initial
assessment is a row of its own (`case_missed_assessments`), counted onto the case afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gmirs_contracts import case_lifecycle as lc
from gmirs_contracts.case import CaseOpened
from gmirs_contracts.case_exit_survey import ExitSurveyCompleted, ExitSurveyDeclined
from gmirs_contracts.case_kpi import OutcomeAchievement
from gmirs_metrics.adapters.facts_rules import Fact, Row
from gmirs_metrics.adapters.facts_tables import CASES, MISSED_ASSESSMENTS
from gmirs_runtime.eventing.envelope import Event


def case_row(payload: Any, seen_at: datetime, **columns: Any) -> Fact:
    """A `case_facts` fact from any event naming case, referral and hub (seen at `seen_at`)."""
    row: Row = {
        "case_id": payload.case_id,
        "referral_id": payload.referral_id,
        "hub_id": payload.hub_id,
        "hub_seen_at": seen_at,
    }
    row.update(columns)
    return Fact(CASES, row)


def case_opened(opened: CaseOpened, event: Event) -> list[Fact]:
    return [
        case_row(
            opened,
            opened.opened_at,
            probation_delivery_unit=opened.probation_delivery_unit,
            opened_at=opened.opened_at,
            state="received",
            state_seen_at=opened.opened_at,
        )
    ]


def exit_survey_completed(survey: ExitSurveyCompleted, event: Event) -> list[Fact]:
    return [
        case_row(
            survey,
            survey.completed_at,
            exit_survey_offered_at=survey.offered_at,
            exit_survey_completed_at=survey.completed_at,
        )
    ]


def exit_survey_declined(survey: ExitSurveyDeclined, event: Event) -> list[Fact]:
    return [case_row(survey, survey.declined_at, exit_survey_declined_at=survey.declined_at)]


Milestones = Callable[[Any], Row]


def _outcomes(outcomes: OutcomeAchievement | None, moved: lc._LifecycleMoved) -> Row:
    if outcomes is None:
        return {}
    return {
        "outcomes_achieved": outcomes.achieved,
        "outcomes_partially_achieved": outcomes.partially_achieved,
        "outcomes_not_achieved": outcomes.not_achieved,
        "outcomes_from_rm": moved.source == "refer-and-monitor",
        "outcomes_recorded_at": moved.recorded_at,
    }


def _closed(closed: lc.CaseClosed) -> Row:
    return {
        "closed_at": closed.occurred_at,
        "closure_reason": closed.closure_reason,
        "rm_withdrawal_code": closed.rm_withdrawal_code,
        "rm_delivery_state": closed.rm_delivery_state,
        "closure_settled": closed.reason_settled,
        "closure_recorded_at": closed.recorded_at,
        "sessions_completed_at": closed.sessions_completed_at,
        "exit_survey_offered_at": closed.exit_survey_offered_at,
        **_outcomes(closed.outcomes, closed),
    }


MILESTONES: dict[type[Any], Milestones] = {
    lc.CaseAllocated: lambda e: {"allocated_at": e.occurred_at},
    lc.CaseReallocated: lambda e: {},
    lc.FirstContactMade: lambda e: {
        "first_contact_at": e.occurred_at,
        "first_contact_recorded_at": e.recorded_at,
    },
    lc.InitialAssessmentBooked: lambda e: {"initial_assessment_booked_at": e.occurred_at},
    lc.InitialAssessmentAttended: lambda e: {
        "initial_assessment_attended_at": e.occurred_at,
        "initial_assessment_recorded_at": e.recorded_at,
    },
    lc.InitialAssessmentMissed: lambda e: {},
    lc.NeedsAssessed: lambda e: {"needs_assessed_at": e.occurred_at},
    lc.ActionPlanAgreed: lambda e: {
        "action_plan_agreed_at": e.occurred_at,
        "action_plan_agreed_recorded_at": e.recorded_at,
    },
    lc.ActionPlanShared: lambda e: {
        "action_plan_shared_at": e.occurred_at,
        "action_plan_shared_recorded_at": e.recorded_at,
        "action_plan_agreed_at": e.agreed_at,
    },
    lc.ActionPlanApproved: lambda e: {
        "action_plan_approved_at": e.occurred_at,
        "action_plan_shared_at": e.shared_at,
    },
    lc.InterventionCommenced: lambda e: {"intervention_commenced_at": e.occurred_at},
    lc.SessionsCompleted: lambda e: {
        "sessions_completed_at": e.occurred_at,
        **_outcomes(e.outcomes, e),
    },
    lc.ExitSurveyOffered: lambda e: {
        "exit_survey_offered_at": e.occurred_at,
        "exit_survey_offered_recorded_at": e.recorded_at,
        "sessions_completed_at": e.sessions_completed_at,
    },
    lc.CaseClosed: _closed,
}
"""Per lifecycle event type, the case columns it fills beside hub, state and sent time."""


def lifecycle_moved(moved: lc._LifecycleMoved, event: Event) -> list[Fact]:
    columns = MILESTONES[type(moved)](moved)
    if isinstance(moved, lc._AfterAssessment):
        columns["initial_assessment_attended_at"] = moved.initial_assessment_attended_at
    facts = [
        case_row(
            moved,
            moved.recorded_at,
            referral_sent_at=moved.referral_sent_at,
            state=moved.state,
            state_seen_at=moved.recorded_at,
            **columns,
        )
    ]
    if isinstance(moved, lc.InitialAssessmentMissed):
        facts.append(Fact(MISSED_ASSESSMENTS, {"case_id": moved.case_id, "event_id": event.id}))
    return facts


LIFECYCLE: tuple[type[lc._LifecycleMoved], ...] = tuple(MILESTONES)

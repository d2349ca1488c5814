"""One valid, fictional example of every case lifecycle event: one case's story from allocation
to closure, a day or so apart (see examples.py for the rules examples follow)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from gmirs_contracts import case_lifecycle as lc
from gmirs_contracts.base import ContractModel
from gmirs_contracts.case_kpi import OutcomeAchievement
from gmirs_contracts.example_ids import CASE_ID, REFERRAL_ID, SENT_AT

ASSESSMENT_ID = UUID("3c5e7a9b-2d4f-4b6a-8c0e-1f3a5b7c9d2e")


def _day(n: int, hour: int = 10) -> datetime:
    return SENT_AT.replace(hour=hour) + timedelta(days=n)


def _moved(from_state: str, state: str, occurred_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "case_id": CASE_ID,
        "referral_id": REFERRAL_ID,
        "hub_id": "bolton",
        "from_state": from_state,
        "state": state,
        "source": "hub",
        "occurred_at": occurred_at,
        "recorded_at": occurred_at + timedelta(minutes=5),
        "referral_sent_at": SENT_AT,
        **extra,
    }


ATTENDED_AT = _day(6)
AFTER_ASSESSMENT = {"initial_assessment_attended_at": ATTENDED_AT}


def case_allocated() -> lc.CaseAllocated:
    return lc.CaseAllocated(**_moved("received", "allocated", _day(0)))


def case_reallocated() -> lc.CaseReallocated:
    moved = _moved("contacted", "contacted", _day(2), previous_hub_id="bury")
    return lc.CaseReallocated(**moved)


def first_contact_made() -> lc.FirstContactMade:
    return lc.FirstContactMade(**_moved("allocated", "contacted", _day(1)))


def initial_assessment_booked() -> lc.InitialAssessmentBooked:
    moved = _moved("contacted", "initial-assessment-booked", _day(2))
    return lc.InitialAssessmentBooked(**moved, appointment_id=ASSESSMENT_ID, starts_at=ATTENDED_AT)


def initial_assessment_attended() -> lc.InitialAssessmentAttended:
    moved = _moved("initial-assessment-booked", "initial-assessment-attended", ATTENDED_AT)
    return lc.InitialAssessmentAttended(**moved, appointment_id=ASSESSMENT_ID)


def initial_assessment_missed() -> lc.InitialAssessmentMissed:
    moved = _moved("initial-assessment-booked", "initial-assessment-missed", _day(4))
    return lc.InitialAssessmentMissed(
        **{**moved, "source": "refer-and-monitor"}, appointment_id=None
    )


def needs_assessed() -> lc.NeedsAssessed:
    moved = _moved("initial-assessment-attended", "needs-assessed", ATTENDED_AT)
    return lc.NeedsAssessed(**moved, **AFTER_ASSESSMENT)


def action_plan_agreed() -> lc.ActionPlanAgreed:
    moved = _moved("needs-assessed", "action-plan-agreed", _day(8), **AFTER_ASSESSMENT)
    return lc.ActionPlanAgreed(**moved, version=1, number_of_sessions=6)


def action_plan_shared() -> lc.ActionPlanShared:
    moved = _moved("action-plan-agreed", "action-plan-shared", _day(9), **AFTER_ASSESSMENT)
    return lc.ActionPlanShared(**moved, version=1, agreed_at=_day(8))


def action_plan_approved() -> lc.ActionPlanApproved:
    moved = _moved("action-plan-shared", "action-plan-approved", _day(10), **AFTER_ASSESSMENT)
    return lc.ActionPlanApproved(
        **{**moved, "source": "refer-and-monitor"}, version=None, shared_at=_day(9)
    )


def intervention_commenced() -> lc.InterventionCommenced:
    moved = _moved("action-plan-approved", "in-sessions", _day(13), **AFTER_ASSESSMENT)
    return lc.InterventionCommenced(**moved, appointment_id=UUID(int=ASSESSMENT_ID.int + 1))


def sessions_completed() -> lc.SessionsCompleted:
    return lc.SessionsCompleted(
        **_moved("in-sessions", "sessions-completed", _day(60)), outcomes=_OUTCOMES
    )


_OUTCOMES = OutcomeAchievement(
    achieved=2, partially_achieved=1, not_achieved=0, achievement_score=2.5
)


def exit_survey_offered() -> lc.ExitSurveyOffered:
    moved = _moved("sessions-completed", "exit-survey-offered", _day(61))
    return lc.ExitSurveyOffered(**moved, sessions_completed_at=_day(60))


def case_closed() -> lc.CaseClosed:
    return lc.CaseClosed(
        **_moved("exit-survey-offered", "closed", _day(62)),
        closure_reason="completed",
        reason_settled=True,
        rm_withdrawal_code=None,
        rm_delivery_state=None,
        sessions_completed_at=_day(60),
        exit_survey_offered_at=_day(61),
        outcomes=_OUTCOMES,
    )


LIFECYCLE_EXAMPLES: dict[str, Callable[[], ContractModel]] = {
    f"gmirs.case.{builder.__name__.replace('_', '-')}.v1": builder
    for builder in (
        case_allocated,
        case_reallocated,
        first_contact_made,
        initial_assessment_booked,
        initial_assessment_attended,
        initial_assessment_missed,
        needs_assessed,
        action_plan_agreed,
        action_plan_shared,
        action_plan_approved,
        intervention_commenced,
        sessions_completed,
        exit_survey_offered,
        case_closed,
    )
}
"""The example of each lifecycle event, keyed by its CloudEvents type."""

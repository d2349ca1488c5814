"""What providers and practitioners do in R&M, reduced to one call each, with the events R&M emits.

Deliberately lenient where R&M is strict (an action plan without a completed assessment, a session
without an approved plan): tests need to reach any state, including out-of-order ones, quickly.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.fakes.rm_events import EventFactory
from tests.fakes.rm_form import referral_details, service_user
from tests.fakes.rm_model import (
    ActionPlan,
    Appointment,
    EndOfServiceReport,
    Feedback,
    Referral,
    RmStore,
    contract_reference,
    delivery_state,
    now,
    outcome_ids,
    user,
)
from tests.fakes.rm_requests import (
    Assign,
    Attendance,
    Conclude,
    End,
    NewReferral,
    Schedule,
    SubmitActionPlan,
    SubmitEndOfServiceReport,
    Withdraw,
)

Envelopes = list[dict[str, Any]]
WITHDRAWAL_REASONS = {
    "INE": "Ineligible referral",
    "MIS": "Mistaken or duplicate referral",
    "NOT": "Not engaged",
    "NEE": "Needs met through another route",
    "MOV": "Moved out of service area",
    "WOR": "Work or caring responsibilities, or sickness",
    "USE": "Service user died",
    "ACQ": "Acquitted on appeal",
    "RET": "Returned to custody",
    "SER": "Sentence revoked",
    "SEE": "Sentence expired",
    "EAR": "Intervention completed early",
    "ANO": "Another change of circumstance",
}


class Scenario:
    def __init__(self, store: RmStore, events: EventFactory) -> None:
        self.store = store
        self.events = events

    def create_referral(self, request: NewReferral) -> tuple[Referral, Envelopes]:
        first, last = self.store.person_name()
        contract = (
            request.contract_reference
            if "contract_reference" in request.model_fields_set
            else contract_reference(request.pdu)
        )
        referral = Referral(
            id=uuid.uuid4(),
            reference_number=self.store.reference_number(),
            sent_at=request.sent_at or now(),
            sent_by=user("pp.user", "delius"),
            service_user=service_user(request, request.crn or self.store.crn(), first, last),
            pdu=request.pdu,
            contract_reference=contract,
            categories=dict.fromkeys(request.service_categories, request.complexity),
            details=referral_details(request, contract),
            relevant_sentence_id=self.store.rng.randrange(2_500_000_000, 2_600_000_000),
            supplementary_risk_id=uuid.uuid4(),
        )
        self.store.referrals[referral.id] = referral
        return referral, [self.events.referral_sent(referral)]

    def assign(self, referral: Referral, request: Assign) -> Envelopes:
        referral.assigned_to = user(request.username)
        referral.assigned_at = now()
        return [self.events.referral_assigned(referral)]

    def submit_action_plan(
        self, referral: Referral, request: SubmitActionPlan
    ) -> tuple[ActionPlan, Envelopes]:
        moment, author = now(), user(request.submitted_by)
        activities = [
            {"id": str(uuid.uuid4()), "description": text, "createdAt": moment.isoformat()}
            for text in request.activities
        ]
        plan = ActionPlan(
            uuid.uuid4(), referral.id, request.number_of_sessions, activities, moment, author
        )
        plan.submitted_at, plan.submitted_by = moment, author
        self.store.action_plans[plan.id] = plan
        referral.action_plan_ids.append(plan.id)
        envelope = self.events.action_plan(referral, plan, approved=False, legacy=request.legacy)
        return plan, [envelope]

    def approve_action_plan(self, plan: ActionPlan, approver: str, *, legacy: bool) -> Envelopes:
        """Approval creates the plan's delivery sessions 1..N, not yet scheduled."""
        referral = self.store.referrals[plan.referral_id]
        plan.approved_at, plan.approved_by = now(), user(approver, "delius")
        for number in range(1, plan.number_of_sessions + 1):
            referral.sessions.setdefault(number, [])
        return [self.events.action_plan(referral, plan, approved=True, legacy=legacy)]

    def record_attendance(
        self, referral: Referral, request: Attendance, session_number: int | None
    ) -> tuple[Appointment, Envelopes]:
        """A new appointment with submitted feedback; an earlier one for the same slot is superseded."""
        moment = now()
        slot = (
            referral.assessment
            if session_number is None
            else referral.sessions.setdefault(session_number, [])
        )
        for earlier in slot:
            earlier.superseded = True
        happened = (
            request.did_session_happen
            if request.did_session_happen is not None
            else request.attended != "no"
        )
        appointment = Appointment(
            id=uuid.uuid4(),
            appointment_time=request.appointment_time or moment - timedelta(hours=1),
            duration_minutes=request.duration_minutes,
            delivery_type=request.delivery_type,
            session_type=request.session_type,
            nps_office_code=request.nps_office_code,
            delius_appointment_id=self.store.delius_appointment_id()
            if request.with_delius_appointment_id
            else None,
            feedback=Feedback(
                request.attended,
                happened,
                request.session_feedback(happened),
                moment,
                user(request.submitted_by),
            ),
        )
        slot.append(appointment)
        envelopes = self.events.attendance(
            referral, appointment, session_number=session_number, legacy=request.legacy
        )
        return appointment, envelopes

    def schedule(
        self, referral: Referral, request: Schedule, session_number: int | None
    ) -> Appointment:
        """A new appointment without feedback; an earlier one for the same slot is superseded."""
        slot = (
            referral.assessment
            if session_number is None
            else referral.sessions.setdefault(session_number, [])
        )
        for earlier in slot:
            earlier.superseded = True
        appointment = Appointment(
            id=uuid.uuid4(),
            appointment_time=request.appointment_time or now() - timedelta(hours=1),
            duration_minutes=request.duration_minutes,
            delivery_type=request.delivery_type,
            delius_appointment_id=self.store.delius_appointment_id(),
        )
        slot.append(appointment)
        return appointment

    def submit_end_of_service_report(
        self, referral: Referral, request: SubmitEndOfServiceReport
    ) -> tuple[EndOfServiceReport, Envelopes]:
        moment, author = now(), user(request.submitted_by)
        outcomes = [
            {
                "desiredOutcome": {"id": str(i), "description": f"{name}: outcome {n}"},
                "achievementLevel": request.achievement_level,
                "progressionComments": "Progress recorded in the simulator.",
                "additionalTaskComments": None,
            }
            for name in referral.categories
            for n, i in enumerate(outcome_ids(name)[:2], start=1)
        ]
        report = EndOfServiceReport(
            uuid.uuid4(), referral.id, moment, author, moment, author,
            request.further_information, outcomes,
        )  # fmt: skip
        self.store.reports[report.id] = report
        referral.eosr_id = report.id
        return report, [self.events.end_of_service_report(referral, report)]

    def end(self, referral: Referral, request: End) -> Envelopes:
        referral.end_requested_at = referral.end_requested_at or now()
        referral.end_reason = _reason(request.reason_code)
        state = request.delivery_state or delivery_state(referral, self.store)
        return [self.events.referral_ended(referral, state)]

    def conclude(self, referral: Referral, request: Conclude) -> Envelopes:
        referral.concluded_at = referral.concluded_at or now()
        state = request.delivery_state or delivery_state(referral, self.store)
        return [self.events.referral_concluded(referral, state)]

    def withdraw(self, referral: Referral, request: Withdraw) -> Envelopes:
        state = request.delivery_state or delivery_state(referral, self.store)
        post_ica = any(
            a.feedback and a.feedback.attended != "no"
            for slot in referral.sessions.values()
            for a in slot
        )
        default_state = "POST_ICA_WITHDRAWAL" if post_ica else "PRE_ICA_WITHDRAWAL"
        referral.withdrawal = {
            "code": request.code,
            "comments": request.comments,
            "state": request.withdrawal_state or default_state,
        }
        referral.end_requested_at = referral.concluded_at = now()
        referral.end_reason = _reason(request.code)
        concluded = self.events.referral_concluded(referral, state)
        return [concluded, self.events.referral_ended(referral, state)]


def _reason(code: str) -> dict[str, str]:
    return {"code": code, "description": WITHDRAWAL_REASONS.get(code, "Other")}

"""One valid, fictional instance of every contract, for tests and documentation.

Built from the models, so an example that stops matching its model fails at import in tests
rather than silently documenting a shape nobody emits. No real person's data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from gmirs_contracts import (
    case,
    case_exit_survey,
    case_kpi,
    case_people,
    intake,
    intake_progress,
    notify,
    webhooks,
)
from gmirs_contracts.base import ContractModel
from gmirs_contracts.case_appointments_examples import APPOINTMENT_EXAMPLES
from gmirs_contracts.case_evidence_examples import EVIDENCE_EXAMPLES
from gmirs_contracts.case_lifecycle_examples import LIFECYCLE_EXAMPLES
from gmirs_contracts.case_needs_examples import NEEDS_EXAMPLES
from gmirs_contracts.example_ids import (
    ACTION_PLAN_ID,
    APPOINTMENT_ID,
    CASE_ID,
    DUE_BY,
    ENDS_AT,
    REFERRAL_ID,
    RM_APPOINTMENT_ID,
    RM_REFERRAL_ID,
    SENT_AT,
    STARTS_AT,
)


def _person() -> intake.Person:
    return intake.Person(
        crn="X123456",
        given_name="Alex",
        family_name="Example",
        date_of_birth=date(1990, 1, 1),
        gender=None,
        ethnicity=None,
        preferred_language="English",
        disabilities=[],
    )


def _needs() -> intake.Needs:
    return intake.Needs(
        additional_needs=None,
        accessibility_needs=None,
        needs_interpreter=False,
        interpreter_language=None,
        has_additional_responsibilities=None,
        when_unavailable=None,
    )


def _practitioner() -> intake.ReferringPractitioner:
    return intake.ReferringPractitioner(
        name="Sam Practitioner",
        email="sam.practitioner@example.org",
        phone=None,
        probation_delivery_unit="Bolton",
    )


def referral_received() -> intake.ReferralReceived:
    return intake.ReferralReceived(
        referral_id=REFERRAL_ID,
        source="refer-and-monitor",
        received_at=datetime(2026, 2, 20, 9, 30, tzinfo=UTC),
        hub_id="bolton",
        probation_delivery_unit="Bolton",
        reference_number="AB1234CD",
        rm_referral_id=RM_REFERRAL_ID,
        contract_reference="GMIRS-WSS-001",
        person=_person(),
        service_categories=[
            intake.ServiceCategory(
                name="Emotional wellbeing", complexity="medium", desired_outcomes=["Coping"]
            )
        ],
        needs=_needs(),
        risk=intake.Risk(summary=None, supplementary_risk_id=None),
        referring_practitioner=_practitioner(),
        sent_at=SENT_AT,
        completion_deadline=date(2026, 8, 20),
        reason_for_referral=None,
        location=intake.Location(
            current_location="community",
            custody_prison_id=None,
            expected_release_date=None,
            probation_office="Bolton: Wellington Street",
        ),
    )


def referral_assigned() -> intake_progress.ReferralAssigned:
    return intake_progress.ReferralAssigned(
        referral_id=REFERRAL_ID,
        rm_referral_id=RM_REFERRAL_ID,
        assigned_at=datetime(2026, 2, 21, 9, 0, tzinfo=UTC),
        assigned_to="caseworker.bolton",
    )


def action_plan_submitted() -> intake_progress.ActionPlanSubmitted:
    return intake_progress.ActionPlanSubmitted(
        referral_id=REFERRAL_ID,
        rm_referral_id=RM_REFERRAL_ID,
        action_plan_id=ACTION_PLAN_ID,
        submitted_at=datetime(2026, 2, 26, 15, 0, tzinfo=UTC),
        number_of_sessions=4,
        activities=["Weekly one-to-one on coping strategies"],
    )


def action_plan_approved() -> intake_progress.ActionPlanApproved:
    submitted = action_plan_submitted()
    return intake_progress.ActionPlanApproved(
        **submitted.model_dump(), approved_at=datetime(2026, 2, 27, 10, 0, tzinfo=UTC)
    )


def _appointment() -> dict[str, Any]:
    return {
        "referral_id": REFERRAL_ID,
        "rm_referral_id": RM_REFERRAL_ID,
        "crn": "X123456",
        "reference_number": "AB1234CD",
        "appointment_kind": "session",
        "session_number": 1,
        "rm_appointment_id": RM_APPOINTMENT_ID,
        "appointment_starts_at": STARTS_AT,
        "appointment_ends_at": ENDS_AT,
        "attended": "no",
        "session_happened": False,
        "no_session_reason": None,
        "notify_pp_of_concerns": False,
    }


def intake_attendance_recorded() -> intake_progress.AttendanceRecorded:
    return intake_progress.AttendanceRecorded(
        **_appointment(),
        non_attendance=True,
        recorded_at=ENDS_AT + timedelta(minutes=30),
        report_due_by=DUE_BY,
    )


def session_feedback_submitted() -> intake_progress.SessionFeedbackSubmitted:
    return intake_progress.SessionFeedbackSubmitted(
        **_appointment(),
        submitted_at=ENDS_AT + timedelta(minutes=30),
        delius_appointment_id="2500012345",
        late=None,
        late_reason=None,
        session_summary=None,
        session_response=None,
        session_concerns=None,
        session_behaviour=None,
        no_attendance_information="Phoned twice, no answer.",
        future_session_plans=None,
        notify_pp_of_behaviour=False,
    )


def end_of_service_report_submitted() -> intake_progress.EndOfServiceReportSubmitted:
    return intake_progress.EndOfServiceReportSubmitted(
        referral_id=REFERRAL_ID,
        rm_referral_id=RM_REFERRAL_ID,
        end_of_service_report_id=UUID("d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"),
        submitted_at=datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
        further_information=None,
        outcomes=[
            intake_progress.Outcome(
                desired_outcome_id=UUID("e5f6a7b8-c9d0-4e1f-9a2b-3c4d5e6f7a81"),
                desired_outcome="Coping",
                achievement_level="partially-achieved",
                progression_comments=None,
                additional_task_comments=None,
            )
        ],
        achievement_score=0.5,
    )


def referral_ended() -> intake_progress.ReferralEnded:
    return intake_progress.ReferralEnded(
        referral_id=REFERRAL_ID,
        rm_referral_id=RM_REFERRAL_ID,
        ended_at=datetime(2026, 6, 2, 9, 0, tzinfo=UTC),
        delivery_state="completed",
        withdrawal_code=None,
        end_requested_at=None,
    )


def referral_concluded() -> intake_progress.ReferralConcluded:
    return intake_progress.ReferralConcluded(
        referral_id=REFERRAL_ID,
        rm_referral_id=RM_REFERRAL_ID,
        concluded_at=datetime(2026, 6, 2, 9, 0, tzinfo=UTC),
        delivery_state="completed",
    )


def case_opened() -> case.CaseOpened:
    return case.CaseOpened(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        probation_delivery_unit="Bolton",
        crn="X123456",
        reference_number="AB1234CD",
        opened_at=datetime(2026, 2, 21, 8, 0, tzinfo=UTC),
    )


def appointment_booked() -> case.AppointmentBooked:
    return case.AppointmentBooked(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        appointment_id=APPOINTMENT_ID,
        kind="session",
        session_number=1,
        starts_at=STARTS_AT,
        ends_at=ENDS_AT,
        delivery_type="in-person-other",
        booked_at=datetime(2026, 2, 25, 12, 0, tzinfo=UTC),
    )


def attendance_recorded() -> case.AttendanceRecorded:
    return case.AttendanceRecorded(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        rm_referral_id=RM_REFERRAL_ID,
        hub_id="bolton",
        crn="X123456",
        reference_number="AB1234CD",
        appointment_id=APPOINTMENT_ID,
        appointment_kind="session",
        appointment_starts_at=STARTS_AT,
        appointment_ends_at=ENDS_AT,
        attended="no",
        session_happened=False,
        no_session_reason=None,
        non_attendance=True,
        notify_pp_of_concerns=False,
        recorded_at=ENDS_AT + timedelta(minutes=20),
        report_due_by=DUE_BY,
        session_number=2,
        recorded_by="bolton.worker",
    )


REPORT_ID = UUID("0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a")


def _report_fields() -> dict[str, Any]:
    return {
        "report_id": REPORT_ID,
        "case_id": CASE_ID,
        "referral_id": REFERRAL_ID,
        "appointment_id": APPOINTMENT_ID,
        "hub_id": "bolton",
        "origin": "hub",
        "appointment_ends_at": ENDS_AT,
        "report_due_by": DUE_BY,
    }


def report_acknowledged() -> notify.ReportAcknowledged:
    return notify.ReportAcknowledged(
        **_report_fields(),
        channel="rm_writeback",
        acknowledged_at=ENDS_AT + timedelta(minutes=25),
        seconds_taken=25 * 60,
        within_deadline=True,
        attempts=2,
    )


def report_escalated() -> notify.ReportEscalated:
    return notify.ReportEscalated(
        **_report_fields(),
        escalated_at=DUE_BY - timedelta(hours=4),
        cause="failing",
        detail="rm_writeback: failed (503) x6; also webhook: acknowledged (200) x1",
    )


def report_breached() -> notify.ReportBreached:
    return notify.ReportBreached(
        **_report_fields(),
        breached_at=DUE_BY,
        cause="failing",
        detail="rm_writeback: failed (503) x7; also webhook: acknowledged (200) x1",
    )


def attendance_watchdog_warned() -> notify.AttendanceWatchdogWarned:
    return notify.AttendanceWatchdogWarned(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        appointment_id=APPOINTMENT_ID,
        hub_id="bolton",
        appointment_kind="session",
        appointment_ends_at=ENDS_AT,
        warned_at=ENDS_AT + timedelta(hours=2, seconds=12),
        warned_after_seconds=2 * 60 * 60,
    )


def exit_survey_completed() -> case_exit_survey.ExitSurveyCompleted:
    return case_exit_survey.ExitSurveyCompleted(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        offered_at=SENT_AT + timedelta(days=61),
        completed_at=SENT_AT + timedelta(days=63),
        helpfulness=4,
        helped_most="someone-to-talk-to",
        could_be_better="more-sessions",
        would_recommend="yes",
        left_comments=True,
    )


def exit_survey_declined() -> case_exit_survey.ExitSurveyDeclined:
    return case_exit_survey.ExitSurveyDeclined(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        declined_at=SENT_AT + timedelta(days=61),
    )


def mitigation_recorded() -> case_kpi.MitigationRecorded:
    return case_kpi.MitigationRecorded(
        mitigation_id=UUID("0c9b8a7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"),
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        measure="DS2",
        reason="pop-in-custody",
        occurred_at=SENT_AT + timedelta(days=3),
        recorded_at=SENT_AT + timedelta(days=3, hours=2),
    )


def non_attendance_reported() -> notify.NonAttendanceReported:
    return notify.NonAttendanceReported(
        report_id=UUID("f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"),
        case_id=CASE_ID,
        appointment_id=APPOINTMENT_ID,
        subscription_id=UUID("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"),
        webhook_id="msg_2b7f1c0e9d8a",
        acknowledged_at=ENDS_AT + timedelta(minutes=21),
        report_due_by=DUE_BY,
        within_deadline=True,
        attempts=1,
    )


def probation_alert() -> webhooks.ProbationAlert:
    recorded = attendance_recorded()
    return webhooks.ProbationAlert(
        type=webhooks.NON_ATTENDANCE_RECORDED,
        timestamp=recorded.recorded_at,
        data=webhooks.ProbationAlertData(
            case_id=CASE_ID,
            referral_id=REFERRAL_ID,
            rm_referral_id=RM_REFERRAL_ID,
            reference_number="AB1234CD",
            crn="X123456",
            hub_id="bolton",
            appointment=webhooks.AlertAppointment(
                appointment_id=APPOINTMENT_ID, kind="session", starts_at=STARTS_AT, ends_at=ENDS_AT
            ),
            attended="no",
            session_happened=False,
            no_session_reason=None,
            notify_pp_of_concerns=False,
            recorded_at=recorded.recorded_at,
            report_due_by=DUE_BY,
            session_number=3,
            rm_url=f"https://refer-monitor-intervention.service.justice.gov.uk/probation-practitioner/referrals/{RM_REFERRAL_ID}/progress",
        ),
    )


def worker_assigned() -> case_people.WorkerAssigned:
    return case_people.WorkerAssigned(
        case_id=CASE_ID,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        worker="caseworker.bolton",
        source="refer-and-monitor",
        assigned_at=datetime(2026, 2, 21, 9, 0, tzinfo=UTC),
    )


EVENT_EXAMPLES: dict[str, Callable[[], ContractModel]] = {
    "gmirs.intake.referral-received.v1": referral_received,
    "gmirs.intake.referral-assigned.v1": referral_assigned,
    "gmirs.intake.action-plan-submitted.v1": action_plan_submitted,
    "gmirs.intake.action-plan-approved.v1": action_plan_approved,
    "gmirs.intake.attendance-recorded.v1": intake_attendance_recorded,
    "gmirs.intake.session-feedback-submitted.v1": session_feedback_submitted,
    "gmirs.intake.end-of-service-report-submitted.v1": end_of_service_report_submitted,
    "gmirs.intake.referral-ended.v1": referral_ended,
    "gmirs.intake.referral-concluded.v1": referral_concluded,
    "gmirs.case.case-opened.v1": case_opened,
    "gmirs.case.appointment-booked.v1": appointment_booked,
    "gmirs.case.attendance-recorded.v1": attendance_recorded,
    **APPOINTMENT_EXAMPLES,
    **LIFECYCLE_EXAMPLES,
    **NEEDS_EXAMPLES,
    "gmirs.case.worker-assigned.v1": worker_assigned,
    "gmirs.case.mitigation-recorded.v1": mitigation_recorded,
    "gmirs.case.exit-survey-completed.v1": exit_survey_completed,
    "gmirs.case.exit-survey-declined.v1": exit_survey_declined,
    **EVIDENCE_EXAMPLES,
    "gmirs.notify.non-attendance-reported.v1": non_attendance_reported,
    "gmirs.notify.report-acknowledged.v1": report_acknowledged,
    "gmirs.notify.report-escalated.v1": report_escalated,
    "gmirs.notify.report-breached.v1": report_breached,
    "gmirs.notify.attendance-watchdog-warned.v1": attendance_watchdog_warned,
}


def example_data(ce_type: str) -> dict[str, Any]:
    """The JSON-ready data of the example for `ce_type` (a fresh dict each call)."""
    return EVENT_EXAMPLES[ce_type]().to_data()

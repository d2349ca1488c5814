"""R&M attendance and session feedback as our events: pure, no I/O.

The detail R&M returns is the session (or supplier assessment) as it is NOW, which may already
hold a newer appointment than the one the event is about (a missed session is re-booked). So the
appointment is chosen from the current one and its history: the one whose feedback was submitted
nearest the event's time, else the latest with submitted attendance. None submitted yet means R&M's
read is behind its event, which passes: a transient failure, not an unusable message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gmirs_contracts.intake_progress import AttendanceRecorded, SessionFeedbackSubmitted
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.domain.rm_json import RmJson

REPORT_WITHIN = timedelta(hours=24)
_ATTENDED = {"yes": "yes", "late": "late", "no": "no"}
_NO_SESSION = {
    "POP_ACCEPTABLE": "pop-acceptable",
    "POP_UNACCEPTABLE": "pop-unacceptable",
    "LOGISTICS": "logistics",
}
_PERSONS_REASONS = frozenset({"pop-acceptable", "pop-unacceptable"})


@dataclass(frozen=True)
class Chosen:
    """The appointment an attendance event is about, read from R&M's session or assessment."""

    kind: str  # initial-assessment | session
    session_number: int | None
    appointment: RmJson
    delius_appointment_id: str | None


def choose_appointment(detail: RmJson, *, initial_assessment: bool, at: datetime) -> Chosen:
    """The appointment whose attendance was submitted nearest `at` (the event's time)."""
    if initial_assessment:
        candidates = detail.objects("appointments")
        kind, number, delius = "initial-assessment", None, None
    else:
        current = RmJson({**detail.data, "id": detail.data.get("appointmentId")}, detail.where)
        candidates = [current, *detail.objects("oldAppointments")]
        kind, number = "session", detail.opt_int("sessionNumber")
        delius = detail.opt_text("deliusAppointmentId")
    submitted = [a for a in candidates if _attendance(a) is not None]
    if not submitted:
        raise TransientFailureError("R&M shows no submitted attendance for the appointment yet")
    timed = [(abs((t - at).total_seconds()), a) for a in submitted if (t := _submitted_at(a))]
    if timed:
        chosen = min(timed, key=lambda pair: pair[0])[1]
    else:
        chosen = max(submitted, key=lambda a: a.when("appointmentTime"))
    return Chosen(kind, number, chosen, delius)


def _feedback(appointment: RmJson) -> RmJson | None:
    return appointment.opt_obj("appointmentFeedback")


def _attendance(appointment: RmJson) -> RmJson | None:
    feedback = _feedback(appointment)
    attendance = feedback.opt_obj("attendanceFeedback") if feedback else None
    return attendance if attendance is not None and attendance.has("attended") else None


def _session_feedback(appointment: RmJson) -> RmJson:
    feedback = _feedback(appointment)
    inner = feedback.opt_obj("sessionFeedback") if feedback else None
    return inner or RmJson({}, appointment.where + ".appointmentFeedback.sessionFeedback")


def _submitted_at(appointment: RmJson) -> datetime | None:
    attendance = _attendance(appointment)
    return attendance.opt_when("submittedAt") if attendance else None


def _common(chosen: Chosen, context: dict[str, Any]) -> dict[str, Any]:
    appointment = chosen.appointment
    attendance = _attendance(appointment)
    assert attendance is not None
    session = _session_feedback(appointment)
    attended = _ATTENDED.get(attendance.text("attended").lower())
    if attended is None:
        raise UnusableMessageError(f"{attendance.where}.attended: not yes, late or no")
    happened = attendance.opt_flag("didSessionHappen")
    reason_type = session.opt_text("noSessionReasonType")
    starts = appointment.when("appointmentTime")
    minutes = appointment.opt_int("durationInMinutes")
    if minutes is None:
        raise UnusableMessageError(f"{appointment.where}.durationInMinutes: missing")
    legacy_notify = session.opt_flag("notifyProbationPractitioner")
    concerns = session.opt_flag("notifyProbationPractitionerOfConcerns")
    return {
        **context,
        "appointment_kind": chosen.kind,
        "session_number": chosen.session_number,
        "rm_appointment_id": appointment.id("id"),
        "appointment_starts_at": starts,
        "appointment_ends_at": starts + timedelta(minutes=minutes),
        "attended": attended,
        "session_happened": happened if happened is not None else attended != "no",
        "no_session_reason": _NO_SESSION.get(reason_type or ""),
        "notify_pp_of_concerns": bool(concerns if concerns is not None else legacy_notify),
    }


def attendance_recorded(
    chosen: Chosen, context: dict[str, Any], *, recorded_at: datetime
) -> AttendanceRecorded:
    """`context`: referral_id, rm_referral_id, crn and reference_number."""
    data = _common(chosen, context)
    non_attendance = data["attended"] == "no" or (
        not data["session_happened"] and data["no_session_reason"] in _PERSONS_REASONS
    )
    return AttendanceRecorded.model_validate(
        {
            **data,
            "non_attendance": non_attendance,
            "recorded_at": recorded_at,
            "report_due_by": data["appointment_ends_at"] + REPORT_WITHIN,
        }
    )


def session_feedback_submitted(
    chosen: Chosen, context: dict[str, Any], *, submitted_at: datetime
) -> SessionFeedbackSubmitted:
    data = _common(chosen, context)
    session = _session_feedback(chosen.appointment)
    late = session.opt_flag("late")
    behaviour = session.opt_flag("notifyProbationPractitionerOfBehaviour")
    legacy_notify = session.opt_flag("notifyProbationPractitioner")
    return SessionFeedbackSubmitted.model_validate(
        {
            **data,
            "submitted_at": submitted_at,
            "delius_appointment_id": chosen.delius_appointment_id,
            "late": late if late is not None else (True if data["attended"] == "late" else None),
            "late_reason": session.opt_text("lateReason"),
            "session_summary": session.opt_text("sessionSummary"),
            "session_response": session.opt_text("sessionResponse"),
            "session_concerns": session.opt_text("sessionConcerns"),
            "session_behaviour": session.opt_text("sessionBehaviour")
            or session.opt_text("behaviourDescription"),
            "no_attendance_information": session.opt_text("noAttendanceInformation"),
            "future_session_plans": session.opt_text("futureSessionPlans"),
            "notify_pp_of_behaviour": bool(behaviour if behaviour is not None else legacy_notify),
        }
    )

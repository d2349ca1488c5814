"""What the R&M write-back sends, step by step, for one hub-recorded non-attendance.

R&M takes a provider's feedback in three calls: attendance, session feedback, submit. The
platform records no free text about a missed session, so the texts R&M requires are fixed
sentences that say where the facts were recorded; the facts themselves (attended, whether the
session happened and why not, whether the practitioner should hear of concerns) are the hub's.
Pure: the paths and bodies only; the worker makes the calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    ATTENDANCE = "attendance"
    SESSION_FEEDBACK = "session-feedback"
    SUBMIT = "submit"
    DONE = "done"
    """R&M has the feedback submitted (ours, or reconciled after a 409)."""
    MANUAL = "manual"
    """R&M refused it: a person in the hub enters it in R&M by hand."""
    MANUAL_DONE = "manual-done"


NEXT = {Step.ATTENDANCE: Step.SESSION_FEEDBACK, Step.SESSION_FEEDBACK: Step.SUBMIT}
NO_ATTENDANCE_TEXT = (
    "Did not attend. Recorded by the hub in GMIRS Connect; contact the hub for details."
)
NO_SESSION_TEXT = "The session did not happen. Recorded by the hub in GMIRS Connect."
CONCERNS_TEXT = "The hub has concerns to share: please contact the hub."


@dataclass(frozen=True, slots=True)
class WriteBack:
    """One report's write-back: the facts to send and the step reached."""

    report_id: uuid.UUID
    hub_id: str
    rm_referral_id: uuid.UUID
    rm_appointment_id: uuid.UUID | None
    reference_number: str | None
    crn: str
    appointment_kind: str
    session_number: int | None
    appointment_starts_at: datetime
    appointment_ends_at: datetime
    due_at: datetime
    attended: str
    session_happened: bool
    no_session_reason: str | None
    notify_pp_of_concerns: bool
    recorded_by: str | None
    step: Step
    tries: int = 0
    last_status: int | None = None
    last_reason: str | None = None
    manual_since: datetime | None = None
    manual_done_at: datetime | None = None
    manual_done_by: str | None = None

    @property
    def is_assessment(self) -> bool:
        return self.appointment_kind == "initial-assessment"

    def path(self, step: Step) -> tuple[str, str]:
        """The method and R&M path of a step (delivery session, or supplier assessment)."""
        if self.is_assessment:
            base = f"/referral/{self.rm_referral_id}/supplier-assessment"
            names = {
                Step.ATTENDANCE: "record-attendance",
                Step.SESSION_FEEDBACK: "record-session-feedback",
            }
        else:
            base = (
                f"/referral/{self.rm_referral_id}"
                f"/delivery-session-appointments/{self.rm_appointment_id}"
            )
            names = {Step.ATTENDANCE: "attendance", Step.SESSION_FEEDBACK: "session-feedback"}
        if step is Step.SUBMIT:
            return "POST", f"{base}/submit-feedback"
        return "PUT", f"{base}/{names[step]}"

    def read_back_path(self) -> str | None:
        """Where R&M shows the appointment's feedback (None: a session without its number)."""
        if self.is_assessment:
            return f"/sent-referral/{self.rm_referral_id}/supplier-assessment"
        if self.session_number is None:
            return None
        return f"/referral/{self.rm_referral_id}/sessions/{self.session_number}"

    def body(self, step: Step) -> dict[str, Any] | None:
        if step is Step.ATTENDANCE:
            return {"attended": self.attended, "didSessionHappen": self.session_happened}
        if step is Step.SESSION_FEEDBACK:
            return self._session_feedback()
        return None

    def _session_feedback(self) -> dict[str, Any]:
        concerns = self.notify_pp_of_concerns
        body: dict[str, Any] = {
            "late": False,
            "notifyProbationPractitionerOfConcerns": concerns,
            "notifyProbationPractitionerOfBehaviour": False,
            "sessionConcerns": CONCERNS_TEXT if concerns else None,
        }
        if self.attended == "no":
            return body | {"noAttendanceInformation": NO_ATTENDANCE_TEXT}
        reason = (self.no_session_reason or "logistics").replace("-", "_").upper()
        field = {
            "POP_ACCEPTABLE": "noSessionReasonPopAcceptable",
            "POP_UNACCEPTABLE": "noSessionReasonPopUnacceptable",
            "LOGISTICS": "noSessionReasonLogistics",
        }[reason]
        return body | {"noSessionReasonType": reason, field: NO_SESSION_TEXT}

    def submitted_in(self, appointment: dict[str, Any]) -> bool:
        """Whether R&M's appointment shows this non-attendance's feedback submitted."""
        feedback = appointment.get("appointmentFeedback") or {}
        attendance = feedback.get("attendanceFeedback") or {}
        return bool(feedback.get("submitted")) and attendance.get("attended") == self.attended


def appointment_in(read: dict[str, Any], rm_appointment_id: uuid.UUID) -> dict[str, Any] | None:
    """Our appointment in R&M's delivery session or supplier assessment read."""
    wanted = str(rm_appointment_id)
    if read.get("appointmentId") == wanted:
        return read
    candidates = [*(read.get("oldAppointments") or []), *(read.get("appointments") or [])]
    return next((a for a in candidates if isinstance(a, dict) and a.get("id") == wanted), None)

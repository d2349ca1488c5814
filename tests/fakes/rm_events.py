"""HMPPS domain-event envelopes exactly as R&M publishes them (refer-and-monitor.md section 1).

Thin payloads: a type, a `detailUrl` into the R&M API that consumers fetch with a client token, the
time it happened, a flat map of extra keys, and the person's CRN. `legacy=True` produces the older
field names (`contractType`, `providerName`, a numeric `deliusAppointmentId`) seen in fixtures.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.rm_dto import iso
from tests.fakes.rm_model import (
    CONTRACT_TYPE_NAME,
    PRIME_PROVIDER,
    ActionPlan,
    Appointment,
    EndOfServiceReport,
    Referral,
    now,
)

PREFIX = "intervention."
DESCRIPTIONS = {
    "referral.sent": "A referral has been sent to a Service Provider",
    "referral.assigned": "A referral has been assigned to a caseworker / service provider",
    "referral.ended": "A referral has been ended",
    "referral.concluded": "A referral has been concluded, no more work is needed",
    "action-plan.submitted": "A draft action plan has been submitted",
    "action-plan.approved": "An action plan has been approved",
    "session-appointment.attended": "Attendance was recorded for a session appointment",
    "session-appointment.missed": "Attendance was recorded for a session appointment",
    "session-appointment.session-feedback-submitted": "Session feedback submitted for a session appointment",
    "initial-assessment-appointment.attended": "Attendance was recorded for an initial assessment appointment",
    "initial-assessment-appointment.missed": "Attendance was recorded for an initial assessment appointment",
    "initial-assessment-appointment.session-feedback-submitted": "Session feedback submitted for an initial assessment appointment",
    "end-of-service-report.submitted": "An end of service report has been submitted",
}
EVENT_TYPES = tuple(PREFIX + name for name in DESCRIPTIONS)


class EventFactory:
    """Builds envelopes whose detail URLs point into the simulator at `api_url`."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.ui_url = f"{self.api_url}/ui"

    def envelope(
        self, name: str, referral: Referral, detail_path: str, additional: dict[str, Any], at: Any
    ) -> dict[str, Any]:
        return {
            "eventType": PREFIX + name,
            "version": 1,
            "description": DESCRIPTIONS[name],
            "detailUrl": f"{self.api_url}{detail_path}",
            "occurredAt": iso(at),
            "additionalInformation": additional,
            "personReference": {"identifiers": [{"type": "CRN", "value": referral.crn}]},
        }

    def referral_sent(self, referral: Referral) -> dict[str, Any]:
        path = f"/sent-referral/{referral.id}"
        extra = {"referralId": str(referral.id)}
        return self.envelope("referral.sent", referral, path, extra, referral.sent_at)

    def referral_assigned(self, referral: Referral) -> dict[str, Any]:
        assignee = referral.assigned_to or {}
        extra = {"referralId": str(referral.id), "assignedTo": assignee.get("username", "")}
        path = f"/sent-referral/{referral.id}"
        return self.envelope("referral.assigned", referral, path, extra, referral.assigned_at)

    def action_plan(
        self, referral: Referral, plan: ActionPlan, *, approved: bool, legacy: bool = False
    ) -> dict[str, Any]:
        who = plan.approved_by if approved else plan.submitted_by
        extra: dict[str, Any] = {
            "actionPlanId": str(plan.id),
            "approvedBy" if approved else "submittedBy": (who or {}).get("username", ""),
            "referralId": str(referral.id),
            "referralReference": referral.reference_number,
            **self._contract(legacy),
            "actionPlanProbationUserUrl": f"{self.ui_url}/probation-practitioner/referrals/"
            f"{referral.id}/action-plan",
        }
        name = "action-plan.approved" if approved else "action-plan.submitted"
        at = plan.approved_at if approved else plan.submitted_at
        return self.envelope(name, referral, f"/action-plan/{plan.id}", extra, at)

    def attendance(
        self,
        referral: Referral,
        appointment: Appointment,
        *,
        session_number: int | None,
        legacy: bool = False,
    ) -> list[dict[str, Any]]:
        """Attended or missed, then session-feedback-submitted: both published on submit-feedback."""
        feedback = appointment.feedback
        if feedback is None:
            raise ValueError("attendance events need submitted feedback")
        if session_number is None:
            kind, path = (
                "initial-assessment-appointment",
                f"/sent-referral/{referral.id}/supplier-assessment",
            )
            page = f"appointment/{appointment.id}/post-assessment-feedback"
        else:
            kind, path = "session-appointment", f"/referral/{referral.id}/sessions/{session_number}"
            page = f"session/{session_number}/appointment/{appointment.id}/post-session-feedback"
        base = {"serviceUserCRN": referral.crn, "referralId": str(referral.id)}
        outcome = "missed" if feedback.attended == "no" else "attended"
        first = self.envelope(f"{kind}.{outcome}", referral, path, base, feedback.submitted_at)
        extra: dict[str, Any] = {
            **base,
            "referralReference": referral.reference_number,
            **self._contract(legacy),
            "referralProbationUserURL": f"{self.ui_url}/probation-practitioner/referrals/"
            f"{referral.id}/{page}",
        }
        if appointment.delius_appointment_id is not None:
            delius_id = appointment.delius_appointment_id
            extra["deliusAppointmentId"] = delius_id if legacy else str(delius_id)
        second = self.envelope(
            f"{kind}.session-feedback-submitted", referral, path, extra, feedback.submitted_at
        )
        return [first, second]

    def end_of_service_report(
        self, referral: Referral, report: EndOfServiceReport
    ) -> dict[str, Any]:
        extra = {
            "endOfServiceReportId": str(report.id),
            "submittedBy": report.submitted_by.get("username", ""),
        }
        path = f"/end-of-service-report/{report.id}"
        return self.envelope(
            "end-of-service-report.submitted", referral, path, extra, report.submitted_at
        )

    def referral_ended(self, referral: Referral, state: str) -> dict[str, Any]:
        withdrawal = referral.withdrawal or {}
        extra = {
            "deliveryState": state,
            "referralId": str(referral.id),
            "referralURN": f"urn:hmpps:interventions-referral:{referral.id}",
            "referralProbationUserURL": f"{self.ui_url}/probation-practitioner/referrals/"
            f"{referral.id}/progress",
            "withdrawalCode": withdrawal.get("code", ""),
        }
        at = referral.concluded_at or referral.end_requested_at or now()
        return self.envelope("referral.ended", referral, f"/sent-referral/{referral.id}", extra, at)

    def referral_concluded(self, referral: Referral, state: str) -> dict[str, Any]:
        extra = {"deliveryState": state, "referralId": str(referral.id)}
        path = f"/sent-referral/{referral.id}"
        return self.envelope("referral.concluded", referral, path, extra, referral.concluded_at)

    @staticmethod
    def _contract(legacy: bool) -> dict[str, str]:
        if legacy:
            return {"contractType": CONTRACT_TYPE_NAME, "providerName": PRIME_PROVIDER["name"]}
        return {"contractTypeName": CONTRACT_TYPE_NAME, "primeProviderName": PRIME_PROVIDER["name"]}

"""R&M progress (assignment, plans, attendance, feedback, reports, endings) mapped to our events.

Hand-written R&M JSON following refer-and-monitor.md §1-§3; pure, no I/O.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gmirs_contracts.registry import EVENTS
from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.domain.rm_envelope import RM_EVENT_TYPES, parse_envelope
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.domain.rm_progress import ReferralRef, progress_event, rm_referral_id

RM_ID = uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")
OUR_ID = uuid.UUID("6d1f3a52-0b7e-4c56-9a1e-3f3b2f1d9c01")
API = "https://interventions.example/api"
REF = ReferralRef(OUR_ID, RM_ID, "X123456", "AY0164AC")
AT = "2026-03-02T11:20:00Z"
PLAN_ID = str(uuid.uuid4())
REPORT_ID = str(uuid.uuid4())


def appointment(
    *, attended: str | None, time: str, submitted_at: str | None = None, **session: Any
) -> dict[str, Any]:
    """An Appointment with attendance (if `attended`) and session feedback (`session`)."""
    return {
        "id": str(uuid.uuid4()),
        "appointmentTime": time,
        "durationInMinutes": 60,
        "appointmentDeliveryType": "PHONE_CALL",
        "sessionType": "ONE_TO_ONE",
        "superseded": False,
        "appointmentFeedback": {
            "attendanceFeedback": {
                "attended": attended,
                "didSessionHappen": session.pop("didSessionHappen", None),
                "submittedAt": submitted_at,
            },
            "sessionFeedback": session,
            "submitted": attended is not None,
        },
    }


def delivery_session(number: int, current: dict[str, Any], *old: dict[str, Any]) -> dict[str, Any]:
    """GET /referral/{id}/sessions/{n}: the current appointment flattened, earlier ones kept."""
    fields = {k: v for k, v in current.items() if k != "id"}
    return {
        "id": str(uuid.uuid4()),
        "sessionNumber": number,
        "appointmentId": current["id"],
        **fields,
        "deliusAppointmentId": "2500012345",
        "oldAppointments": list(old),
    }


def envelope(event_type: str, detail_path: str, at: str, **info: Any) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "version": 1,
        "description": "fixture",
        "detailUrl": API + detail_path,
        "occurredAt": at,
        "additionalInformation": {"referralId": str(RM_ID), **info},
        "personReference": {"identifiers": [{"type": "CRN", "value": "X123456"}]},
    }


def _missed_then_rebooked() -> tuple[dict[str, Any], dict[str, Any]]:
    """Session 2 missed (feedback submitted at AT), then re-booked: R&M shows the new one first."""
    missed = appointment(
        attended="no",
        time="2026-03-02T10:00:00Z",
        submitted_at=AT,
        didSessionHappen=False,
        noAttendanceInformation="Phoned twice.",
        notifyProbationPractitionerOfConcerns=True,
        notifyProbationPractitionerOfBehaviour=False,
    )
    rebooked = appointment(attended=None, time="2026-03-09T10:00:00Z")
    return delivery_session(2, rebooked, missed), missed


def _map(event_type: str, path: str, detail: dict[str, Any], **info: Any) -> Any:
    mapped = progress_event(parse_envelope(envelope(event_type, path, AT, **info)), detail, REF)
    assert mapped is not None
    ce_type, payload = mapped
    validate_event(ce_type, payload.to_data())
    return ce_type, payload


def test_a_missed_session_is_a_non_attendance_of_the_appointment_the_event_is_about() -> None:
    detail, missed = _missed_then_rebooked()
    path = f"/referral/{RM_ID}/sessions/2"
    ce_type, event = _map("intervention.session-appointment.missed", path, detail)
    assert ce_type == "gmirs.intake.attendance-recorded.v1"
    assert event.rm_appointment_id == uuid.UUID(missed["id"])
    assert (event.appointment_kind, event.session_number) == ("session", 2)
    assert (event.attended, event.session_happened, event.non_attendance) == ("no", False, True)
    assert event.appointment_starts_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert event.report_due_by == event.appointment_ends_at + timedelta(hours=24)
    assert event.appointment_ends_at - event.appointment_starts_at == timedelta(minutes=60)
    assert (event.referral_id, event.rm_referral_id, event.crn) == (OUR_ID, RM_ID, "X123456")
    assert event.notify_pp_of_concerns is True

    ce_type, feedback = _map(
        "intervention.session-appointment.session-feedback-submitted", path, detail
    )
    assert ce_type == "gmirs.intake.session-feedback-submitted.v1"
    assert feedback.rm_appointment_id == uuid.UUID(missed["id"])
    assert feedback.no_attendance_information == "Phoned twice."
    assert feedback.delius_appointment_id == "2500012345"


def test_the_appointment_nearest_the_event_time_is_chosen() -> None:
    early = appointment(
        attended="yes", time="2026-02-23T10:00:00Z", submitted_at="2026-02-23T11:30:00Z"
    )
    later = appointment(
        attended="late", time="2026-03-02T10:00:00Z", submitted_at="2026-03-02T11:20:02Z"
    )
    detail = delivery_session(1, early, later)
    path = f"/referral/{RM_ID}/sessions/1"
    _, event = _map("intervention.session-appointment.attended", path, detail)
    assert event.rm_appointment_id == uuid.UUID(later["id"])
    assert (event.attended, event.session_happened, event.non_attendance) == ("late", True, False)


@pytest.mark.parametrize(
    ("reason", "ours", "non_attendance"),
    [
        ("POP_ACCEPTABLE", "pop-acceptable", True),
        ("POP_UNACCEPTABLE", "pop-unacceptable", True),
        ("LOGISTICS", "logistics", False),
    ],
)
def test_no_session_for_the_persons_reason_is_a_non_attendance(
    reason: str, ours: str, non_attendance: bool
) -> None:
    current = appointment(
        attended="yes",
        time="2026-03-02T10:00:00Z",
        submitted_at=AT,
        didSessionHappen=False,
        noSessionReasonType=reason,
    )
    detail = delivery_session(1, current)
    _, event = _map(
        "intervention.session-appointment.attended", f"/referral/{RM_ID}/sessions/1", detail
    )
    assert (event.no_session_reason, event.non_attendance) == (ours, non_attendance)


def test_legacy_feedback_fields_are_understood() -> None:
    current = appointment(
        attended="yes",
        time="2026-03-02T10:00:00Z",
        submitted_at=AT,
        notifyProbationPractitioner=True,
        behaviourDescription="Shouted.",
    )
    detail = delivery_session(1, current)
    path = f"/referral/{RM_ID}/sessions/1"
    _, feedback = _map("intervention.session-appointment.session-feedback-submitted", path, detail)
    assert (feedback.notify_pp_of_concerns, feedback.notify_pp_of_behaviour) == (True, True)
    assert feedback.session_behaviour == "Shouted."
    assert feedback.session_happened is True


def test_an_initial_assessment_has_no_session_number() -> None:
    attended = appointment(attended="yes", time="2026-02-25T10:00:00Z", submitted_at=AT)
    detail = {
        "id": str(uuid.uuid4()),
        "referralId": str(RM_ID),
        "currentAppointmentId": attended["id"],
        "appointments": [attended],
    }
    path = f"/sent-referral/{RM_ID}/supplier-assessment"
    ce_type, event = _map("intervention.initial-assessment-appointment.attended", path, detail)
    assert ce_type == "gmirs.intake.attendance-recorded.v1"
    assert (event.appointment_kind, event.session_number) == ("initial-assessment", None)
    _, feedback = _map(
        "intervention.initial-assessment-appointment.session-feedback-submitted",
        path,
        detail,
        deliusAppointmentId=99,
    )
    assert feedback.delius_appointment_id == "99"


def test_attendance_not_yet_visible_in_r_and_m_is_transient() -> None:
    detail = delivery_session(1, appointment(attended=None, time="2026-03-02T10:00:00Z"))
    event = parse_envelope(
        envelope("intervention.session-appointment.missed", f"/referral/{RM_ID}/sessions/1", AT)
    )
    with pytest.raises(TransientFailureError):
        progress_event(event, detail, REF)


def _plan() -> dict[str, Any]:
    return {
        "id": PLAN_ID,
        "referralId": str(RM_ID),
        "numberOfSessions": 4,
        "activities": [{"id": str(uuid.uuid4()), "description": "Coping skills", "createdAt": AT}],
        "submittedAt": "2026-02-26T15:00:00Z",
        "approvedAt": AT,
    }


def _report(level: str = "PARTIALLY_ACHIEVED") -> dict[str, Any]:
    outcome = {
        "desiredOutcome": {"id": str(uuid.uuid4()), "description": "Reduced isolation"},
        "achievementLevel": level,
        "progressionComments": "Going well.",
        "additionalTaskComments": None,
    }
    achieved = {**outcome, "achievementLevel": "ACHIEVED"}
    return {
        "id": REPORT_ID,
        "referralId": str(RM_ID),
        "submittedAt": AT,
        "furtherInformation": None,
        "outcomes": [outcome, achieved],
    }


def _detail_for(event_type: str) -> tuple[str, dict[str, Any]]:
    if "action-plan" in event_type:
        return f"/action-plan/{PLAN_ID}", _plan()
    if "end-of-service-report" in event_type:
        return f"/end-of-service-report/{REPORT_ID}", _report()
    if "initial-assessment" in event_type:
        attended = appointment(attended="yes", time="2026-02-25T10:00:00Z", submitted_at=AT)
        return f"/sent-referral/{RM_ID}/supplier-assessment", {"appointments": [attended]}
    if "session-appointment" in event_type:
        return f"/referral/{RM_ID}/sessions/2", _missed_then_rebooked()[0]
    return f"/sent-referral/{RM_ID}", {
        "id": str(RM_ID),
        "endRequestedAt": AT,
        "assignedTo": {"username": "sp.later"},
    }


@pytest.mark.parametrize("event_type", RM_EVENT_TYPES)
def test_every_r_and_m_event_type_maps_to_one_of_our_published_types(event_type: str) -> None:
    path, detail = _detail_for(event_type)
    info = {"deliveryState": "COMPLETED", "withdrawalCode": "", "assignedTo": "sp.user"}
    mapped = progress_event(parse_envelope(envelope(event_type, path, AT, **info)), detail, REF)
    if event_type == "intervention.referral.sent":
        assert mapped is None
        return
    assert mapped is not None
    ce_type, payload = mapped
    assert ce_type in EVENTS
    assert ce_type.startswith("gmirs.intake.")
    validate_event(ce_type, payload.to_data())
    assert payload.to_data()["referral_id"] == str(OUR_ID)


def test_plans_reports_and_endings_carry_their_facts() -> None:
    _, submitted = _map("intervention.action-plan.submitted", f"/action-plan/{PLAN_ID}", _plan())
    assert (submitted.number_of_sessions, submitted.activities) == (4, ["Coping skills"])
    _, approved = _map("intervention.action-plan.approved", f"/action-plan/{PLAN_ID}", _plan())
    assert approved.submitted_at == datetime(2026, 2, 26, 15, tzinfo=UTC)
    _, report = _map(
        "intervention.end-of-service-report.submitted",
        f"/end-of-service-report/{REPORT_ID}",
        _report(),
    )
    assert report.achievement_score == 1.5
    assert [o.achievement_level for o in report.outcomes] == ["partially-achieved", "achieved"]
    sent = {"id": str(RM_ID), "endRequestedAt": "2026-05-30T12:00:00Z"}
    _, ended = _map(
        "intervention.referral.ended",
        f"/sent-referral/{RM_ID}",
        sent,
        deliveryState="PREMATURELY_ENDED",
        withdrawalCode="",
    )
    assert (ended.delivery_state, ended.withdrawal_code) == ("prematurely-ended", None)
    assert ended.end_requested_at == datetime(2026, 5, 30, 12, tzinfo=UTC)
    _, assigned = _map(
        "intervention.referral.assigned", f"/sent-referral/{RM_ID}", sent, assignedTo="sp.one"
    )
    assert assigned.assigned_to == "sp.one"


def test_a_report_names_its_referral_only_in_its_detail() -> None:
    event = parse_envelope(
        envelope(
            "intervention.end-of-service-report.submitted",
            f"/end-of-service-report/{REPORT_ID}",
            AT,
        )
    )
    event = type(event)(**{**event.__dict__, "additional_information": {}})
    assert rm_referral_id(event, _report()) == RM_ID
    with pytest.raises(UnusableMessageError, match="referralId: missing"):
        rm_referral_id(event, {"id": REPORT_ID})


@pytest.mark.parametrize(
    ("event_type", "path", "detail", "info", "reason"),
    [
        (
            "intervention.referral.concluded",
            f"/sent-referral/{RM_ID}",
            {},
            {},
            "additionalInformation.deliveryState: missing",
        ),
        (
            "intervention.referral.ended",
            f"/sent-referral/{RM_ID}",
            {},
            {"deliveryState": "LOST"},
            "additionalInformation.deliveryState: unknown",
        ),
        (
            "intervention.end-of-service-report.submitted",
            f"/end-of-service-report/{REPORT_ID}",
            _report("SOMEWHAT"),
            {},
            "detail.outcomes[0].achievementLevel: unknown",
        ),
        (
            "intervention.referral.assigned",
            f"/sent-referral/{RM_ID}",
            {},
            {},
            "additionalInformation.assignedTo: missing",
        ),
    ],
)
def test_unusable_progress_says_which_field(
    event_type: str, path: str, detail: dict[str, Any], info: dict[str, Any], reason: str
) -> None:
    with pytest.raises(UnusableMessageError) as caught:
        progress_event(parse_envelope(envelope(event_type, path, AT, **info)), detail, REF)
    assert caught.value.reason == reason

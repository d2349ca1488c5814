"""R&M's feedback endpoints: a provider's attendance and session feedback, drafted then submitted.

As R&M's `AppointmentsController` / `SupplierAssessmentController` behave: every call is mapped to
a user (a token without `user_name`, `user_id` and an `auth_source` of auth or delius gets 403
"could not map auth token to user", as does a user R&M cannot give access to the referral:
`Faults.unmapped_users`); feedback for an appointment in the future is a 400; any write after
the feedback was submitted is a 409; submitting without attendance and session feedback is a 422.
Submitting publishes the attended/missed and session-feedback-submitted events, as R&M does.
`submits` counts the submissions R&M accepted, so tests can prove nothing was submitted twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes import rm_dto
from tests.fakes.rm_auth import HmppsAuth
from tests.fakes.rm_events import EventFactory
from tests.fakes.rm_faults import Faults
from tests.fakes.rm_model import Appointment, Feedback, Referral, RmStore, now
from tests.fakes.rm_publisher import Publisher

DELIVERY = "/referral/{id}/delivery-session-appointments/{appointment_id}"
ASSESSMENT = "/referral/{id}/supplier-assessment"
ATTENDED = frozenset({"yes", "late", "no"})


class FeedbackRefusedError(Exception):
    """Answered with R&M's error body and this status."""

    def __init__(self, status: int, message: str, fields: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields or []


@dataclass
class RmFeedback:
    store: RmStore
    auth: HmppsAuth
    faults: Faults
    publisher: Publisher
    events: EventFactory
    submits: list[uuid.UUID] = field(default_factory=list)

    def handlers(self) -> list[tuple[str, Any, list[str]]]:
        put, post = ["PUT"], ["POST"]
        return [
            (f"{DELIVERY}/attendance", self.attendance, put),
            (f"{DELIVERY}/session-feedback", self.session_feedback, put),
            (f"{DELIVERY}/submit-feedback", self.submit, post),
            (f"{ASSESSMENT}/record-attendance", self.attendance, put),
            (f"{ASSESSMENT}/record-session-feedback", self.session_feedback, put),
            (f"{ASSESSMENT}/submit-feedback", self.submit, post),
        ]

    async def attendance(self, request: Request) -> Response:
        return await self._answer(request, self._record_attendance)

    async def session_feedback(self, request: Request) -> Response:
        return await self._answer(request, self._record_session)

    async def submit(self, request: Request) -> Response:
        return await self._answer(request, self._submit)

    async def _answer(self, request: Request, step: Any) -> Response:
        try:
            self._user(request)
            referral, appointment, number = self._appointment(request)
            if appointment.feedback is not None:
                raise FeedbackRefusedError(409, "feedback has already been submitted")
            await step(request, referral, appointment, number)
        except FeedbackRefusedError as exc:
            return _refused(exc)
        return JSONResponse(rm_dto.appointment(appointment))

    def _user(self, request: Request) -> dict[str, str]:
        user = self.auth.user_of(request)
        if user is None:
            raise FeedbackRefusedError(403, "could not map auth token to user")
        if user["username"] in self.faults.unmapped_users:
            raise FeedbackRefusedError(403, "user is not authorized for this referral")
        return user

    def _appointment(self, request: Request) -> tuple[Referral, Appointment, int | None]:
        referral = self.store.referral_for(_uuid(request.path_params["id"]))
        if referral is None:
            raise FeedbackRefusedError(404, "sent referral not found")
        if "appointment_id" not in request.path_params:
            if not referral.assessment:
                raise FeedbackRefusedError(404, "supplier assessment appointment not found")
            return referral, referral.assessment[-1], None
        wanted = _uuid(request.path_params["appointment_id"])
        for number, slot in referral.sessions.items():
            for appointment in slot:
                if appointment.id == wanted:
                    return referral, appointment, number
        raise FeedbackRefusedError(404, "delivery session appointment not found")

    async def _record_attendance(
        self, request: Request, _: Referral, appointment: Appointment, __: int | None
    ) -> None:
        body = await _body(request)
        _not_in_future(appointment)
        attended = body.get("attended")
        if attended not in ATTENDED:
            raise FeedbackRefusedError(400, "validation error", [_field("attended", "INVALID")])
        happened = body.get("didSessionHappen")
        if happened is not None and not isinstance(happened, bool):
            raise FeedbackRefusedError(
                400, "validation error", [_field("didSessionHappen", "INVALID_VALUE")]
            )
        appointment.draft_attendance = {
            "attended": attended,
            "didSessionHappen": happened if happened is not None else attended != "no",
        }

    async def _record_session(
        self, request: Request, _: Referral, appointment: Appointment, __: int | None
    ) -> None:
        body = await _body(request)
        _not_in_future(appointment)
        missing = _missing_session_fields(body, appointment.draft_attendance)
        if missing:
            raise FeedbackRefusedError(400, "validation error", missing)
        appointment.draft_session = body

    async def _submit(
        self, request: Request, referral: Referral, appointment: Appointment, number: int | None
    ) -> None:
        user = self._user(request)
        draft, session = appointment.draft_attendance, appointment.draft_session
        if draft is None or session is None:
            raise FeedbackRefusedError(422, "attendance and session feedback must be recorded")
        appointment.feedback = Feedback(
            draft["attended"], draft["didSessionHappen"], session, now(), user
        )
        self.submits.append(appointment.id)
        envelopes = self.events.attendance(referral, appointment, session_number=number)
        await self.publisher.publish_events(envelopes)


def _missing_session_fields(
    body: dict[str, Any], attendance: dict[str, Any] | None
) -> list[dict[str, str]]:
    """R&M's SessionFeedback validation for the attendance recorded (attended no, or not)."""
    required = ["notifyProbationPractitionerOfConcerns"]
    if attendance is not None and attendance["attended"] == "no":
        required.append("noAttendanceInformation")
    elif attendance is not None and attendance["didSessionHappen"]:
        required += ["sessionSummary", "sessionResponse", "late"]
    if body.get("notifyProbationPractitionerOfConcerns") is True:
        required.append("sessionConcerns")
    return [_field(name, "CANNOT_BE_EMPTY") for name in required if body.get(name) in (None, "")]


def _not_in_future(appointment: Appointment) -> None:
    if appointment.appointment_time > now():
        raise FeedbackRefusedError(
            400, "cannot record feedback for a future appointment",
            [_field("appointmentTime", "APPOINTMENT_MUST_BE_COMPLETED")],
        )  # fmt: skip


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise FeedbackRefusedError(400, "malformed JSON") from None
    if not isinstance(body, dict):
        raise FeedbackRefusedError(400, "a JSON object is required")
    return body


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise FeedbackRefusedError(400, f"invalid id [{text}]") from None


def _field(name: str, error: str) -> dict[str, str]:
    return {"field": name, "error": error}


def _refused(exc: FeedbackRefusedError) -> Response:
    errors = {400: "validation error", 403: "access denied", 404: "not found", 409: "conflict"}
    body = {
        "status": exc.status,
        "error": errors.get(exc.status, "unprocessable entity"),
        "message": exc.message,
        "userMessage": None,
        "validationErrors": exc.fields or None,
        "accessErrors": [exc.message] if exc.status == 403 else None,
    }
    return JSONResponse(body, status_code=exc.status)

"""Bodies of the simulator's scenario-control requests (POST /_control/...); unknown fields are refused.

Every action also takes `delivery` (publish | hold | withhold; default the faults' setting),
`channels` (["sns", "push"]; default every configured one), `order` (as-is | reversed, for actions
that publish two events) and `legacy` (older additionalInformation field names).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.rm_faults import Delivery

Body = TypeVar("Body", bound=BaseModel)
Attended = Literal["yes", "late", "no"]
NoSessionReason = Literal["POP_ACCEPTABLE", "POP_UNACCEPTABLE", "LOGISTICS"]
DeliveryType = Literal[
    "PHONE_CALL", "VIDEO_CALL", "IN_PERSON_MEETING_PROBATION_OFFICE", "IN_PERSON_MEETING_OTHER"
]
DeliveryState = Literal["CANCELLED", "PREMATURELY_ENDED", "COMPLETED"]
WithdrawalState = Literal[
    "PRE_ICA_WITHDRAWAL", "POST_ICA_WITHDRAWAL", "POST_ICA_CLOSE_REFERRAL_EARLY"
]
Category = Literal[
    "Lifestyle and Associates",
    "Family and Significant Others",
    "Emotional Wellbeing",
    "Social Inclusion",
]  # the Personal Wellbeing contract type's categories (rm_model.PWB_CATEGORIES)


def _one_category() -> list[Category]:
    return ["Emotional Wellbeing"]


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery: Delivery | None = None
    channels: list[Literal["sns", "push"]] | None = None
    order: Literal["as-is", "reversed"] = "as-is"
    legacy: bool = False


class NewReferral(Action):
    """Leave `contract_reference` out to get the PDU's borough contract; send null for none."""

    crn: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{6}$")
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date = date(1990, 1, 15)
    pdu: str = "Bolton"
    contract_reference: str | None = None
    service_categories: list[Category] = Field(default_factory=_one_category, min_length=1)
    complexity: Literal["LOW", "MEDIUM", "HIGH"] = "MEDIUM"
    sent_at: datetime | None = None
    pp_name: str = "Pat Practitioner"
    pp_email: str = "pat.practitioner@justice.example"
    further_information: str = "Referred for well-being support."
    needs_interpreter: bool = False
    interpreter_language: str | None = None


class Assign(Action):
    username: str = "sp.caseworker"


class SubmitActionPlan(Action):
    number_of_sessions: int = Field(default=4, ge=1, le=100)
    activities: list[str] = Field(default_factory=lambda: ["Work towards well-being goals"])
    submitted_by: str = "sp.caseworker"


class ApproveActionPlan(Action):
    approved_by: str = "pp.user"


class Attendance(Action):
    """Attendance and session feedback for an appointment, submitted together (R&M's submit-feedback)."""

    attended: Attended = "yes"
    did_session_happen: bool | None = None  # default: attended is not "no"
    no_session_reason_type: NoSessionReason | None = None
    late: bool | None = None
    late_reason: str | None = None
    appointment_time: datetime | None = None  # default: an hour ago (feedback is for the past)
    duration_minutes: int = Field(default=60, ge=1)
    delivery_type: DeliveryType = "PHONE_CALL"
    session_type: Literal["ONE_TO_ONE", "GROUP"] = "ONE_TO_ONE"
    nps_office_code: str | None = None
    session_summary: str | None = None
    session_response: str | None = None
    session_concerns: str | None = None
    session_behaviour: str | None = None
    no_attendance_information: str | None = None
    future_session_plans: str | None = None
    notify_pp_of_concerns: bool = False
    notify_pp_of_behaviour: bool = False
    with_delius_appointment_id: bool = True
    submitted_by: str = "sp.caseworker"

    def session_feedback(self, happened: bool) -> dict[str, Any]:
        """R&M's SessionFeedback, with the texts its validation demands filled in when left out."""
        reason = self.no_session_reason_type
        if not happened and self.attended != "no" and reason is None:
            reason = "LOGISTICS"
        reason_text = "Recorded by the simulator."
        return {
            "late": self.late if self.late is not None else self.attended == "late",
            "lateReason": self.late_reason,
            "futureSessionPlans": self.future_session_plans,
            "noAttendanceInformation": self.no_attendance_information
            or ("Tried to contact by phone." if self.attended == "no" else None),
            "noSessionReasonType": reason,
            "noSessionReasonPopAcceptable": reason_text if reason == "POP_ACCEPTABLE" else None,
            "noSessionReasonPopUnacceptable": reason_text if reason == "POP_UNACCEPTABLE" else None,
            "noSessionReasonLogistics": reason_text if reason == "LOGISTICS" else None,
            "sessionSummary": self.session_summary or ("Discussed goals." if happened else None),
            "sessionResponse": self.session_response or ("Engaged well." if happened else None),
            "sessionConcerns": self.session_concerns,
            "sessionBehaviour": self.session_behaviour,
            "notifyProbationPractitionerOfBehaviour": self.notify_pp_of_behaviour,
            "notifyProbationPractitionerOfConcerns": self.notify_pp_of_concerns,
        }


class Schedule(BaseModel):
    """Book an appointment (its feedback to come through the feedback endpoints)."""

    model_config = ConfigDict(extra="forbid")

    appointment_time: datetime | None = None  # default: an hour ago (feedback is for the past)
    duration_minutes: int = Field(default=60, ge=1)
    delivery_type: DeliveryType = "PHONE_CALL"


class SubmitEndOfServiceReport(Action):
    further_information: str = "Work completed."
    achievement_level: Literal["ACHIEVED", "PARTIALLY_ACHIEVED", "NOT_ACHIEVED"] = "ACHIEVED"
    submitted_by: str = "sp.caseworker"


class End(Action):
    """Request the end of a referral (publishes referral.ended)."""

    reason_code: str = "NOT"
    comments: str = "Ended in the simulator."
    delivery_state: DeliveryState | None = None  # default: worked out from sessions, as R&M does


class Conclude(Action):
    delivery_state: DeliveryState | None = None


class Withdraw(Action):
    """Withdraw: concludes at once and publishes referral.concluded then referral.ended."""

    code: str = "NOT"
    comments: str = "Withdrawn in the simulator."
    withdrawal_state: WithdrawalState | None = None
    delivery_state: DeliveryState | None = None


class RawPublish(BaseModel):
    """Publish exactly this text (or this JSON), e.g. a malformed or unknown event."""

    model_config = ConfigDict(extra="forbid")

    message: str | dict[str, Any]
    event_type: str | None = None  # the SNS message attribute; omit to send none
    channels: list[Literal["sns", "push"]] | None = None


class Release(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: Literal["as-is", "reversed"] = "as-is"


class ControlRequestError(Exception):
    """A control request that cannot be served; carries its response (422 or 404)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def control_error_handler(_: Request, exc: Exception) -> Response:
    """Starlette exception handler: answer a control-request problem with its response."""
    assert isinstance(exc, ControlRequestError)
    return exc.response


async def parse(request: Request, model: type[Body]) -> Body:
    """The request's JSON body (empty means all defaults) as `model`, or a 422."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise ControlRequestError(JSONResponse({"error": errors}, status_code=422)) from None


def parse_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ControlRequestError(not_found("id")) from None


def not_found(what: str) -> Response:
    return JSONResponse({"error": f"{what} not found"}, status_code=404)

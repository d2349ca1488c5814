"""The API's request and response shapes, separate from tables and domain objects."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from gmirs_case.domain.model import Appointment, Case
from gmirs_contracts.common import Moment

AppointmentKindName = Literal["initial-assessment", "session"]
DeliveryTypeName = Literal[
    "phone-call", "video-call", "in-person-probation-office", "in-person-other"
]
AttendedName = Literal["yes", "late", "no"]
NoSessionReasonName = Literal["pop-acceptable", "pop-unacceptable", "logistics"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppointmentCreate(_Strict):
    kind: AppointmentKindName
    session_number: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    starts_at: Moment
    ends_at: Moment
    delivery_type: DeliveryTypeName

    @model_validator(mode="after")
    def _ends_after_start(self) -> AppointmentCreate:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AttendanceCreate(_Strict):
    attended: AttendedName
    session_happened: StrictBool
    no_session_reason: NoSessionReasonName | None = None
    notify_pp_of_concerns: StrictBool = False


class AttendanceRead(BaseModel):
    attended: AttendedName
    session_happened: bool
    no_session_reason: NoSessionReasonName | None
    notify_pp_of_concerns: bool
    non_attendance: bool
    recorded_at: AwareDatetime


class AppointmentRead(BaseModel):
    id: uuid.UUID
    kind: AppointmentKindName
    session_number: int | None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    delivery_type: DeliveryTypeName
    booked_at: AwareDatetime
    report_due_by: AwareDatetime
    attendance: AttendanceRead | None

    @classmethod
    def of(cls, a: Appointment) -> AppointmentRead:
        att = a.attendance
        return cls(
            id=a.id,
            kind=a.kind.value,
            session_number=a.session_number,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            delivery_type=a.delivery_type.value,
            booked_at=a.booked_at,
            report_due_by=a.report_due_by,
            attendance=None
            if att is None
            else AttendanceRead(
                attended=att.attended.value,
                session_happened=att.session_happened,
                no_session_reason=att.no_session_reason.value if att.no_session_reason else None,
                notify_pp_of_concerns=att.notify_pp_of_concerns,
                non_attendance=att.is_non_attendance,
                recorded_at=att.recorded_at,
            ),
        )


class CaseRead(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    probation_delivery_unit: str
    crn: str
    reference_number: str | None
    opened_at: AwareDatetime
    appointments: list[AppointmentRead]

    @classmethod
    def of(cls, case: Case) -> CaseRead:
        return cls(
            id=case.id,
            referral_id=case.referral_id,
            hub_id=case.hub_id,
            probation_delivery_unit=case.probation_delivery_unit,
            crn=case.crn,
            reference_number=case.reference_number,
            opened_at=case.opened_at,
            appointments=[AppointmentRead.of(a) for a in case.appointments],
        )


class CaseSummary(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    probation_delivery_unit: str
    reference_number: str | None
    opened_at: AwareDatetime


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int

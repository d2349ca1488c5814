"""The API's request and response shapes, separate from tables and domain objects."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from gmirs_case.domain.model import Attendance, Case
from gmirs_case.entrypoints.appointment_schemas import (
    AddressRead,
    CancellationRead,
    DeliveryTypeName,
    PlaceBody,
    RescheduledRead,
    SessionTypeName,
)
from gmirs_case.entrypoints.lifecycle_schemas import LifecycleRead
from gmirs_contracts.case_lifecycle import CaseState as StateName
from gmirs_contracts.common import Moment

AppointmentKindName = Literal["initial-assessment", "session"]
AttendedName = Literal["yes", "late", "no"]
NoSessionReasonName = Literal["pop-acceptable", "pop-unacceptable", "logistics"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppointmentCreate(PlaceBody):
    """A one-to-one or family appointment of one case (group sessions: /group-sessions)."""

    kind: AppointmentKindName
    session_number: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    starts_at: Moment
    ends_at: Moment
    session_type: Literal["one-to-one", "family"] = "one-to-one"

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

    def domain(self, recorded_at: datetime) -> Attendance:
        return Attendance.of(
            self.attended,
            self.session_happened,
            self.no_session_reason,
            self.notify_pp_of_concerns,
            recorded_at=recorded_at,
        )


class _Read(BaseModel):
    """A response read straight from the domain objects' attributes (`model_validate(case)`)."""

    model_config = ConfigDict(from_attributes=True)


class AttendanceRead(_Read):
    attended: AttendedName
    session_happened: bool
    no_session_reason: NoSessionReasonName | None
    notify_pp_of_concerns: bool
    non_attendance: bool = Field(
        validation_alias=AliasChoices("non_attendance", "is_non_attendance")
    )
    recorded_at: AwareDatetime


class AppointmentRead(_Read):
    id: uuid.UUID
    kind: AppointmentKindName
    session_number: int | None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    delivery_type: DeliveryTypeName | None
    booked_at: AwareDatetime
    report_due_by: AwareDatetime
    attendance: AttendanceRead | None
    rm_appointment_id: uuid.UUID | None = Field(
        description="Refer and Monitor's id: of an appointment it booked, or linked to this one."
    )
    session_type: SessionTypeName
    nps_office_code: str | None
    address: AddressRead | None
    group_session_id: uuid.UUID | None = Field(
        description="The group or family session whose register this appointment is a place on."
    )
    cancellation: CancellationRead | None
    reschedules: list[RescheduledRead] = Field(description="Its earlier times, oldest first.")


class CaseRead(_Read):
    id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    probation_delivery_unit: str
    crn: str
    reference_number: str | None
    opened_at: AwareDatetime
    lifecycle: LifecycleRead
    appointments: list[AppointmentRead]

    @classmethod
    def of(cls, case: Case, lifecycle: LifecycleRead) -> CaseRead:
        fields = {name: getattr(case, name) for name in cls.model_fields if name != "lifecycle"}
        return cls.model_validate({**fields, "lifecycle": lifecycle})


class CaseSummary(_Read):
    id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    probation_delivery_unit: str
    reference_number: str | None
    opened_at: AwareDatetime
    state: StateName = Field(description="Where the case is in its lifecycle.")

"""Request and response shapes of group and family sessions and their registers."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, StrictInt, model_validator

from gmirs_case.domain.group_sessions import MAX_REGISTER, GroupSession
from gmirs_case.domain.model import Appointment, Case
from gmirs_case.entrypoints.appointment_schemas import (
    AddressRead,
    CancellationRead,
    DeliveryTypeName,
    PlaceBody,
    RescheduledRead,
)
from gmirs_case.entrypoints.schemas import AttendanceRead
from gmirs_contracts.common import HubId, Moment

SessionNumber = Annotated[StrictInt, Field(ge=1, le=100)]


class ParticipantBody(BaseModel):
    model_config = {"extra": "forbid"}

    case_id: uuid.UUID
    session_number: SessionNumber | None = Field(
        default=None, description="Which session of the person's own action plan this is."
    )


class GroupSessionCreate(PlaceBody):
    session_type: Literal["group", "family"]
    starts_at: Moment
    ends_at: Moment
    hub_id: HubId | None = Field(
        default=None, description="The hub whose session it is: the lead provider names it."
    )
    participants: Annotated[list[ParticipantBody], Field(min_length=1, max_length=MAX_REGISTER)] = (
        Field(description="The register: the cases of the hub on the session.")
    )

    @model_validator(mode="after")
    def _sound(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        cases = [p.case_id for p in self.participants]
        if len(set(cases)) != len(cases):
            raise ValueError("a case appears on the register once")
        return self


class RegisterEntryRead(BaseModel):
    case_id: uuid.UUID
    appointment_id: uuid.UUID
    session_number: int | None
    rm_appointment_id: uuid.UUID | None
    attendance: AttendanceRead | None


class GroupSessionRead(BaseModel):
    id: uuid.UUID
    hub_id: str
    session_type: Literal["group", "family"]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    delivery_type: DeliveryTypeName
    nps_office_code: str | None
    address: AddressRead | None
    created_at: AwareDatetime
    cancellation: CancellationRead | None
    reschedules: list[RescheduledRead] = Field(description="Its earlier times, oldest first.")
    participants: list[RegisterEntryRead] = Field(
        description="The register, with each person's attendance once recorded."
    )

    @classmethod
    def of(cls, session: GroupSession, places: list[tuple[Case, Appointment]]) -> GroupSessionRead:
        participants = [
            RegisterEntryRead(
                case_id=case.id,
                appointment_id=a.id,
                session_number=a.session_number,
                rm_appointment_id=a.rm_appointment_id,
                attendance=AttendanceRead.model_validate(a.attendance) if a.attendance else None,
            )
            for case, a in places
        ]
        return cls.model_validate(
            {
                **{n: getattr(session, n) for n in cls.model_fields if n != "participants"},
                "participants": participants,
            },
            from_attributes=True,
        )


class GroupSessionSummary(BaseModel):
    """A session in a list: no one on its register is named, only how many there are."""

    id: uuid.UUID
    hub_id: str
    session_type: Literal["group", "family"]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    delivery_type: DeliveryTypeName
    cancelled: bool
    places: int


class GroupSessionPage(BaseModel):
    items: list[GroupSessionSummary]
    limit: int
    offset: int

    @classmethod
    def of(cls, rows: list[tuple[GroupSession, int]], limit: int, offset: int) -> GroupSessionPage:
        items = [
            GroupSessionSummary(
                id=s.id,
                hub_id=s.hub_id,
                session_type=s.session_type.value,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                delivery_type=s.delivery_type.value,
                cancelled=s.cancellation is not None,
                places=places,
            )
            for s, places in rows
        ]
        return cls(items=items, limit=limit, offset=offset)

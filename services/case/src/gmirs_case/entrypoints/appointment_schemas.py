"""Request and response shapes of an appointment's place, moves, cancellation and R&M link.

The place is checked by the domain's one rule (`Place`), so an office code without an office
meeting, or an address without an in-person meeting elsewhere, is a 422 before anything runs.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from gmirs_case.domain.appointment_values import Address, SessionType
from gmirs_case.domain.appointments import Place, PlaceError
from gmirs_case.domain.model import DeliveryType
from gmirs_contracts.case_appointments import CancellationReason, RequestedBy
from gmirs_contracts.common import FreeText, Line, Moment

DeliveryTypeName = Literal[
    "phone-call", "video-call", "in-person-probation-office", "in-person-other"
]
SessionTypeName = Literal["one-to-one", "group", "family"]
AddressLine = Annotated[Line, Field(min_length=1, max_length=200)]
UkPostcode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$",
        description="A UK postcode (R&M requires one for a meeting elsewhere).",
    ),
]
OfficeCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{1,20}$",
        description="The probation office's code (R&M's npsOfficeCode, e.g. CRS0105).",
    ),
]
Note = Annotated[FreeText, Field(min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressBody(_Strict):
    """R&M's `appointmentDeliveryAddress`."""

    first_line: AddressLine
    second_line: AddressLine | None = None
    town_or_city: AddressLine | None = None
    county: AddressLine | None = None
    postcode: UkPostcode

    def domain(self) -> Address:
        return Address(
            self.first_line,
            self.second_line,
            self.town_or_city,
            self.county,
            self.postcode.upper(),
        )


class PlaceBody(_Strict):
    """How and where: a delivery type, and the office's code or the address it needs."""

    delivery_type: DeliveryTypeName
    nps_office_code: OfficeCode | None = None
    address: AddressBody | None = None

    def place(self, session_type: str = SessionType.ONE_TO_ONE) -> Place:
        address = self.address.domain() if self.address else None
        return Place(
            DeliveryType(self.delivery_type),
            SessionType(session_type),
            self.nps_office_code,
            address,
        )

    @model_validator(mode="after")
    def _place_fits(self) -> Self:
        try:
            self.place()
        except PlaceError as exc:
            raise ValueError(str(exc)) from None
        return self


class TimesBody(_Strict):
    starts_at: Moment
    ends_at: Moment

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class RescheduleBody(TimesBody):
    """The new time; who asked for the move, and optionally why (kept in the history)."""

    requested_by: RequestedBy
    reason: Note | None = None


class CancellationBody(_Strict):
    reason: CancellationReason
    note: Note | None = Field(default=None, description="Required when the reason is 'other'.")

    @model_validator(mode="after")
    def _other_says_why(self) -> Self:
        if self.reason == "other" and self.note is None:
            raise ValueError("say why in a note when the reason is 'other'")
        return self


class RmLinkBody(_Strict):
    rm_appointment_id: uuid.UUID = Field(
        description="Refer and Monitor's id of the same appointment, entered there by the hub."
    )


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AddressRead(_Read):
    first_line: str
    second_line: str | None
    town_or_city: str | None
    county: str | None
    postcode: str


class RescheduledRead(_Read):
    previous_starts_at: AwareDatetime
    previous_ends_at: AwareDatetime
    rescheduled_at: AwareDatetime
    requested_by: RequestedBy
    reason: str | None


class CancellationRead(_Read):
    reason: CancellationReason
    note: str | None
    cancelled_at: AwareDatetime

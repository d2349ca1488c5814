"""Payloads on `case.case-events.v1`, produced by case (the system of record for a case)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel
from gmirs_contracts.common import (
    AppointmentKind,
    Attended,
    Crn,
    DeliveryType,
    HubId,
    NoSessionReason,
    ProbationDeliveryUnit,
    ReferenceNumber,
    Source,
)

TOPIC = "case.case-events.v1"


class CaseOpened(ContractModel):
    """`gmirs.case.case-opened.v1`: a hub's case now exists for a referral."""

    case_id: UUID
    referral_id: UUID
    hub_id: HubId
    probation_delivery_unit: ProbationDeliveryUnit
    crn: Crn
    reference_number: ReferenceNumber | None
    opened_at: AwareDatetime


class AppointmentBooked(ContractModel):
    """`gmirs.case.appointment-booked.v1`: starts the watchdog for unrecorded attendance."""

    case_id: UUID
    referral_id: UUID
    hub_id: HubId
    appointment_id: UUID
    kind: AppointmentKind
    session_number: Annotated[int, Field(ge=1)] | None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    delivery_type: DeliveryType
    booked_at: AwareDatetime
    session_type: Literal["one-to-one", "group", "family"] = "one-to-one"
    group_session_id: UUID | None = Field(
        default=None, description="The group or family session the appointment is a place on."
    )


class AttendanceRecorded(ContractModel):
    """`gmirs.case.attendance-recorded.v1`: (non-)attendance recorded by a hub or in R&M.

    `non_attendance` true starts the 24-hour clock; `report_due_by` is the appointment's end plus
    24 hours, computed once by the producer so every consumer measures the same deadline.
    """

    case_id: UUID
    referral_id: UUID
    rm_referral_id: UUID | None
    hub_id: HubId
    crn: Crn
    reference_number: ReferenceNumber | None
    appointment_id: UUID
    appointment_kind: AppointmentKind
    appointment_starts_at: AwareDatetime
    appointment_ends_at: AwareDatetime
    attended: Attended
    session_happened: bool
    no_session_reason: NoSessionReason | None
    non_attendance: bool
    notify_pp_of_concerns: bool
    recorded_at: AwareDatetime
    report_due_by: AwareDatetime
    source: Source = "hub"
    """`refer-and-monitor` when the provider recorded it in R&M (it reached case through intake)."""
    rm_appointment_id: UUID | None = None
    """R&M's id for the appointment, where R&M knows it (notify recognises its write-back's echo)."""
    session_number: Annotated[int, Field(ge=1)] | None = None
    """The delivery session's number (none for an initial assessment); the write-back and a
    manual entry in R&M find the session by it."""
    recorded_by: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The login of the hub worker who recorded it (none from R&M): notify writes it back to R&M
    on their behalf, as R&M maps every feedback call to a user. A worker's id, not the person's."""

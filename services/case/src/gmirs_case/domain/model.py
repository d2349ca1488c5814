"""A case: one referral taken on by one hub, its appointments and their attendance.

Attendance follows R&M's vocabulary (attended yes / late / no; whether the session happened and
why not). A non-attendance, which must reach the probation practitioner within 24 hours of the
appointment's end, is attended = no, or a session that did not happen for a reason that lies
with the person on probation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from gmirs_case.domain.appointment_values import Address, Cancellation, Rescheduled, SessionType

REPORT_WINDOW = timedelta(hours=24)


class CaseError(Exception):
    """A command that the case's rules refuse."""


class AppointmentNotFoundError(CaseError):
    pass


class AttendanceAlreadyRecordedError(CaseError):
    pass


class AppointmentInFutureError(CaseError):
    pass


class AppointmentCancelledError(CaseError):
    pass


class Attended(StrEnum):
    YES = "yes"
    LATE = "late"
    NO = "no"


class NoSessionReason(StrEnum):
    POP_ACCEPTABLE = "pop-acceptable"
    POP_UNACCEPTABLE = "pop-unacceptable"
    LOGISTICS = "logistics"


class AppointmentKind(StrEnum):
    INITIAL_ASSESSMENT = "initial-assessment"
    SESSION = "session"


class DeliveryType(StrEnum):
    PHONE_CALL = "phone-call"
    VIDEO_CALL = "video-call"
    IN_PERSON_PROBATION_OFFICE = "in-person-probation-office"
    IN_PERSON_OTHER = "in-person-other"


@dataclass(frozen=True, slots=True)
class Attendance:
    attended: Attended
    session_happened: bool
    no_session_reason: NoSessionReason | None
    notify_pp_of_concerns: bool
    recorded_at: datetime

    @classmethod
    def of(
        cls,
        attended: str,
        session_happened: bool,
        no_session_reason: str | None,
        notify_pp_of_concerns: bool,
        recorded_at: datetime,
    ) -> Attendance:
        """From the published vocabulary (the API's and intake's spellings are ours)."""
        reason = NoSessionReason(no_session_reason) if no_session_reason else None
        return cls(Attended(attended), session_happened, reason, notify_pp_of_concerns, recorded_at)

    @property
    def is_non_attendance(self) -> bool:
        if self.attended is Attended.NO:
            return True
        return not self.session_happened and self.no_session_reason in {
            NoSessionReason.POP_ACCEPTABLE,
            NoSessionReason.POP_UNACCEPTABLE,
        }


@dataclass(slots=True)
class Appointment:
    id: uuid.UUID
    kind: AppointmentKind
    session_number: int | None
    starts_at: datetime
    ends_at: datetime
    delivery_type: DeliveryType | None
    """None only for an appointment Refer and Monitor booked (intake does not say how)."""
    booked_at: datetime
    attendance: Attendance | None = None
    rm_appointment_id: uuid.UUID | None = None
    """Refer and Monitor's id for a session it booked (the notify write-back names it)."""
    session_type: SessionType = SessionType.ONE_TO_ONE
    nps_office_code: str | None = None
    address: Address | None = None
    group_session_id: uuid.UUID | None = None
    """The group or family session whose register this appointment is the person's place on."""
    cancellation: Cancellation | None = None
    reschedules: list[Rescheduled] = field(default_factory=list)
    """Its earlier times, oldest first."""

    @property
    def report_due_by(self) -> datetime:
        return self.ends_at + REPORT_WINDOW


@dataclass(slots=True)
class Case:
    id: uuid.UUID
    referral_id: uuid.UUID
    hub_id: str
    probation_delivery_unit: str
    crn: str
    reference_number: str | None
    rm_referral_id: uuid.UUID | None
    opened_at: datetime
    appointments: list[Appointment] = field(default_factory=list)

    def book(
        self,
        *,
        appointment_id: uuid.UUID,
        kind: AppointmentKind,
        session_number: int | None,
        starts_at: datetime,
        ends_at: datetime,
        delivery_type: DeliveryType,
        now: datetime,
        session_type: SessionType = SessionType.ONE_TO_ONE,
        nps_office_code: str | None = None,
        address: Address | None = None,
        group_session_id: uuid.UUID | None = None,
    ) -> Appointment:
        if ends_at <= starts_at:
            raise CaseError("an appointment must end after it starts")
        appointment = Appointment(
            id=appointment_id,
            kind=kind,
            session_number=session_number,
            starts_at=starts_at,
            ends_at=ends_at,
            delivery_type=delivery_type,
            booked_at=now,
            session_type=session_type,
            nps_office_code=nps_office_code,
            address=address,
            group_session_id=group_session_id,
        )
        self.appointments.append(appointment)
        return appointment

    def record_attendance(self, appointment_id: uuid.UUID, attendance: Attendance) -> Appointment:
        appointment = self.appointment(appointment_id)
        if appointment.attendance is not None:
            raise AttendanceAlreadyRecordedError(
                "attendance is already recorded for this appointment"
            )
        if appointment.cancellation is not None:
            raise AppointmentCancelledError("the appointment is cancelled")
        if appointment.starts_at > attendance.recorded_at:
            raise AppointmentInFutureError(
                "attendance cannot be recorded before the appointment starts"
            )
        _check_attendance(attendance)
        appointment.attendance = attendance
        return appointment

    def appointment(self, appointment_id: uuid.UUID) -> Appointment:
        for appointment in self.appointments:
            if appointment.id == appointment_id:
                return appointment
        raise AppointmentNotFoundError("no such appointment on this case")


def _check_attendance(attendance: Attendance) -> None:
    """R&M's rules: a reason for no session only when the person came and the session did not happen."""
    if attendance.attended is Attended.NO:
        if attendance.session_happened:
            raise CaseError("a session cannot have happened without the person attending")
        if attendance.no_session_reason is not None:
            raise CaseError("no reason is given when the person did not attend")
    elif not attendance.session_happened and attendance.no_session_reason is None:
        raise CaseError("say why the session did not happen")
    elif attendance.session_happened and attendance.no_session_reason is not None:
        raise CaseError("a reason for no session is given only when the session did not happen")

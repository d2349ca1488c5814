"""The case's rules on attendance, with no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_case.domain.model import (
    AppointmentInFutureError,
    AppointmentKind,
    Attendance,
    AttendanceAlreadyRecordedError,
    Attended,
    Case,
    CaseError,
    DeliveryType,
    NoSessionReason,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _case_with_appointment(starts: datetime) -> tuple[Case, uuid.UUID]:
    case = Case(uuid.uuid4(), uuid.uuid4(), "bolton", "Bolton", "X123456", None, None, NOW)
    appointment = case.book(
        appointment_id=uuid.uuid4(),
        kind=AppointmentKind.SESSION,
        session_number=1,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        delivery_type=DeliveryType.PHONE_CALL,
        now=NOW,
    )
    return case, appointment.id


def _attendance(
    attended: Attended, happened: bool, reason: NoSessionReason | None = None
) -> Attendance:
    return Attendance(attended, happened, reason, False, NOW)


@pytest.mark.parametrize(
    ("attendance", "non_attendance"),
    [
        (_attendance(Attended.NO, False), True),
        (_attendance(Attended.YES, True), False),
        (_attendance(Attended.LATE, True), False),
        (_attendance(Attended.YES, False, NoSessionReason.POP_UNACCEPTABLE), True),
        (_attendance(Attended.YES, False, NoSessionReason.POP_ACCEPTABLE), True),
        (_attendance(Attended.YES, False, NoSessionReason.LOGISTICS), False),
    ],
)
def test_non_attendance_is_did_not_attend_or_no_session_for_a_pop_reason(
    attendance, non_attendance
) -> None:
    case, appointment_id = _case_with_appointment(NOW - timedelta(hours=2))
    appointment = case.record_attendance(appointment_id, attendance)
    assert appointment.attendance is not None
    assert appointment.attendance.is_non_attendance is non_attendance
    assert appointment.report_due_by == appointment.ends_at + timedelta(hours=24)


@pytest.mark.parametrize(
    "attendance",
    [
        _attendance(Attended.NO, True),
        _attendance(Attended.NO, False, NoSessionReason.LOGISTICS),
        _attendance(Attended.YES, False),
        _attendance(Attended.YES, True, NoSessionReason.LOGISTICS),
    ],
)
def test_inconsistent_attendance_is_refused(attendance) -> None:
    case, appointment_id = _case_with_appointment(NOW - timedelta(hours=2))
    with pytest.raises(CaseError):
        case.record_attendance(appointment_id, attendance)
    assert case.appointment(appointment_id).attendance is None


def test_attendance_is_recorded_once_and_never_before_the_appointment() -> None:
    case, appointment_id = _case_with_appointment(NOW - timedelta(hours=2))
    case.record_attendance(appointment_id, _attendance(Attended.YES, True))
    with pytest.raises(AttendanceAlreadyRecordedError):
        case.record_attendance(appointment_id, _attendance(Attended.NO, False))
    future, later_id = _case_with_appointment(NOW + timedelta(hours=1))
    with pytest.raises(AppointmentInFutureError):
        future.record_attendance(later_id, _attendance(Attended.NO, False))


def test_an_appointment_must_end_after_it_starts() -> None:
    case, _ = _case_with_appointment(NOW)
    with pytest.raises(CaseError):
        case.book(
            appointment_id=uuid.uuid4(),
            kind=AppointmentKind.SESSION,
            session_number=2,
            starts_at=NOW,
            ends_at=NOW,
            delivery_type=DeliveryType.VIDEO_CALL,
            now=NOW,
        )

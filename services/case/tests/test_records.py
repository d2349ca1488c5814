"""The case record's one field mapping: rows and events derived from the domain dataclasses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from gmirs_case.adapters import events
from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.domain.model import (
    Appointment,
    AppointmentKind,
    Attendance,
    Attended,
    Case,
    DeliveryType,
    NoSessionReason,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _appointment() -> Appointment:
    return Appointment(
        id=uuid.uuid4(),
        kind=AppointmentKind.SESSION,
        session_number=2,
        starts_at=NOW - timedelta(hours=2),
        ends_at=NOW - timedelta(hours=1),
        delivery_type=DeliveryType.VIDEO_CALL,
        booked_at=NOW - timedelta(days=3),
        attendance=Attendance(
            attended=Attended.YES,
            session_happened=False,
            no_session_reason=NoSessionReason.POP_UNACCEPTABLE,
            notify_pp_of_concerns=True,
            recorded_at=NOW,
        ),
    )


def test_a_record_stores_enum_values_and_reads_back_the_same_object() -> None:
    appointment = _appointment()
    assert appointment.attendance is not None
    row = record_of(appointment, leave_out={"attendance"})
    assert row["kind"] == "session"
    assert type(row["kind"]) is str
    stored = record_of(appointment.attendance, rename={"recorded_at": "attendance_recorded_at"})
    assert stored["no_session_reason"] == "pop-unacceptable"
    attendance = from_record(
        Attendance,
        SimpleNamespace(**stored),
        rename={"recorded_at": "attendance_recorded_at"},
    )
    back = from_record(Appointment, SimpleNamespace(**row), attendance=attendance)
    assert back == appointment
    assert back.attendance is not None
    assert back.attendance.no_session_reason is NoSessionReason.POP_UNACCEPTABLE


def test_the_attendance_event_takes_every_field_from_the_record() -> None:
    appointment = _appointment()
    case = Case(
        id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        hub_id="wigan",
        probation_delivery_unit="Wigan",
        crn="X123456",
        reference_number=None,
        rm_referral_id=uuid.uuid4(),
        opened_at=NOW - timedelta(days=5),
        appointments=[appointment],
    )
    event = events.attendance_recorded(case, appointment)
    assert event.case_id == case.id
    assert event.appointment_id == appointment.id
    assert event.appointment_kind == "session"
    assert event.appointment_ends_at == appointment.ends_at
    assert event.no_session_reason == "pop-unacceptable"
    assert event.non_attendance is True
    assert event.report_due_by == appointment.ends_at + timedelta(hours=24)

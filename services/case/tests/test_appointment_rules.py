"""The appointment rules on their own: place, moves, cancellation, R&M matching, group sessions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_case.domain import appointments as rules
from gmirs_case.domain import group_sessions as groups
from gmirs_case.domain.appointment_values import (
    Address,
    CancellationReason,
    RequestedBy,
    SessionType,
)
from gmirs_case.domain.model import (
    Appointment,
    AppointmentCancelledError,
    AppointmentKind,
    Attendance,
    Case,
    DeliveryType,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ADDRESS = Address("1 Chapel Street", None, "Salford", None, "M3 5LX")


def _case() -> Case:
    return Case(uuid.uuid4(), uuid.uuid4(), "salford", "Salford", "X123456", None, None, NOW)


def _booked(case: Case, starts: datetime = NOW + HOUR, number: int | None = 1) -> Appointment:
    return case.book(
        appointment_id=uuid.uuid4(),
        kind=AppointmentKind.SESSION,
        session_number=number,
        starts_at=starts,
        ends_at=starts + HOUR,
        delivery_type=DeliveryType.PHONE_CALL,
        now=NOW,
    )


def _attended(at: datetime) -> Attendance:
    return Attendance.of("yes", True, None, False, recorded_at=at)


@pytest.mark.parametrize(
    ("delivery", "office", "address", "fits"),
    [
        (DeliveryType.PHONE_CALL, None, None, True),
        (DeliveryType.VIDEO_CALL, "CRS0105", None, False),
        (DeliveryType.IN_PERSON_PROBATION_OFFICE, "CRS0105", None, True),
        (DeliveryType.IN_PERSON_PROBATION_OFFICE, None, None, False),
        (DeliveryType.IN_PERSON_PROBATION_OFFICE, "CRS0105", ADDRESS, False),
        (DeliveryType.IN_PERSON_OTHER, None, ADDRESS, True),
        (DeliveryType.IN_PERSON_OTHER, None, None, False),
    ],
)
def test_a_place_has_an_office_code_or_address_exactly_when_rm_needs_one(
    delivery: DeliveryType, office: str | None, address: Address | None, fits: bool
) -> None:
    if fits:
        assert rules.Place(delivery, SessionType.ONE_TO_ONE, office, address).address == address
    else:
        with pytest.raises(rules.PlaceError):
            rules.Place(delivery, SessionType.ONE_TO_ONE, office, address)


def test_each_move_keeps_the_time_it_replaces_in_order() -> None:
    appointment = _booked(_case())
    times = [NOW + n * HOUR * 24 for n in (1, 2, 3)]
    for n, starts in enumerate(times):
        rules.reschedule(
            appointment,
            starts_at=starts,
            ends_at=starts + HOUR,
            requested_by=RequestedBy.SERVICE_PROVIDER,
            reason=f"move {n}",
            now=NOW,
        )
    assert [r.previous_starts_at for r in appointment.reschedules] == [NOW + HOUR, *times[:2]]
    assert appointment.starts_at == times[-1]
    with pytest.raises(rules.PlaceError, match="current time"):
        rules.reschedule(
            appointment,
            starts_at=times[-1],
            ends_at=times[-1] + HOUR,
            requested_by=RequestedBy.SERVICE_PROVIDER,
            reason=None,
            now=NOW,
        )


def test_attendance_or_a_cancellation_ends_all_further_change() -> None:
    case = _case()
    attended, cancelled = _booked(case), _booked(case, NOW + 2 * HOUR, 2)
    case.record_attendance(attended.id, _attended(NOW + 3 * HOUR))
    rules.cancel(cancelled, reason=CancellationReason.PERSON_UNWELL, note=None, now=NOW)
    for appointment in (attended, cancelled):
        with pytest.raises(rules.AppointmentChangeRefused):
            rules.cancel(appointment, reason=CancellationReason.OTHER, note="x", now=NOW)
        with pytest.raises(rules.AppointmentChangeRefused):
            rules.reschedule(
                appointment,
                starts_at=NOW + 9 * HOUR,
                ends_at=NOW + 10 * HOUR,
                requested_by=RequestedBy.PERSON_ON_PROBATION,
                reason=None,
                now=NOW,
            )
    with pytest.raises(AppointmentCancelledError):
        case.record_attendance(cancelled.id, _attended(NOW + 3 * HOUR))
    with pytest.raises(rules.PlaceError, match="other"):
        rules.cancel(_booked(case), reason=CancellationReason.OTHER, note=None, now=NOW)


def test_rms_appointment_matches_only_an_unlinked_live_booking_of_the_same_session_and_time() -> (
    None
):
    case = _case()
    booking = _booked(case, NOW + HOUR, 3)
    _booked(case, NOW + HOUR, 4)
    match = rules.hub_booked_match
    assert (
        match(case.appointments, kind="session", session_number=3, starts_at=NOW + HOUR) is booking
    )
    assert match(case.appointments, kind="session", session_number=3, starts_at=NOW) is None
    assert (
        match(case.appointments, kind="initial-assessment", session_number=3, starts_at=NOW + HOUR)
        is None
    )
    rm_id = uuid.uuid4()
    assert rules.link_rm_appointment(booking, rm_id) is True
    assert rules.link_rm_appointment(booking, rm_id) is False
    assert match(case.appointments, kind="session", session_number=3, starts_at=NOW + HOUR) is None
    with pytest.raises(rules.AppointmentChangeRefused):
        rules.link_rm_appointment(booking, uuid.uuid4())


def test_a_group_session_is_group_or_family_and_moves_only_while_nobody_has_attended() -> None:
    place = rules.Place(DeliveryType.VIDEO_CALL, SessionType.GROUP)
    session = groups.plan_session(
        session_id=uuid.uuid4(),
        hub_id="salford",
        place=place,
        starts_at=NOW,
        ends_at=NOW + HOUR,
        now=NOW,
    )
    with pytest.raises(rules.PlaceError):
        groups.plan_session(
            session_id=uuid.uuid4(),
            hub_id="salford",
            place=rules.Place(DeliveryType.VIDEO_CALL),
            starts_at=NOW,
            ends_at=NOW + HOUR,
            now=NOW,
        )
    case = _case()
    places = [_booked(case, NOW), _booked(case, NOW, 2)]
    case.record_attendance(places[1].id, _attended(NOW + HOUR))
    with pytest.raises(rules.AppointmentChangeRefused, match="register"):
        groups.cancel_session(
            session, places, reason=CancellationReason.VENUE_UNAVAILABLE, note=None, now=NOW
        )
    assert session.cancellation is None
    with pytest.raises(rules.PlaceError):
        groups.check_register_room(groups.MAX_REGISTER, 1)

"""An appointment's place, moves (with history), cancellation and link to R&M's appointment,
through the real routes on real PostgreSQL and the real broker, by every role."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

from services.case.tests.people_harness import publish
from services.case.tests.sessions_harness import (
    OTHER,
    Served,
    assert_problem,
    at,
    book,
    intake_event,
    no_uuid,
    published,
    served,
    session_body,
)

from gmirs_runtime.testing.hostile import assert_duplicate_key_refused, assert_nul_refused

__all__ = ["served"]
REPEATS = 12
HISTORY = "SELECT count(*) FROM appointment_reschedules WHERE case_id = :c"
APPOINTMENTS = "SELECT count(*) FROM appointments WHERE case_id = :c"
ADDRESS = {"first_line": "1 Chapel Street", "town_or_city": "Salford", "postcode": "m3 5lx"}


async def test_a_booking_keeps_its_place_in_rms_vocabulary_and_refuses_one_that_does_not_fit(
    served: Served,
) -> None:
    case = served.own[0]
    async with served.hub() as http:
        office = await book(
            http,
            case,
            48,
            delivery_type="in-person-probation-office",
            nps_office_code="CRS0105",
            session_type="family",
        )
        elsewhere = await book(http, case, 72, delivery_type="in-person-other", address=ADDRESS)
        read = (await http.get(f"/cases/{case}/appointments/{office}")).json()
        assert (read["session_type"], read["nps_office_code"]) == ("family", "CRS0105")
        assert read["address"] is None
        assert read["reschedules"] == []
        other = (await http.get(f"/cases/{case}/appointments/{elsewhere}")).json()
        assert other["address"]["postcode"] == "M3 5LX"
        before = await served.count(APPOINTMENTS, c=_uuid(case))
        for wrong in (
            {"delivery_type": "in-person-probation-office"},  # no office code
            {"delivery_type": "phone-call", "nps_office_code": "CRS0105"},
            {"delivery_type": "in-person-other"},  # no address
            {"delivery_type": "in-person-other", "address": {**ADDRESS, "postcode": "nowhere"}},
            {"session_type": "group"},  # a group is booked as a group session
            {"nps_office_code": "crs 01"},
        ):
            refused = await http.post(f"/cases/{case}/appointments", json=session_body(24) | wrong)
            assert_problem(refused, 422)
        assert await served.count(APPOINTMENTS, c=_uuid(case)) == before


async def test_moves_keep_every_earlier_time_in_order_and_publish_the_new_and_previous_times(
    served: Served, kafka_broker: Any
) -> None:
    case = served.own[1]
    async with served.hub() as http:
        appointment = await book(http, case, 24)
        path = f"/cases/{case}/appointments/{appointment}/reschedule"
        for n in range(1, REPEATS + 1):
            body = {
                "starts_at": at(hours=24 + n),
                "ends_at": at(hours=25 + n),
                "requested_by": "person-on-probation" if n % 2 else "service-provider",
                "reason": f"move {n}",
            }
            moved = await http.post(path, json=body)
            assert moved.status_code == 200, moved.text
        history = moved.json()["reschedules"]
        assert [h["reason"] for h in history] == [f"move {n}" for n in range(1, REPEATS + 1)]
        for earlier, later in itertools.pairwise(history):
            assert _t(later["previous_starts_at"]) - _t(earlier["previous_starts_at"]) >= _h(0.9)
        read = (await http.get(f"/cases/{case}")).json()["appointments"]
        assert [a["reschedules"] for a in read if a["id"] == appointment] == [history]
    events = await published(
        kafka_broker.bootstrap,
        "gmirs.case.appointment-rescheduled.v1",
        REPEATS,
        appointment_id=appointment,
    )
    last = max(events, key=lambda e: e["starts_at"])
    assert _t(last["previous_starts_at"]) == _t(history[-1]["previous_starts_at"])
    assert (last["case_id"], last["hub_id"], last["rm_appointment_id"]) == (case, "salford", None)
    assert "reason" not in last


async def test_a_move_or_cancellation_is_refused_once_attendance_is_recorded(
    served: Served,
) -> None:
    case = served.own[2]
    async with served.hub() as http:
        past = await book(http, case, -3)
        recorded = await http.put(
            f"/cases/{case}/appointments/{past}/attendance",
            json={"attended": "no", "session_happened": False},
        )
        assert recorded.status_code == 200, recorded.text
        base = f"/cases/{case}/appointments/{past}"
        move = {
            "starts_at": at(hours=5),
            "ends_at": at(hours=6),
            "requested_by": "service-provider",
        }
        assert_problem(await http.post(f"{base}/reschedule", json=move), 409, "attendance")
        cancel = {"reason": "person-unwell"}
        assert_problem(await http.post(f"{base}/cancellation", json=cancel), 409, "attendance")
        assert await served.count(HISTORY, c=_uuid(case)) == 0


async def test_a_cancellation_keeps_its_reason_and_nothing_more_happens_to_the_appointment(
    served: Served, kafka_broker: Any
) -> None:
    case = served.own[2]
    async with served.hub() as http:
        appointment = await book(http, case, -2)
        base = f"/cases/{case}/appointments/{appointment}"
        assert_problem(await http.post(f"{base}/cancellation", json={"reason": "other"}), 422)
        assert_problem(await http.post(f"{base}/cancellation", json={"reason": "bored"}), 422)
        body = {"reason": "other", "note": "Room flooded."}
        cancelled = await http.post(f"{base}/cancellation", json=body)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["cancellation"]["note"] == "Room flooded."
        assert_problem(await http.post(f"{base}/cancellation", json=body), 409, "cancelled")
        attend = {"attended": "yes", "session_happened": True}
        assert_problem(await http.put(f"{base}/attendance", json=attend), 409, "cancelled")
        move = {
            "starts_at": at(hours=5),
            "ends_at": at(hours=6),
            "requested_by": "service-provider",
        }
        assert_problem(await http.post(f"{base}/reschedule", json=move), 409, "cancelled")
    (event,) = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-cancelled.v1", 1, appointment_id=appointment
    )
    assert event["reason"] == "other"
    assert "Room" not in str(event)


async def test_every_role_on_the_appointment_routes(served: Served) -> None:
    case = served.own[3]
    async with served.hub() as http:
        appointment = await book(http, case, 30)
    base = f"/cases/{case}/appointments/{appointment}"
    move = {"starts_at": at(hours=40), "ends_at": at(hours=41), "requested_by": "service-provider"}
    calls = [
        ("GET", base, None),
        ("POST", f"{base}/reschedule", move),
        ("PUT", f"{base}/rm-appointment", {"rm_appointment_id": no_uuid()}),
        ("POST", f"{base}/cancellation", {"reason": "booked-in-error"}),
    ]
    async with served.hub(OTHER) as other:
        for method, path, body in calls:
            assert_problem(await other.request(method, path, json=body), 404, "No such case")
    for role in ("commissioner", "operator", "probation-system"):
        async with served.role(role) as http:
            for method, path, body in calls:
                assert (await http.request(method, path, json=body)).status_code == 403
    async with served.hub() as http:
        missing = f"/cases/{case}/appointments/{no_uuid()}"
        assert_problem(await http.post(f"{missing}/reschedule", json=move), 404, "appointment")
    async with served.role("lead-provider") as lead:
        for method, path, body in calls:
            response = await lead.request(method, path, json=body)
            assert response.status_code == 200, (path, response.text)
    assert await served.count(HISTORY, c=_uuid(case)) == 1


async def test_hostile_bodies_on_a_move_are_refused_and_change_nothing(served: Served) -> None:
    case = served.own[3]
    async with served.hub() as http:
        appointment = await book(http, case, 50)
        path = f"/cases/{case}/appointments/{appointment}/reschedule"
        valid = {
            "starts_at": at(hours=60),
            "ends_at": at(hours=61),
            "requested_by": "service-provider",
        }
        before = await served.count(HISTORY, c=_uuid(case))
        nul = {**valid, "reason": "late\x00bus"}
        await assert_nul_refused(http, "POST", path, "body.reason", json=nul)
        twice = '{"requested_by": "service-provider", "requested_by": "person-on-probation"}'
        await assert_duplicate_key_refused(http, "POST", path, twice, "body.requested_by")
        for wrong in (
            {**valid, "ends_at": valid["starts_at"]},
            {**valid, "starts_at": 9223372036854775807},
            {**valid, "reason": "x" * 2001},
            {**valid, "extra": True},
        ):
            assert_problem(await http.post(path, json=wrong), 422)
        read = (await http.get(f"/cases/{case}/appointments/{appointment}")).json()
        assert_problem(
            await http.post(
                path,
                json={**valid, "starts_at": read["starts_at"], "ends_at": read["ends_at"]},
            ),
            422,
            "current time",
        )
        assert await served.count(HISTORY, c=_uuid(case)) == before


async def test_a_hub_links_its_booking_to_rms_appointment_once(
    served: Served, kafka_broker: Any
) -> None:
    case, other_case = served.own[4], served.own[5]
    rm_id = no_uuid()
    async with served.hub() as http:
        appointment = await book(http, case, 20)
        path = f"/cases/{case}/appointments/{appointment}/rm-appointment"
        for _ in range(3):  # the same id again changes nothing
            linked = await http.put(path, json={"rm_appointment_id": rm_id})
            assert linked.status_code == 200, linked.text
            assert linked.json()["rm_appointment_id"] == rm_id
        assert_problem(await http.put(path, json={"rm_appointment_id": no_uuid()}), 409)
        another = await book(http, other_case, 20)
        taken = f"/cases/{other_case}/appointments/{another}/rm-appointment"
        assert_problem(await http.put(taken, json={"rm_appointment_id": rm_id}), 409, "another")
        assert_problem(await http.put(path, json={"rm_appointment_id": "not-a-uuid"}), 422)
        move = {
            "starts_at": at(hours=22),
            "ends_at": at(hours=23),
            "requested_by": "service-provider",
        }
        base = f"/cases/{case}/appointments/{appointment}"
        assert (await http.post(f"{base}/reschedule", json=move)).status_code == 200
        cancel = {"reason": "person-requested"}
        assert (await http.post(f"{base}/cancellation", json=cancel)).status_code == 200
    (event,) = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-linked.v1", 1, appointment_id=appointment
    )
    assert (event["rm_appointment_id"], event["source"]) == (rm_id, "hub")
    for change in ("rescheduled", "cancelled"):  # what the write-back to R&M will name
        (later,) = await published(
            kafka_broker.bootstrap,
            f"gmirs.case.appointment-{change}.v1",
            1,
            appointment_id=appointment,
        )
        assert later["rm_appointment_id"] == rm_id


async def test_rms_report_of_a_hub_booked_appointment_attaches_to_it_instead_of_a_second_one(
    served: Served, kafka_broker: Any
) -> None:
    case = served.own[5]
    async with served.hub() as http:
        appointment = await book(http, case, -30, session_number=3)
        read = (await http.get(f"/cases/{case}/appointments/{appointment}")).json()
        referral = (await http.get(f"/cases/{case}")).json()["referral_id"]
    starts = _t(read["starts_at"])
    rm_id = no_uuid()
    report = intake_event(
        "gmirs.intake.attendance-recorded.v1",
        _uuid(referral),
        appointment_kind="session",
        session_number=3,
        rm_appointment_id=rm_id,
        appointment_starts_at=starts,
        appointment_ends_at=starts + _h(1),
        attended="no",
        session_happened=False,
        no_session_reason=None,
        non_attendance=True,
        recorded_at=starts + _h(2),
        report_due_by=starts + _h(25),
    )
    before = await served.count(APPOINTMENTS, c=_uuid(case))
    await publish(kafka_broker.bootstrap, report, report)  # delivered twice
    (event,) = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-linked.v1", 1, appointment_id=appointment
    )
    assert (event["rm_appointment_id"], event["source"]) == (rm_id, "refer-and-monitor")
    async with served.hub() as http:
        after = (await http.get(f"/cases/{case}/appointments/{appointment}")).json()
    assert after["rm_appointment_id"] == rm_id
    assert after["attendance"]["attended"] == "no"
    assert await served.count(APPOINTMENTS, c=_uuid(case)) == before


def _t(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)

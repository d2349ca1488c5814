"""Group and family sessions through the real routes on real PostgreSQL and the real broker: a
register of a hub's cases, attendance per person, the session moved or cancelled as a whole."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from services.case.tests.sessions_harness import (
    OTHER,
    OWN,
    Served,
    assert_problem,
    at,
    no_uuid,
    published,
    served,
)

from gmirs_runtime.testing.hostile import assert_nul_refused

__all__ = ["served"]
SESSIONS = "SELECT count(*) FROM group_sessions"
PLACES = "SELECT count(*) FROM appointments WHERE group_session_id IS NOT NULL"
MOVE = {"requested_by": "service-provider", "reason": "Room double-booked."}


def plan(cases: list[str], hours: float, **extra: Any) -> dict[str, Any]:
    return {
        "session_type": "group",
        "starts_at": at(hours=hours),
        "ends_at": at(hours=hours + 2),
        "delivery_type": "in-person-probation-office",
        "nps_office_code": "CRS0105",
        "participants": [{"case_id": c, "session_number": 2} for c in cases],
        **extra,
    }


async def create(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    created = await http.post("/group-sessions", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/group-sessions/{created.json()['id']}"
    session: dict[str, Any] = created.json()
    return session


async def test_each_person_on_the_register_has_a_place_and_their_own_attendance(
    served: Served, kafka_broker: Any
) -> None:
    people = served.own[:3]
    async with served.hub() as http:
        session = await create(http, plan(people, -3))
        sid = session["id"]
        assert sorted(p["case_id"] for p in session["participants"]) == sorted(people)
        place = (await http.get(f"/cases/{people[0]}")).json()["appointments"][-1]
        assert (place["group_session_id"], place["session_type"]) == (sid, "group")
        assert (place["nps_office_code"], place["kind"]) == ("CRS0105", "session")
        answers = [
            {"attended": "no", "session_happened": False},
            {"attended": "yes", "session_happened": True},
            {"attended": "yes", "session_happened": False, "no_session_reason": "pop-acceptable"},
        ]
        for case, answer in zip(people, answers, strict=True):
            path = f"/group-sessions/{sid}/participants/{case}/attendance"
            recorded = await http.put(path, json=answer)
            assert recorded.status_code == 200, recorded.text
        again = f"/group-sessions/{sid}/participants/{people[0]}/attendance"
        assert_problem(await http.put(again, json=answers[1]), 409, "already")
        for stranger in (served.own[3], served.other, no_uuid()):
            path = f"/group-sessions/{sid}/participants/{stranger}/attendance"
            assert_problem(await http.put(path, json=answers[1]), 404, "No such case")
        read = (await http.get(f"/group-sessions/{sid}")).json()
        by_case = {p["case_id"]: p["attendance"] for p in read["participants"]}
        assert [by_case[c]["non_attendance"] for c in people] == [True, False, True]
        move = {**MOVE, "starts_at": at(hours=5), "ends_at": at(hours=6)}
        assert_problem(await http.post(f"/group-sessions/{sid}/reschedule", json=move), 409)
        cancel = {"reason": "venue-unavailable"}
        assert_problem(await http.post(f"/group-sessions/{sid}/cancellation", json=cancel), 409)
    for case, missed in zip(people, [True, False, True], strict=True):
        (event,) = await published(
            kafka_broker.bootstrap, "gmirs.case.attendance-recorded.v1", 1, case_id=case
        )
        assert event["non_attendance"] is missed
        assert event["appointment_id"] in {p["appointment_id"] for p in read["participants"]}
    booked = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-booked.v1", 3, group_session_id=sid
    )
    assert {e["case_id"] for e in booked} == set(people)


async def test_a_place_moves_or_goes_only_with_its_session(served: Served) -> None:
    async with served.hub() as http:
        session = await create(http, plan([served.own[3]], 30))
        appointment = session["participants"][0]["appointment_id"]
        base = f"/cases/{served.own[3]}/appointments/{appointment}"
        move = {**MOVE, "starts_at": at(hours=40), "ends_at": at(hours=41)}
        assert_problem(await http.post(f"{base}/reschedule", json=move), 409, "group session")
        cancel = {"reason": "person-unwell"}
        assert_problem(await http.post(f"{base}/cancellation", json=cancel), 409, "group session")


async def test_moving_then_cancelling_the_session_moves_then_cancels_every_place(
    served: Served, kafka_broker: Any
) -> None:
    first, second, late = served.own[3], served.own[4], served.own[5]
    async with served.hub() as http:
        body = plan([first, second], 24, session_type="family", delivery_type="video-call")
        del body["nps_office_code"]
        sid = (await create(http, body))["id"]
        for n in (1, 2):
            move = {**MOVE, "starts_at": at(hours=24 + n * 24), "ends_at": at(hours=25 + n * 24)}
            moved = await http.post(f"/group-sessions/{sid}/reschedule", json=move)
            assert moved.status_code == 200, moved.text
        assert len(moved.json()["reschedules"]) == 2
        joined = await http.post(f"/group-sessions/{sid}/participants", json={"case_id": late})
        assert joined.status_code == 201, joined.text
        assert joined.json()["starts_at"] == moved.json()["starts_at"]
        again = await http.post(f"/group-sessions/{sid}/participants", json={"case_id": late})
        assert_problem(again, 409, "already on the register")
        for case in (first, second):
            place = _place(await http.get(f"/cases/{case}"), sid)
            assert len(place["reschedules"]) == 2
            assert place["starts_at"] == moved.json()["starts_at"]
        cancel = {"reason": "worker-unavailable", "note": "Facilitator ill."}
        cancelled = await http.post(f"/group-sessions/{sid}/cancellation", json=cancel)
        assert cancelled.status_code == 200, cancelled.text
        for case in (first, second, late):
            place = _place(await http.get(f"/cases/{case}"), sid)
            assert place["cancellation"]["reason"] == "worker-unavailable"
        for path, payload in (
            ("cancellation", cancel),
            ("reschedule", {**MOVE, "starts_at": at(hours=90), "ends_at": at(hours=91)}),
            ("participants", {"case_id": served.own[0]}),
        ):
            assert_problem(await http.post(f"/group-sessions/{sid}/{path}", json=payload), 409)
    moves = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-rescheduled.v1", 4, group_session_id=sid
    )
    assert {e["case_id"] for e in moves} == {first, second}
    assert {e["session_type"] for e in moves} == {"family"}
    cancels = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-cancelled.v1", 3, group_session_id=sid
    )
    assert {e["case_id"] for e in cancels} == {first, second, late}


async def test_every_role_and_another_hubs_view_of_a_session(served: Served) -> None:
    async with served.hub() as http:
        sid = (await create(http, plan([served.own[0]], 10)))["id"]
    move = {**MOVE, "starts_at": at(hours=20), "ends_at": at(hours=21)}
    attendance = {"attended": "yes", "session_happened": True}
    calls = [
        ("GET", f"/group-sessions/{sid}", None),
        ("POST", f"/group-sessions/{sid}/reschedule", move),
        ("POST", f"/group-sessions/{sid}/cancellation", {"reason": "booked-in-error"}),
        ("POST", f"/group-sessions/{sid}/participants", {"case_id": served.own[1]}),
        ("PUT", f"/group-sessions/{sid}/participants/{served.own[0]}/attendance", attendance),
    ]
    async with served.hub(OTHER) as other:
        for method, path, body in calls:
            response = await other.request(method, path, json=body)
            assert_problem(response, 404, "No such group session")
        mine = await other.post("/group-sessions", json=plan([served.own[1]], 10))
        assert_problem(mine, 404, "No such case")  # a Salford case on Wigan's register
        theirs = await other.post("/group-sessions", json=plan([served.other], 10, hub_id=OWN))
        assert_problem(theirs, 422, "for itself")
    for role in ("commissioner", "operator", "probation-system"):
        async with served.role(role) as http:
            assert (
                await http.post("/group-sessions", json=plan([served.own[0]], 10))
            ).status_code == 403
            for method, path, body in calls:
                assert (await http.request(method, path, json=body)).status_code == 403
    async with served.role("lead-provider") as lead:
        unnamed = await lead.post("/group-sessions", json=plan([served.own[0]], 10))
        assert_problem(unnamed, 422, "name the hub")
        named = await create(lead, plan([served.own[0]], 10, hub_id=OWN))
        assert named["hub_id"] == OWN
        assert (await lead.get(f"/group-sessions/{sid}")).status_code == 200


async def test_bad_input_leaves_nothing_half_written(served: Served) -> None:
    sessions, places = await served.count(SESSIONS), await served.count(PLACES)
    mine = served.own[:2]
    async with served.hub() as http:
        for body in (
            plan([*mine, served.other], 10),  # another hub's case among its own
            plan([*mine, no_uuid()], 10),
        ):
            assert_problem(await http.post("/group-sessions", json=body), 404, "No such case")
        for body in (
            plan([mine[0], mine[0]], 10),
            plan(mine, 10, session_type="one-to-one"),
            plan(mine, 10, nps_office_code=None),
            plan(mine, 10, ends_at=at(hours=9)),
            plan([], 10),
            plan([no_uuid() for _ in range(51)], 10),
            {**plan(mine, 10), "participants": [{"case_id": mine[0], "session_number": 2**63}]},
        ):
            assert_problem(await http.post("/group-sessions", json=body), 422)
        address = {"first_line": "Hall\x00", "postcode": "M3 5LX"}
        nul = plan(mine, 10, delivery_type="in-person-other", address=address)
        del nul["nps_office_code"]
        await assert_nul_refused(
            http, "POST", "/group-sessions", "body.address.first_line", json=nul
        )
    assert (await served.count(SESSIONS), await served.count(PLACES)) == (sessions, places)


async def test_many_sessions_planned_on_one_connection(served: Served) -> None:
    sessions = await served.count(SESSIONS)
    async with served.hub() as http:
        ids = [(await create(http, plan(served.own[4:6], 100 + n)))["id"] for n in range(10)]
        for sid in ids:
            read = (await http.get(f"/group-sessions/{sid}")).json()
            assert len(read["participants"]) == 2
    assert await served.count(SESSIONS) == sessions + 10
    assert len(set(ids)) == 10
    assert all(uuid.UUID(sid) for sid in ids)


def _place(case: httpx.Response, session_id: str) -> dict[str, Any]:
    places: list[dict[str, Any]] = case.json()["appointments"]
    (place,) = [a for a in places if a["group_session_id"] == session_id]
    return place


async def test_a_hub_lists_only_its_own_sessions_soonest_first_naming_no_one(
    served: Served,
) -> None:
    later = at(hours=2000)
    async with served.hub() as http:
        ids = [(await create(http, plan(served.own[:n], 2001 + n)))["id"] for n in (2, 1)]
        cancel = {"reason": "booked-in-error"}
        assert (
            await http.post(f"/group-sessions/{ids[1]}/cancellation", json=cancel)
        ).status_code == 200
        page = await http.get("/group-sessions", params={"starts_from": later, "limit": 10})
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert [i["id"] for i in items] == [ids[1], ids[0]]
        assert [(i["places"], i["cancelled"]) for i in items] == [(1, True), (2, False)]
        assert "case_id" not in page.text
        assert_problem(await http.get("/group-sessions", params={"limit": 201}), 422)
        assert_problem(await http.get("/group-sessions", params={"starts_from": "1970"}), 422)
    async with served.hub(OTHER) as other:
        theirs = (await other.get("/group-sessions", params={"starts_from": later})).json()
        assert theirs["items"] == []
    async with served.role("lead-provider") as lead:
        every = (await lead.get("/group-sessions", params={"starts_from": later})).json()
        assert {i["id"] for i in every["items"]} == set(ids)
    async with served.role("commissioner") as http:
        assert (await http.get("/group-sessions")).status_code == 403


async def test_one_person_drops_out_and_the_session_goes_on(
    served: Served, kafka_broker: Any
) -> None:
    leaving, staying = served.own[0], served.own[1]
    async with served.hub() as http:
        sid = (await create(http, plan([leaving, staying], 50)))["id"]
        path = f"/group-sessions/{sid}/participants/{leaving}/cancellation"
        bad = await http.post(path, json={"reason": "other"})
        assert_problem(bad, 422)
        assert "note" in str(bad.json()["errors"])
        dropped = await http.post(path, json={"reason": "person-in-custody"})
        assert dropped.status_code == 200, dropped.text
        assert dropped.json()["cancellation"]["reason"] == "person-in-custody"
        assert_problem(await http.post(path, json={"reason": "person-unwell"}), 409)
        for stranger in (served.other, no_uuid()):
            elsewhere = f"/group-sessions/{sid}/participants/{stranger}/cancellation"
            assert_problem(await http.post(elsewhere, json={"reason": "person-unwell"}), 404)
        read = (await http.get(f"/group-sessions/{sid}")).json()
        assert read["cancellation"] is None
        assert _place(await http.get(f"/cases/{staying}"), sid)["cancellation"] is None
    async with served.hub(OTHER) as http:
        assert_problem(await http.post(path, json={"reason": "person-unwell"}), 404)
    (event,) = await published(
        kafka_broker.bootstrap, "gmirs.case.appointment-cancelled.v1", 1, group_session_id=sid
    )
    assert (event["case_id"], event["reason"]) == (leaving, "person-in-custody")

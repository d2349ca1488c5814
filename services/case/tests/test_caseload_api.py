"""The hub API through its real routes on real PostgreSQL: cursor paging, filters and search,
ETag / If-Match, and Idempotency-Key on the case service's POSTs."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.domain.people import search_name
from gmirs_case.entrypoints.caseload import CasePage
from gmirs_case.settings import CaseSettings
from gmirs_runtime.idempotency import purge_expired
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.services import RunningService

BOLTON = ("hub-bolton", ["hub"], {"hub_id": "bolton"})
BURY = ("hub-bury", ["hub"], {"hub_id": "bury"})
LEAD: tuple[str, list[str], dict[str, str]] = ("lead", ["lead-provider"], {})
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def case_service(start_service) -> AsyncIterator[RunningService]:
    async with start_service(CaseSettings, build, MIGRATIONS) as service:
        yield service


async def _seed(service: RunningService, rows: list[dict[str, Any]]) -> list[str]:
    """Cases (allocated to their hub, with their person when a row gives a `name`) written straight
    to the tables: the API under test only reads and changes them."""
    sql = (
        "INSERT INTO cases (id, referral_id, hub_id, probation_delivery_unit, crn,"
        " reference_number, opened_at, version) VALUES (:id, :referral_id, :hub_id, :pdu, :crn,"
        " :ref, :opened_at, 1)"
    )
    full = [
        {
            "id": uuid.uuid4(),
            "referral_id": uuid.uuid4(),
            "hub_id": "bolton",
            "pdu": "Bolton",
            "crn": f"X{random.randrange(10**6):06d}",
            "ref": None,
            "opened_at": T0,
            **row,
        }
        for row in rows
    ]
    lifecycle = (
        "INSERT INTO case_lifecycle (case_id, state, since, reached, closure_settled,"
        " referral_sent_at) VALUES (:id, 'allocated', CAST(:opened_at AS timestamptz),"
        " jsonb_build_object('received', CAST(:opened_at AS timestamptz), 'allocated',"
        " CAST(:opened_at AS timestamptz)), false, CAST(:opened_at AS timestamptz))"
    )
    people = [
        {"id": r["id"], "crn": r["crn"], "given": given, "family": family}
        for r in full
        if "name" in r
        for given, family in [r["name"]]
    ]
    async with service.infra.engine.begin() as conn:
        await conn.execute(text(sql), [{k: v for k, v in r.items() if k != "name"} for r in full])
        await conn.execute(
            text(lifecycle), [{"id": r["id"], "opened_at": r["opened_at"]} for r in full]
        )
        if people:
            await conn.execute(
                text(PERSON),
                [{**p, "search": search_name(p["given"], p["family"])} for p in people],
            )
    return [str(r["id"]) for r in full]


PERSON = (
    "INSERT INTO case_people (case_id, crn, given_name, family_name, search_name, referral,"
    " contact, contact_version) VALUES (:id, :crn, :given, :family, :search, '{}', '{}', 1)"
)


async def test_a_cursor_walk_sees_every_case_once_while_cases_are_opened(case_service) -> None:
    # Many cases share an opened_at, so the id breaks ties; another hub's cases never show.
    seeded = await _seed(
        case_service, [{"opened_at": T0 - timedelta(minutes=i // 3)} for i in range(95)]
    )
    await _seed(case_service, [{"hub_id": "bury"} for _ in range(5)])
    seen: list[str] = []
    async with case_service.as_client(*BOLTON) as http:
        page = (await http.get("/cases", params={"limit": 7, "with_total": "true"})).json()
        assert page["total"] == 95
        while True:
            seen += [c["id"] for c in page["items"]]
            await _seed(case_service, [{"opened_at": datetime.now(UTC)}])  # opened meanwhile
            if page["next"] is None:
                break
            response = await http.get(page["next"])
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["total"] is None
    assert len(seen) == len(set(seen)) == 95
    assert set(seen) == set(seeded)
    async with case_service.infra.engine.connect() as conn:
        newest_first = await conn.scalars(
            text(
                "SELECT id::text FROM cases WHERE id::text = ANY(:ids) ORDER BY opened_at DESC, id DESC"
            ),
            {"ids": seeded},
        )
        assert seen == list(newest_first)


async def test_a_page_is_byte_for_byte_what_its_documented_model_writes(case_service) -> None:
    # The page is written by orjson, not through CasePage: the two must never drift apart
    # (UTC times with Z, microseconds, nulls, key order).
    at = datetime(2026, 6, 1, 9, 0, 0, 123456, tzinfo=UTC)
    await _seed(case_service, [{"opened_at": at}, {"opened_at": T0, "ref": "AB1234CD"}])
    async with case_service.as_client(*BOLTON) as http:
        response = await http.get("/cases", params={"limit": 1, "with_total": "true"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    page = CasePage.model_validate_json(response.content)
    assert page.model_dump_json().encode() == response.content
    assert page.items[0].opened_at == at
    assert page.next_cursor is not None
    assert page.total == 2


async def test_a_cursor_not_given_out_for_this_query_is_a_422_problem(case_service) -> None:
    await _seed(case_service, [{"opened_at": T0 - timedelta(hours=i)} for i in range(5)])
    async with case_service.as_client(*BOLTON) as http:
        first = (await http.get("/cases", params={"limit": 2})).json()
        cursor = first["next_cursor"]
        tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
        answers = [
            await http.get("/cases", params={"limit": 2, "cursor": c})
            for c in (tampered, "bm90LWEtY3Vyc29y", "W10", "!!", "A" * 201)
        ]
        other_filters = await http.get("/cases", params={"limit": 2, "cursor": cursor, "q": "X1"})
        with_offset = await http.get("/cases", params={"cursor": cursor, "offset": 2})
        good = await http.get("/cases", params={"limit": 2, "cursor": cursor})
    for answer in [*answers, other_filters, with_offset]:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert "cursor" in answers[0].json()["errors"][0]["field"]
    assert good.status_code == 200
    assert good.json()["items"][0]["id"] not in {c["id"] for c in first["items"]}


async def test_filters_and_search_by_crn_or_reference_number(case_service) -> None:
    [wigan_pdu] = await _seed(case_service, [{"pdu": "Wigan", "opened_at": T0}])
    [old] = await _seed(case_service, [{"opened_at": T0 - timedelta(days=40)}])
    [by_crn] = await _seed(case_service, [{"crn": "Q123456", "opened_at": T0}])
    [by_ref] = await _seed(case_service, [{"ref": "QR1234AB", "opened_at": T0}])
    [elsewhere] = await _seed(case_service, [{"hub_id": "bury", "crn": "Q123499"}])

    async def ids(who: tuple[Any, ...], **params: str) -> set[str]:
        async with case_service.as_client(*who) as http:
            response = await http.get("/cases", params=params)
            assert response.status_code == 200, response.text
            return {c["id"] for c in response.json()["items"]}

    assert await ids(BOLTON, probation_delivery_unit="Wigan") == {wigan_pdu}
    assert await ids(BOLTON, opened_to=str((T0 - timedelta(days=1)).date())) == {old}
    assert old not in await ids(BOLTON, opened_from=str(T0.date()))
    assert await ids(BOLTON, q="q1234") == {by_crn}  # a CRN prefix, any case
    assert await ids(BOLTON, q="QR12") == {by_ref}
    assert await ids(BOLTON, q="Q1234") == {by_crn}  # not bury's Q123499
    assert await ids(LEAD, q="Q1234") == {by_crn, elsewhere}
    async with case_service.as_client(*BOLTON) as http:
        for bad in ({"q": "x%"}, {"q": "a"}, {"opened_from": "99999-01-01"}, {"q": "x_1"}):
            assert (await http.get("/cases", params=bad)).status_code == 422


async def _found(service: RunningService, who: tuple[Any, ...], q: str) -> set[str]:
    async with service.as_client(*who) as http:
        response = await http.get("/cases", params={"q": q})
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["items"]}


async def test_search_by_name_crn_or_reference_stays_in_the_hub_and_is_audited(
    case_service,
) -> None:
    [jordan] = await _seed(case_service, [{"name": ("Jordan", "Fairweather"), "crn": "Q111111"}])
    [neill] = await _seed(case_service, [{"name": ("Zoë", "O'Neill"), "ref": "NE1234AB"}])
    [brother] = await _seed(case_service, [{"name": ("Sam", "Fairbrother")}])
    [bury] = await _seed(case_service, [{"hub_id": "bury", "name": ("Jordan", "Fairweather")}])
    assert await _found(case_service, BOLTON, "fairw") == {jordan}  # part of a surname
    assert await _found(case_service, BOLTON, "FAIRWEATHER") == {jordan}  # any letter case
    assert await _found(case_service, BOLTON, "jordan  fair") == {jordan}  # given and family
    assert await _found(case_service, BOLTON, "fair") == {jordan, brother}
    assert await _found(case_service, BOLTON, "eather") == {jordan}  # any part of the name
    assert await _found(case_service, BOLTON, "ZOË O'NEILL") == {neill}
    assert await _found(case_service, BOLTON, "q1111") == {jordan}  # a CRN's start
    assert await _found(case_service, BOLTON, "ne12") == {neill}  # a reference number's start
    assert await _found(case_service, BOLTON, "fa") == set()  # names from three characters
    [digits] = await _seed(case_service, [{"name": ("Al", "Fair2weather")}])  # a typing slip
    assert await _found(case_service, BOLTON, "fair2") == set()  # a digit: CRNs, not names
    assert await _found(case_service, BOLTON, "fair") == {jordan, brother, digits}
    assert await _found(case_service, BURY, "fairweather") == {bury}
    assert await _found(case_service, LEAD, "fairweather") == {jordan, bury}
    async with case_service.as_client(*BOLTON) as http:
        listed = (await http.get("/cases", params={"q": "fair"})).json()["items"]
        unsearched = await http.get("/cases")
    assert {c["state"] for c in listed} == {"allocated"}
    async with case_service.infra.engine.connect() as conn:
        audited = (await conn.execute(text("SELECT * FROM audit_log"))).mappings().all()
    searches = [r for r in audited if r["action"] == "search"]
    assert len(searches) == 14  # one per search
    assert len(audited) == 14  # a plain list is not audited
    assert {(r["actor"], r["resource_type"]) for r in searches} == {
        ("hub-bolton", "caseload"),
        ("hub-bury", "caseload"),
        ("lead", "caseload"),
    }
    assert {r["resource_id"] for r in searches} == {"bolton", "bury", "all-hubs"}
    kept = " ".join(str(v) for r in audited for v in r.values()).casefold()
    for term in ("fair", "neill", "q1111"):
        assert term not in kept  # never the term
    assert unsearched.status_code == 200


async def test_the_state_is_in_each_summary_and_filters_the_list(case_service) -> None:
    [contacted, allocated] = await _seed(case_service, [{}, {}])
    async with case_service.infra.engine.begin() as conn:
        await conn.execute(
            text("UPDATE case_lifecycle SET state = 'contacted' WHERE case_id = :c"),
            {"c": contacted},
        )
    async with case_service.as_client(*BOLTON) as http:
        everything = (await http.get("/cases")).json()["items"]
        filtered = (await http.get("/cases", params={"state": "contacted"})).json()["items"]
        counted = await http.get("/cases", params={"state": "allocated", "with_total": "true"})
    assert {c["id"]: c["state"] for c in everything} == {
        contacted: "contacted",
        allocated: "allocated",
    }
    assert [c["id"] for c in filtered] == [contacted]
    assert counted.json()["total"] == 1


async def test_a_state_reached_through_the_api_is_the_state_the_list_shows_and_filters(
    case_service,
) -> None:
    """The list reads the state kept on `cases` (revision 0015's trigger copies it from
    `case_lifecycle`): a lifecycle command, which upserts the lifecycle row, moves it too."""
    [case_id] = await _seed(case_service, [{"opened_at": datetime.now(UTC) - timedelta(days=2)}])
    contact = {"occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    async with case_service.as_client(*BOLTON) as http:
        assert await _ids(http, state="allocated") == [case_id]
        made = await http.post(f"/cases/{case_id}/first-contact", json=contact)
        assert made.status_code == 200, made.text
        assert await _ids(http, state="allocated") == []
        assert await _ids(http, state="contacted") == [case_id]
        [summary] = (await http.get("/cases")).json()["items"]
    assert summary["state"] == "contacted"


CLOCK_NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
"""The service's clock in the worker and overdue test: "today" is 10 June 2026."""


@pytest.fixture
async def clocked_service(start_service) -> AsyncIterator[RunningService]:
    async def build_with_clock(settings: ServiceSettings) -> tuple[Service, Any]:
        service, infra = await build(settings)
        assert service.app is not None
        service.app.state.clock = lambda: CLOCK_NOW
        return service, infra

    async with start_service(CaseSettings, build_with_clock, MIGRATIONS) as service:
        yield service


async def _assign_and_task(
    service: RunningService, case_id: str, worker: str, due: date | None, done: bool = False
) -> None:
    """The case's worker (by its referral, as assignments are kept) and one task due on `due`."""
    async with service.infra.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO worker_assignments (referral_id, worker, source, assigned_at,"
                " assigned_by) SELECT referral_id, :worker, 'hub', now(), 'test' FROM cases"
                " WHERE id = :case"
            ),
            {"worker": worker, "case": case_id},
        )
        if due is not None:
            await conn.execute(
                text(
                    "INSERT INTO case_tasks (id, case_id, hub_id, kind, due_on, worker, created_at,"
                    " created_by, done_at) SELECT gen_random_uuid(), id, hub_id, 'review', :due,"
                    " :worker, now(), 'test', CASE WHEN :done THEN now() END FROM cases"
                    " WHERE id = :case"
                ),
                {"worker": worker, "case": case_id, "due": due, "done": done},
            )


async def _ids(http: Any, **params: Any) -> list[str]:
    response = await http.get("/cases", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


async def test_worker_and_overdue_filters_combine_with_state_and_cursor_within_the_hub(
    clocked_service,
) -> None:
    service = clocked_service
    today = CLOCK_NOW.date()
    opened = [{"opened_at": T0 - timedelta(hours=i)} for i in range(5)]
    late, on_time, bobs_late, done_late, unassigned = await _seed(service, opened)
    [burys_late] = await _seed(service, [{"hub_id": "bury", "pdu": "Bury"}])
    await _assign_and_task(service, late, "alice", today - timedelta(days=1))
    await _assign_and_task(service, on_time, "alice", today)  # due today: not overdue yet
    await _assign_and_task(service, bobs_late, "bob", today - timedelta(days=30))
    await _assign_and_task(service, done_late, "alice", today - timedelta(days=3), done=True)
    await _assign_and_task(service, burys_late, "alice", today - timedelta(days=2))
    async with service.infra.engine.begin() as conn:
        await conn.execute(
            text("UPDATE case_lifecycle SET state = 'contacted' WHERE case_id = :c"), {"c": late}
        )
    async with service.as_client(*BOLTON) as http:
        assert await _ids(http, worker="alice") == [late, on_time, done_late]
        assert await _ids(http, overdue="true") == [late, bobs_late]
        assert await _ids(http, worker="alice", overdue="true") == [late]
        assert await _ids(http, worker="alice", state="contacted") == [late]
        assert await _ids(http, worker="alice", state="allocated") == [on_time, done_late]
        assert await _ids(http, worker="bob", overdue="true", state="contacted") == []
        assert await _ids(http, worker="nobody") == []
        counted = await http.get("/cases", params={"overdue": "true", "with_total": "true"})
        assert counted.json()["total"] == 2
        walked: list[str] = []
        page = (await http.get("/cases", params={"worker": "alice", "limit": 1})).json()
        while True:
            walked += [c["id"] for c in page["items"]]
            if page["next"] is None:
                break
            assert "worker=alice" in page["next"]
            page = (await http.get(page["next"])).json()
        cursor = (await http.get("/cases", params={"worker": "alice", "limit": 1})).json()
        other_worker = await http.get(
            "/cases", params={"worker": "bob", "limit": 1, "cursor": cursor["next_cursor"]}
        )
        bad_worker = await http.get("/cases", params={"worker": "al ice"})
    assert walked == [late, on_time, done_late]
    assert other_worker.status_code == bad_worker.status_code == 422
    async with service.as_client(*BURY) as http:
        assert await _ids(http, worker="alice") == [burys_late]
        assert await _ids(http, overdue="true") == [burys_late]
    async with service.as_client(*LEAD) as http:
        assert set(await _ids(http, overdue="true")) == {late, bobs_late, burys_late}
        assert set(await _ids(http, worker="alice")) == {late, on_time, done_late, burys_late}
    assert unassigned not in walked


async def test_the_worker_filter_follows_assignments_made_before_and_after_a_case_opens(
    case_service,
) -> None:
    # cases.worker is kept by triggers (revision 0016): R&M may assign a referral's worker
    # before its case is opened here, and a hub may reassign it later.
    early_referral = uuid.uuid4()
    async with case_service.infra.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO worker_assignments (referral_id, worker, source, assigned_at,"
                " assigned_by) VALUES (:r, 'carol', 'refer-and-monitor', now(), 'rm')"
            ),
            {"r": early_referral},
        )
    [early] = await _seed(case_service, [{"referral_id": early_referral}])
    [later] = await _seed(case_service, [{"opened_at": T0 - timedelta(hours=1)}])
    await _assign_and_task(case_service, later, "carol", None)
    async with case_service.as_client(*BOLTON) as http:
        assert await _ids(http, worker="carol") == [early, later]
        async with case_service.infra.engine.begin() as conn:
            await conn.execute(
                text("UPDATE worker_assignments SET worker = 'dave' WHERE referral_id = :r"),
                {"r": early_referral},
            )
        assert await _ids(http, worker="carol") == [later]
        assert await _ids(http, worker="dave") == [early]


async def test_a_name_search_pages_by_cursor_without_repeats_while_cases_open(
    case_service,
) -> None:
    seeded = await _seed(
        case_service,
        [
            {"name": ("Alex", "Ashworth"), "opened_at": T0 - timedelta(minutes=i // 2)}
            for i in range(23)
        ],
    )
    await _seed(case_service, [{"name": ("Alex", "Ashby")} for _ in range(4)])  # not matched
    seen: list[str] = []
    async with case_service.as_client(*BOLTON) as http:
        response = await http.get("/cases", params={"q": "ashwor", "limit": 5})
        while True:
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [c["id"] for c in page["items"]]
            await _seed(
                case_service, [{"name": ("Alex", "Ashworth"), "opened_at": datetime.now(UTC)}]
            )
            if page["next"] is None:
                break
            assert "q=ashwor" in page["next"]
            response = await http.get(page["next"])
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == set(seeded)


async def test_a_search_term_that_is_not_text_is_a_422_problem(case_service) -> None:
    await _seed(case_service, [{"name": ("Alex", "Ashworth")}])
    async with case_service.as_client(*BOLTON) as http:
        answers = [
            await http.get("/cases", params={"q": bad})
            for bad in ("ash\x00worth", "ash%", "a_h", "ash\\", "  ", " a ", "x" * 61, "ash\x1b")
        ]
        survives = await http.get("/cases", params={"q": "ash"})
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert survives.status_code == 200
    assert len(survives.json()["items"]) == 1


def _appointment(hours_ago: int = 3) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "kind": "session",
        "starts_at": (now - timedelta(hours=hours_ago)).isoformat(),
        "ends_at": (now - timedelta(hours=hours_ago - 1)).isoformat(),
        "delivery_type": "video-call",
    }


async def test_if_match_refuses_a_write_on_a_case_changed_since_it_was_read(case_service) -> None:
    [case_id] = await _seed(case_service, [{}])
    async with case_service.as_client(*BOLTON) as http:
        read = await http.get(f"/cases/{case_id}")
        etag = read.headers["etag"]
        booked = await http.post(
            f"/cases/{case_id}/appointments", json=_appointment(), headers={"If-Match": etag}
        )
        assert booked.status_code == 201, booked.text
        assert booked.headers["etag"] != etag
        stale = await http.post(
            f"/cases/{case_id}/appointments", json=_appointment(), headers={"If-Match": etag}
        )
        path = f"/cases/{case_id}/appointments/{booked.json()['id']}/attendance"
        attendance = {"attended": "yes", "session_happened": True}
        stale_put = await http.put(path, json=attendance, headers={"If-Match": etag})
        fresh_put = await http.put(
            path, json=attendance, headers={"If-Match": booked.headers["etag"]}
        )
        unconditional = await http.post(f"/cases/{case_id}/appointments", json=_appointment())
        after = await http.get(f"/cases/{case_id}")
    async with case_service.as_client(*BURY) as http:
        other_hub = await http.post(
            f"/cases/{case_id}/appointments", json=_appointment(), headers={"If-Match": "*"}
        )
    for refused in (stale, stale_put):
        assert refused.status_code == 412, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "/problems/case-changed"
    assert fresh_put.status_code == 200, fresh_put.text
    assert unconditional.status_code == 201  # If-Match is optional: older clients still work
    assert len(after.json()["appointments"]) == 2  # the refused writes left nothing
    assert after.headers["etag"] == '"4"'  # three changes since version 1
    assert other_hub.status_code == 404


async def test_an_idempotency_key_replays_the_first_answer(case_service) -> None:
    [case_id] = await _seed(case_service, [{}])
    body = _appointment()
    path = f"/cases/{case_id}/appointments"
    async with case_service.as_client(*BOLTON) as http:
        key = {"Idempotency-Key": f"book-{uuid.uuid4()}"}
        answers = [await http.post(path, json=body, headers=key) for _ in range(30)]
        reused = await http.post(path, json=_appointment(5), headers=key)
        spaced = await http.post(
            path,
            content=" ".join(f'"{k}": "{v}",' for k, v in body.items()).join("{}")[:-2] + "}",
            headers={**key, "content-type": "application/json"},
        )
    async with case_service.as_client("hub-bolton-2", ["hub"], {"hub_id": "bolton"}) as http:
        other_client = await http.post(path, json=body, headers=key)  # keys are per client
        read = await http.get(f"/cases/{case_id}")
    first = answers[0]
    assert first.status_code == 201, first.text
    for again in answers[1:]:
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
    assert reused.status_code == 409
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert (spaced.status_code, spaced.content) == (201, first.content)
    assert other_client.status_code == 201
    assert other_client.json()["id"] != first.json()["id"]
    assert len(read.json()["appointments"]) == 2
    async with case_service.infra.engine.begin() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        )
    async with case_service.infra.unit_of_work() as uow:
        assert await purge_expired(uow.session) == 2
        await uow.commit()
    async with case_service.as_client(*BOLTON) as http:
        expired_key_again = await http.post(path, json=_appointment(5), headers=key)
    assert expired_key_again.status_code == 201

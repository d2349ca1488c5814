"""The lifecycle wired into the running case service: real PostgreSQL, real broker, real tokens.

One service is shared by the module. The state machine is checked as a table through the real
handler (each starting state written directly, then one command); the routes, their 409s and
the reallocation over HTTP; R&M progress through the real consumer, out of order and twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import orjson
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.domain import commands as c
from gmirs_case.domain.closure import ClosureReason
from gmirs_case.domain.commands import Command, CommandKind
from gmirs_case.domain.lifecycle import TRANSITIONS, CaseState, InvalidTransition, Lifecycle
from gmirs_case.handlers.lifecycle import run_command
from gmirs_case.settings import CaseSettings
from gmirs_contracts.examples import example_data
from gmirs_contracts.hubs import HUB_IDS
from gmirs_contracts.validation import validate_event
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.testing.kafka import eventually, wait_for_records
from gmirs_runtime.testing.services import RunningService, own_database, running_service

INTAKE = "intake.referral-events.v1"
CASES = "case.case-events.v1"
NOW = partial(datetime.now, UTC)
UNCONFIGURED = "trafford"  # a hub the contracts know but this service is not configured with


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(
    postgres_server: Any, kafka_broker: Any, token_issuer: Any
) -> AsyncIterator[RunningService]:
    async with (
        own_database(postgres_server) as url,
        running_service(
            settings_class=CaseSettings,
            build=build,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
            hub_ids=[h for h in HUB_IDS if h != UNCONFIGURED],
        ) as service,
    ):
        yield service


def intake_event(ce_type: str, referral_id: uuid.UUID, **data: Any) -> Event:
    """An intake event of `ce_type` (its example, for `referral_id`, with `data` changed)."""
    values = example_data(ce_type) | {"referral_id": str(referral_id)}
    values |= {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    return Event(type=ce_type, source="/gmirs/test", subject=referral_id, data=values)


def referral(hub: str | None) -> Event:
    return intake_event("gmirs.intake.referral-received.v1", uuid.uuid4(), hub_id=hub)


async def publish(bootstrap: str, *events: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                INTAKE, key=e.key, value=orjson.dumps(e.data), headers=to_headers(e)
            )
    finally:
        await producer.stop()


async def open_case(service: RunningService, bootstrap: str, hub: str) -> str:
    """Publish a routed referral and wait for its case; the case id."""
    sent = referral(hub)
    await publish(bootstrap, sent)
    return await case_of(service, hub, sent.subject)


async def case_of(service: RunningService, hub: str, referral_id: Any) -> str:
    found: list[str] = []

    async def opened() -> bool:
        async with service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
            items = (await http.get("/cases", params={"limit": 200})).json()["items"]
        found[:] = [c["id"] for c in items if c["referral_id"] == str(referral_id)]
        return bool(found)

    await eventually(opened, what=f"a case for {hub}")
    return found[0]


# --- the state machine as a table, through the real handlers -------------------------------

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AT = T0 + timedelta(hours=1)


def _command(kind: CommandKind) -> Command:
    """One command of each kind, happening at AT (reallocation is exercised over HTTP)."""
    made: dict[CommandKind, Command] = {
        CommandKind.ALLOCATE: c.AllocateCase("bolton", AT),
        CommandKind.RECORD_FIRST_CONTACT: c.RecordFirstContact(AT),
        CommandKind.BOOK_INITIAL_ASSESSMENT: c.BookInitialAssessment(uuid.uuid4(), AT, AT),
        CommandKind.RECORD_ASSESSMENT_ATTENDED: c.RecordInitialAssessmentAttended(None, AT),
        CommandKind.RECORD_ASSESSMENT_MISSED: c.RecordInitialAssessmentMissed(None, AT),
        CommandKind.ASSESS_NEEDS: c.AssessNeeds(AT),
        CommandKind.AGREE_ACTION_PLAN: c.AgreeActionPlan(2, 6, AT),
        CommandKind.SHARE_ACTION_PLAN: c.ShareActionPlan(2, AT),
        CommandKind.RECORD_ACTION_PLAN_APPROVAL: c.RecordActionPlanApproval(2, AT),
        CommandKind.COMMENCE_INTERVENTION: c.CommenceIntervention(None, AT),
        CommandKind.COMPLETE_SESSIONS: c.CompleteSessions(AT),
        CommandKind.OFFER_EXIT_SURVEY: c.OfferExitSurvey(AT),
        CommandKind.CLOSE_COMPLETED: c.CloseCase(ClosureReason.COMPLETED, AT),
        CommandKind.CLOSE_EARLY: c.CloseCase(ClosureReason.DECLINED, AT),
    }
    return made[kind]


async def _attempt(
    service: RunningService, case_id: uuid.UUID, state: CaseState, kind: CommandKind
) -> CaseState | None:
    """Write the case into `state`, run one command through the handler: the state after it,
    or None if refused (then the stored state must be unchanged)."""
    start = Lifecycle(state, T0, {CaseState.RECEIVED: T0 - timedelta(days=1), state: T0})
    async with service.infra.unit_of_work() as uow:
        await uow.lifecycles.save(case_id, start)
        await uow.commit()
    async with service.infra.unit_of_work() as uow:
        try:
            after = await run_command(uow, case_id, _command(kind), hub_id=None, now=NOW())
        except InvalidTransition as refused:
            await uow.rollback()
            after, named = None, (refused.state, refused.kind)
            assert named == (state, kind)
        else:
            await uow.commit()
    async with service.infra.unit_of_work() as uow:
        stored = await uow.lifecycles.get(case_id)
    if after is None:
        assert stored == start
        return None
    assert stored == after
    return after.state


async def test_every_state_and_command_is_allowed_or_refused_as_the_table_says(
    service, kafka_broker
) -> None:
    case_id = uuid.UUID(await open_case(service, kafka_broker.bootstrap, "bolton"))
    outcomes = {
        (state, kind): await _attempt(service, case_id, state, kind)
        for state in CaseState
        for kind in CommandKind
        if kind is not CommandKind.REALLOCATE
    }
    expected = {pair: TRANSITIONS.get(pair) for pair in outcomes}
    assert outcomes == expected
    assert sum(v is not None for v in outcomes.values()) >= 30  # the table is not all refusals


# --- the routes over HTTP ------------------------------------------------------------------


def hub(service: RunningService, name: str) -> httpx.AsyncClient:
    return service.as_client(f"hub-{name}", ["hub"], {"hub_id": name})


def lead(service: RunningService) -> httpx.AsyncClient:
    return service.as_client("lead", ["lead-provider"])


def ago(days: float) -> str:
    return (NOW() - timedelta(days=days)).isoformat()


def assert_refused(response: httpx.Response, state: str, command: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["status"], problem["state"], problem["command"]) == (409, state, command)
    assert problem["type"].endswith("invalid-transition")
    assert state in problem["detail"]


PLAN = {
    "agreed_by": "caseworker.wigan",
    "number_of_sessions": 4,
    "goals": [{"area": "physical-health", "description": "Register with a GP"}],
    "activities": [{"description": "Go to the surgery together"}],
}


def _slot(kind: str, hours_ago: int) -> dict[str, str]:
    start = NOW() - timedelta(hours=hours_ago)
    return {
        "kind": kind,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "delivery_type": "phone-call",
    }


async def _appointment(http: httpx.AsyncClient, case_id: str, kind: str, hours_ago: int) -> None:
    booked = await http.post(f"/cases/{case_id}/appointments", json=_slot(kind, hours_ago))
    assert booked.status_code == 201, booked.text
    path = f"/cases/{case_id}/appointments/{booked.json()['id']}/attendance"
    attended = await http.put(path, json={"attended": "yes", "session_happened": True})
    assert attended.status_code == 200, attended.text


async def test_a_hub_walks_a_case_from_allocation_to_closure(service, kafka_broker) -> None:
    case_id = await open_case(service, kafka_broker.bootstrap, "wigan")
    base = f"/cases/{case_id}"
    async with hub(service, "wigan") as http:
        assert_refused(
            await http.post(f"{base}/needs-assessment", json={"occurred_at": ago(9)}),
            "allocated",
            "assess-needs",
        )
        too_soon = await http.post(f"{base}/appointments", json=_slot("initial-assessment", 30))
        assert_refused(too_soon, "allocated", "book-initial-assessment")
        assert (await http.get(base)).json()["appointments"] == []  # nothing half-written
        ok = await http.post(f"{base}/first-contact", json={"occurred_at": ago(9)})
        assert ok.json()["state"] == "contacted"
        await _appointment(http, case_id, "initial-assessment", 30)
        assert (
            await http.post(f"{base}/needs-assessment", json={"occurred_at": ago(2)})
        ).is_success
        for version in range(1, 21):  # revised again and again on one connection
            agreed = await http.post(f"{base}/action-plans", json=PLAN | {"occurred_at": ago(1)})
            assert agreed.status_code == 201, agreed.text
            assert agreed.headers["location"] == f"{base}/action-plans/{version}"
            assert agreed.json()["lifecycle"]["state"] == "action-plan-agreed"
        for path in ("action-plans/20/sharing", "action-plans/20/approval"):
            moved = await http.post(f"{base}/{path}", json={"occurred_at": ago(1)})
            assert moved.status_code == 200, moved.text
        await _appointment(http, case_id, "session", 3)
        nonsense = {"achieved": 0, "partially_achieved": 0, "not_achieved": 0}
        refused = await http.post(
            f"{base}/sessions-completion", json={"occurred_at": ago(0.01), "outcomes": nonsense}
        )
        assert refused.status_code == 422, refused.text
        outcomes = {"achieved": 2, "partially_achieved": 1, "not_achieved": 1}
        completion = {"occurred_at": ago(0.01), "outcomes": outcomes}
        done = await http.post(f"{base}/sessions-completion", json=completion)
        assert done.json()["outcomes"] == outcomes | {"achievement_score": 2.5}, done.text
        assert (await http.post(f"{base}/exit-survey")).status_code == 201  # the link is the offer
        closure = {"occurred_at": ago(0.01), "reason": "completed"}
        assert (await http.post(f"{base}/closure", json=closure)).json()["state"] == "closed"
        assert_refused(
            await http.post(f"{base}/closure", json=closure), "closed", "close-completed"
        )
        future = await http.post(f"{base}/first-contact", json={"occurred_at": ago(-1)})
        assert future.status_code == 422
        read = (await http.get(base)).json()
        closed = (await http.get("/cases", params={"state": "closed"})).json()["items"]
        allocated = (await http.get("/cases", params={"state": "allocated"})).json()["items"]
        assert (await http.get("/cases", params={"state": "lost"})).status_code == 422
    lifecycle = read["lifecycle"]
    assert lifecycle["state"] == "closed"
    assert lifecycle["closure"] == {
        "reason": "completed",
        "settled": True,
        "closed_by": "hub",
        "rm_withdrawal_code": None,
        "rm_delivery_state": None,
    }
    assert set(lifecycle["reached"]) == set(CaseState) - {CaseState.INITIAL_ASSESSMENT_MISSED}
    assert case_id in [c["id"] for c in closed]
    assert case_id not in [c["id"] for c in allocated]
    moves = await _lifecycle_events(kafka_broker.bootstrap, case_id, 31)
    assert [m["state"] for m in moves][-3:] == [
        "sessions-completed",
        "exit-survey-offered",
        "closed",
    ]
    completed = next(m for m in moves if m["state"] == "sessions-completed")
    assert completed["outcomes"] == outcomes | {"achievement_score": 2.5}
    assert moves[-1]["outcomes"] == completed["outcomes"]  # the closure carries them too (DS5)
    assert moves[27]["state"] == "in-sessions"
    assert moves[27]["appointment_id"] is not None
    agreed_events = [m for m in moves if m["type"] == "gmirs.case.action-plan-agreed.v1"]
    assert [m["version"] for m in agreed_events] == list(range(1, 21))
    assert {m["number_of_sessions"] for m in agreed_events} == {4}


async def _lifecycle_events(bootstrap: str, case_id: str, count: int) -> list[dict[str, Any]]:
    """The case's lifecycle events on case.case-events.v1 (checked against their schemas)."""
    records = await wait_for_records(
        bootstrap,
        CASES,
        lambda r: (
            orjson.loads(r.value).get("case_id") == case_id
            and "from_state" in orjson.loads(r.value)
        ),
        count=count,
    )
    moves = []
    for record in records:
        ce_type = dict(record.headers)["ce_type"].decode()
        data = orjson.loads(record.value)
        validate_event(ce_type, data)
        moves.append(data | {"type": ce_type})
    return moves


async def test_a_successful_contact_attempt_is_the_first_contact(service, kafka_broker) -> None:
    case_id = await open_case(service, kafka_broker.bootstrap, "oldham")
    base = f"/cases/{case_id}"

    def attempt(outcome: str, days: float) -> dict[str, str]:
        return {"method": "phone", "outcome": outcome, "occurred_at": ago(days)}

    async with hub(service, "oldham") as http:
        for outcome in ("no-answer", "message-left", "refused"):
            tried = await http.post(f"{base}/contacts", json=attempt(outcome, 3))
            assert tried.status_code == 201, tried.text
        assert (await http.get(base)).json()["lifecycle"]["state"] == "allocated"
        future = await http.post(f"{base}/contacts", json=attempt("successful", -1))
        assert future.status_code == 422
        assert (await http.get(base)).json()["lifecycle"]["state"] == "allocated"
        reached = await http.post(f"{base}/contacts", json=attempt("successful", 2))
        assert reached.status_code == 201, reached.text
        lifecycle = (await http.get(base)).json()["lifecycle"]
        assert lifecycle["state"] == "contacted"
        again = await http.post(f"{base}/contacts", json=attempt("successful", 1))
        assert again.status_code == 201  # a later contact is only a contact
        assert (await http.get(base)).json()["lifecycle"]["state"] == "contacted"
        close = {"occurred_at": ago(0.01), "reason": "declined"}
        assert (await http.post(f"{base}/closure", json=close)).is_success
    moves = await _lifecycle_events(kafka_broker.bootstrap, case_id, 3)
    assert [m["type"] for m in moves] == [
        "gmirs.case.case-allocated.v1",
        "gmirs.case.first-contact-made.v1",
        "gmirs.case.case-closed.v1",
    ]
    contacted_at = datetime.fromisoformat(moves[1]["occurred_at"])
    assert contacted_at == datetime.fromisoformat(reached.json()["occurred_at"])


async def test_the_lead_provider_reallocates_a_case_to_another_hub(service, kafka_broker) -> None:
    case_id = await open_case(service, kafka_broker.bootstrap, "bolton")
    path = f"/cases/{case_id}/reallocation"
    async with hub(service, "bolton") as http:
        assert (await http.post(path, json={"hub_id": "bury"})).status_code == 403
    async with lead(service) as http:
        assert (await http.post(path, json={"hub_id": "atlantis"})).status_code == 422
        unconfigured = await http.post(path, json={"hub_id": UNCONFIGURED})
        assert unconfigured.status_code == 422, unconfigured.text
        assert "not a hub of this service" in unconfigured.json()["detail"]
        moved = await http.post(path, json={"hub_id": "bury"})
        assert moved.status_code == 200, moved.text
        assert (await http.post(path, json={"hub_id": "bury"})).status_code == 409
    async with hub(service, "bolton") as old, hub(service, "bury") as new:
        assert (await old.get(f"/cases/{case_id}")).status_code == 404
        assert (await new.get(f"/cases/{case_id}")).json()["hub_id"] == "bury"
        close = {"occurred_at": ago(0.01), "reason": "declined"}
        assert (await new.post(f"/cases/{case_id}/closure", json=close)).is_success
    async with lead(service) as http:
        assert_refused(await http.post(path, json={"hub_id": "wigan"}), "closed", "reallocate")
    moves = await _lifecycle_events(kafka_broker.bootstrap, case_id, 3)
    reallocated = next(m for m in moves if m["type"] == "gmirs.case.case-reallocated.v1")
    assert (reallocated["previous_hub_id"], reallocated["hub_id"]) == ("bolton", "bury")


# --- R&M progress through the real consumer --------------------------------------------------

SENT = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)  # the example referral's sent time


def day(n: int) -> datetime:
    return SENT + timedelta(days=n)


def _attendance(
    referral_id: uuid.UUID, kind: str, rm_id: uuid.UUID, starts: datetime, *, came: bool = True
) -> Event:
    return intake_event(
        "gmirs.intake.attendance-recorded.v1",
        referral_id,
        appointment_kind=kind,
        session_number=None if kind == "initial-assessment" else 1,
        rm_appointment_id=str(rm_id),
        appointment_starts_at=starts,
        appointment_ends_at=starts + timedelta(hours=1),
        attended="yes" if came else "no",
        session_happened=came,
        non_attendance=not came,
        recorded_at=starts + timedelta(hours=2),
        report_due_by=starts + timedelta(hours=25),
    )


async def test_rm_progress_out_of_order_twice_and_before_the_case_opens(
    service, kafka_broker
) -> None:
    received = referral("oldham")
    r = received.subject
    assert isinstance(r, uuid.UUID)
    assessment, session = uuid.uuid4(), uuid.uuid4()
    approved = intake_event(
        "gmirs.intake.action-plan-approved.v1", r, submitted_at=day(6), approved_at=day(7)
    )
    attended = _attendance(r, "session", session, day(10))
    again = _attendance(r, "session", session, day(10), came=False)  # same appointment, new event
    await publish(kafka_broker.bootstrap, approved, received)  # approval before the referral
    await publish(
        kafka_broker.bootstrap,
        _attendance(r, "initial-assessment", assessment, day(3)),
        intake_event("gmirs.intake.action-plan-submitted.v1", r, submitted_at=day(6)),
        attended,
        attended,
        again,
        intake_event(
            "gmirs.intake.referral-concluded.v1",
            r,
            concluded_at=day(40),
            delivery_state="prematurely-ended",
        ),
        intake_event(
            "gmirs.intake.referral-ended.v1",
            r,
            ended_at=day(39),
            delivery_state="prematurely-ended",
            withdrawal_code="NOT",
        ),
    )
    case_id = await case_of(service, "oldham", r)
    moves = await _lifecycle_events(kafka_broker.bootstrap, case_id, 7)
    async with hub(service, "oldham") as http:
        read = (await http.get(f"/cases/{case_id}")).json()
    lifecycle = read["lifecycle"]
    assert lifecycle["state"] == "closed"
    assert datetime.fromisoformat(lifecycle["since"]) == day(39)
    assert lifecycle["closure"]["reason"] == "disengaged"
    assert lifecycle["closure"]["settled"] is True
    reached = {k: datetime.fromisoformat(v) for k, v in lifecycle["reached"].items()}
    assert reached["received"] == SENT
    assert reached["initial-assessment-attended"] == day(3)
    assert reached["action-plan-shared"] == day(6)
    assert reached["action-plan-approved"] == day(7)
    assert reached["in-sessions"] == day(10)
    rm_ids = sorted(a["rm_appointment_id"] for a in read["appointments"])
    assert rm_ids == sorted([str(assessment), str(session)])  # the repeats added nothing
    assert {a["attendance"]["attended"] for a in read["appointments"]} == {"yes"}
    names = [m["type"].split(".")[2] for m in moves]
    closes = [m for m in moves if m["type"] == "gmirs.case.case-closed.v1"]
    assert names.count("intervention-commenced") == 1
    assert [close["closure_reason"] for close in closes] == ["ended-in-rm", "disengaged"]
    await _assert_rm_attendance_published_once_each(kafka_broker.bootstrap, case_id, read)


async def _assert_rm_attendance_published_once_each(
    bootstrap: str, case_id: str, read: dict[str, Any]
) -> None:
    """R&M's attendance is published (source refer-and-monitor, naming R&M's appointment) once
    per appointment: the repeats, like the platform's own write-back echoed, publish nothing."""
    records = await wait_for_records(
        bootstrap,
        CASES,
        lambda r: (
            dict(r.headers)["ce_type"] == b"gmirs.case.attendance-recorded.v1"
            and orjson.loads(r.value)["case_id"] == case_id
        ),
        count=2,
    )
    published = [orjson.loads(r.value) for r in records]
    for data in published:
        validate_event("gmirs.case.attendance-recorded.v1", data)
    assert {d["source"] for d in published} == {"refer-and-monitor"}
    by_rm_id = {a["rm_appointment_id"]: a["id"] for a in read["appointments"]}
    assert {d["rm_appointment_id"]: d["appointment_id"] for d in published} == by_rm_id


async def test_progress_for_an_unrouted_referral_is_held_not_lost(service, kafka_broker) -> None:
    unrouted = referral(None)
    r = unrouted.subject
    assert isinstance(r, uuid.UUID)
    assigned = intake_event("gmirs.intake.referral-assigned.v1", r)
    await publish(kafka_broker.bootstrap, unrouted, assigned, assigned)

    async def held() -> bool:
        async with service.infra.engine.connect() as conn:
            sql = "SELECT count(*) FROM pending_rm_progress WHERE referral_id = :r"
            return bool(await conn.scalar(text(sql), {"r": r}) == 1)

    await eventually(held, what="the assignment held for its case")
    routed = intake_event("gmirs.intake.referral-received.v1", r, hub_id="rochdale")
    await publish(kafka_broker.bootstrap, routed)
    case_id = await case_of(service, "rochdale", r)
    async with hub(service, "rochdale") as http:
        reached = (await http.get(f"/cases/{case_id}")).json()["lifecycle"]["reached"]
    assert datetime.fromisoformat(reached["allocated"]) <= NOW()
    assert not await held()


async def test_the_same_command_twice_at_once_makes_one_move(service, kafka_broker) -> None:
    """The second waits for the first's lock, then decides on the case as the first left it
    (not on what its own statement saw when it began): one move, one event, one 409."""
    case_id = await open_case(service, kafka_broker.bootstrap, "bury")
    contact = {"occurred_at": ago(9)}
    async with hub(service, "bury") as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    f"/cases/{case_id}/first-contact",
                    json=contact,
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                for _ in range(2)
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    async with service.infra.engine.connect() as conn:
        moves = await conn.execute(
            text("SELECT count(*) FROM outbox WHERE aggregateid = :c AND type = :t"),
            {"c": case_id, "t": "gmirs.case.first-contact-made.v1"},
        )
        assert moves.scalar_one() == 1


async def test_a_move_from_rm_moves_the_case_etag(service, kafka_broker) -> None:
    """R&M's progress changes what a case read answers, so it moves the ETag: a hub's write
    made against the earlier read is refused (412), as after any other write."""
    received = referral("bury")
    await publish(kafka_broker.bootstrap, received)
    case_id = await case_of(service, "bury", received.subject)
    async with hub(service, "bury") as http:
        read = await http.get(f"/cases/{case_id}")
        ended = intake_event(
            "gmirs.intake.referral-ended.v1",
            received.subject,
            ended_at=day(9),
            delivery_state="prematurely-ended",
            withdrawal_code="NOT",
        )
        await publish(kafka_broker.bootstrap, ended)

        async def closed() -> bool:
            now = await http.get(f"/cases/{case_id}")
            return bool(now.json()["lifecycle"]["state"] == "closed")

        await eventually(closed, what="the case closed by R&M")
        now = await http.get(f"/cases/{case_id}")
        assert now.headers["ETag"] != read.headers["ETag"]
        note = {"text": "Spoke to the practitioner.", "sensitive": False}
        stale = await http.post(
            f"/cases/{case_id}/notes",
            json=note,
            headers={"If-Match": read.headers["ETag"], "Idempotency-Key": str(uuid.uuid4())},
        )
        assert stale.status_code == 412, stale.text

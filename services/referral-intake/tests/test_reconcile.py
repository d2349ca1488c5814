"""Reconciliation against the R&M simulator (real HTTP and OAuth2, served in this loop), real
PostgreSQL and the real broker: a lost event costs a round, never a referral, and never two."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.domain.rm_envelope import parse_envelope, parse_envelope_json
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.handlers.reconcile import Reconciler
from gmirs_referral_intake.handlers.rm_events import RmEventOutcome, process_rm_event
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.leadership import sole_runner
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.testing.kafka import eventually, read_topic
from gmirs_runtime.testing.services import RunningService
from tests.fakes.rm_harness import serve_in_loop
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, create_app

TOPIC = "intake.referral-events.v1"
ROUTING = HubRouting()


class FailOnce:
    """In front of the simulator: answer 503 once to each path in `paths`, so R&M fails at
    a chosen point of a round (the simulator's own outages start at the next request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: set[str] = set()
        self.always: set[str] = set()  # answered 500 until removed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.always:
            await Response(status_code=500)(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] in self.paths:
            self.paths.discard(scope["path"])
            await Response(status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@dataclass
class Rm:
    api: RmApi
    control: httpx.AsyncClient
    gate: FailOnce

    async def refer(self, delivery: str = "withhold", **body: Any) -> dict[str, Any]:
        """A referral sent in R&M; its `referral.sent` event withheld unless told otherwise."""
        return await self.act("/_control/referrals", delivery=delivery, **body)

    async def act(self, path: str, **body: Any) -> dict[str, Any]:
        response = await self.control.post(path, json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def detail_fetches(self) -> int:
        calls = (await self.control.get("/_control/requests")).json()
        return sum(call["path"].startswith("/sent-referral/") for call in calls)


@pytest.fixture
async def rm() -> AsyncIterator[Rm]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(
        base_url=base_url,
        sns=None,
        push_url=None,
        token_ttl=600,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    gate = FailOnce(app)
    api = RmApi(
        api_url=base_url,
        auth_url=f"{base_url}/auth",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    async with serve_in_loop(gate, port), httpx.AsyncClient(base_url=base_url) as control:
        yield Rm(api, control, gate)
        await api.aclose()


@pytest.fixture
async def intake(start_service) -> AsyncIterator[RunningService]:
    async with start_service(IntakeSettings, build, MIGRATIONS) as service:
        yield service


def reconciler(rm: Rm, intake: RunningService, page_size: int = 2) -> Reconciler:
    return Reconciler(rm.api, intake.infra.unit_of_work, ROUTING, page_size, interval_seconds=0.1)


async def scalar(service: RunningService, sql: str) -> Any:
    async with service.infra.engine.connect() as conn:
        return await conn.scalar(text(sql))


async def referrals_by_rm_id(service: RunningService) -> Counter[str]:
    async with service.infra.engine.connect() as conn:
        rows = await conn.scalars(text("SELECT referral->>'rm_referral_id' FROM referrals"))
        return Counter(rows.all())


async def outbox_drained(service: RunningService) -> None:
    async def drained() -> bool:
        return bool(
            await scalar(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        )

    await eventually(drained, what="outbox drained")


async def published_once(service: RunningService, bootstrap: str) -> dict[str, dict[str, Any]]:
    """Once the relay has published every outbox row: each referral's one referral-received."""
    await outbox_drained(service)
    async with service.infra.engine.connect() as conn:
        ids = {str(i) for i in (await conn.scalars(text("SELECT id FROM referrals"))).all()}
    received = [
        r
        for r in await read_topic(bootstrap, TOPIC)
        if r.key.decode() in ids and ("ce_type", b"gmirs.intake.referral-received.v1") in r.headers
    ]
    assert Counter(r.key.decode() for r in received) == dict.fromkeys(ids, 1)
    return {r.key.decode(): orjson.loads(r.value) for r in received}


async def test_a_withheld_referral_is_picked_up_exactly_once(rm, intake, kafka_broker) -> None:
    delivered = await rm.refer(delivery="publish", pdu="Wigan")
    envelope = parse_envelope(delivered["events"][0]["envelope"])
    assert (
        await process_rm_event(
            envelope, unit_of_work=intake.infra.unit_of_work, rm=rm.api, routing=ROUTING
        )
        == RmEventOutcome.PUBLISHED
    )
    lost = [await rm.refer(pdu="Bolton"), await rm.refer(pdu="Manchester North")]
    late = await rm.refer(pdu="Oldham")
    entered_directly = await rm.refer(pdu="Salford")
    await _direct_referral_with_reference(intake, entered_directly["reference_number"])
    closed = await rm.refer(pdu="Rochdale")  # concluded in R&M before intake heard of it
    await rm.act(f"/_control/referrals/{closed['referral_id']}/conclude", delivery="withhold")

    poller = reconciler(rm, intake, page_size=2)
    assert await poller.reconcile_once() == 3  # two lost, one late: not the delivered or direct one
    round_one = poller.last_round
    assert (round_one.pages, round_one.seen, round_one.concluded) == (3, 6, 1)
    expected = {r["referral_id"] for r in [delivered, *lost, late]}
    assert set(await referrals_by_rm_id(intake)) == expected | {None}
    assert set((await referrals_by_rm_id(intake)).values()) == {1}

    fetches, outbox = await rm.detail_fetches(), await scalar(intake, "SELECT count(*) FROM outbox")
    assert await poller.reconcile_once() == 0  # a second round changes nothing...
    assert poller.last_round.complete
    assert await rm.detail_fetches() == fetches  # ...and fetches no referral it holds
    assert await scalar(intake, "SELECT count(*) FROM outbox") == outbox

    late_event = parse_envelope(late["events"][0]["envelope"])  # the lost event turns up after all
    await process_rm_event(
        late_event, unit_of_work=intake.infra.unit_of_work, rm=rm.api, routing=ROUTING
    )
    assert set((await referrals_by_rm_id(intake)).values()) == {1}
    events = await published_once(intake, kafka_broker.bootstrap)
    assert len(events) == 5
    for data in events.values():
        validate_event("gmirs.intake.referral-received.v1", data)
    by_rm = {data["rm_referral_id"]: data for data in events.values()}
    assert by_rm[lost[1]["referral_id"]]["hub_id"] == "manchester"
    assert by_rm[lost[0]["referral_id"]]["source"] == "refer-and-monitor"


async def _direct_referral_with_reference(service: RunningService, reference: str) -> None:
    """The lead provider enters the same referral directly, through the API, before R&M's event."""
    body = {
        "probation_delivery_unit": "Salford",
        "reference_number": reference,
        "person": {"crn": "X999999", "given_name": "Sam", "family_name": "Sample"},
        "service_categories": [{"name": "Social Inclusion", "complexity": "low"}],
        "referring_practitioner": {"name": "Pat", "email": "pat@probation.example"},
    }
    async with service.as_client("lead-provider", ["lead-provider"]) as http:
        response = await http.post("/referrals", json=body)
    assert response.status_code == 201, response.text


async def test_r_and_m_failing_mid_round_is_retried_next_round(rm, intake, kafka_broker) -> None:
    referred = [await rm.refer(pdu="Bury") for _ in range(3)]
    rm.gate.paths.add(f"/sent-referral/{referred[1]['referral_id']}")
    poller = reconciler(rm, intake, page_size=1)

    assert await poller.reconcile_once() == 2  # the failing referral does not stop the round
    assert (poller.last_round.failed, poller.last_round.complete) == (1, True)
    taken = {referred[0]["referral_id"], referred[2]["referral_id"]}
    assert set(await referrals_by_rm_id(intake)) == taken

    assert await poller.reconcile_once() == 1  # the next round takes it
    assert await poller.reconcile_once() == 0
    assert set(await referrals_by_rm_id(intake)) == {r["referral_id"] for r in referred}
    assert len(await published_once(intake, kafka_broker.bootstrap)) == 3


async def test_the_worker_rides_out_an_outage_and_stops_when_told(rm, intake) -> None:
    referred = [await rm.refer(pdu="Tameside") for _ in range(2)]
    failures = {"clear": True, "api_status": 502, "api_fail_requests": 3}
    assert (await rm.control.post("/_control/faults", json=failures)).status_code == 200
    stop = asyncio.Event()
    worker = asyncio.create_task(reconciler(rm, intake).run(stop))

    async def all_taken() -> bool:
        return len(await referrals_by_rm_id(intake)) == len(referred)

    await eventually(all_taken, what="referrals reconciled after the outage")
    stop.set()
    await asyncio.wait_for(worker, 10)
    assert (await referrals_by_rm_id(intake)).total() == 2
    outage = (await rm.control.get("/_control/faults")).json()["api"]
    assert outage["requests_left"] in (0, None)  # the outage was really hit


async def test_a_referral_r_and_m_cannot_give_is_quarantined_once(rm, intake) -> None:
    missing = await rm.refer(pdu="Trafford")
    fine = await rm.refer(pdu="Stockport")
    faults = {"not_found_ids": [missing["referral_id"]]}
    assert (await rm.control.post("/_control/faults", json=faults)).status_code == 200
    poller = reconciler(rm, intake)

    assert await poller.reconcile_once() == 1
    assert await poller.reconcile_once() == 0
    assert poller.last_round.quarantined == 1
    assert set(await referrals_by_rm_id(intake)) == {fine["referral_id"]}
    async with intake.infra.engine.connect() as conn:
        held = (
            await conn.execute(text("SELECT source, reason, attempts, raw FROM quarantine"))
        ).one()
    assert (held.source, held.attempts) == ("poller", 2)  # one row, seen in both rounds
    assert "404" in held.reason
    replayable = parse_envelope_json(held.raw)  # held as the referral.sent event it stands for
    assert replayable.event_type == "intervention.referral.sent"
    assert str(replayable.rm_referral_id) == missing["referral_id"]
    assert replayable.crn == missing["crn"]


async def test_one_replica_at_a_time_walks_r_and_m(rm, intake) -> None:
    """Two replicas' pollers, started together: one round walks R&M, the other is skipped."""
    referred = [await rm.refer(pdu="Oldham") for _ in range(3)]
    replicas = [
        Reconciler(
            rm.api,
            intake.infra.unit_of_work,
            ROUTING,
            1,
            interval_seconds=60,
            leadership=lambda: sole_runner(intake.infra.engine, "test:reconcile"),
        )
        for _ in range(2)
    ]
    stop = asyncio.Event()
    workers = [asyncio.create_task(replica.run(stop)) for replica in replicas]

    async def all_taken() -> bool:
        return len(await referrals_by_rm_id(intake)) == len(referred)

    await eventually(all_taken, what="referrals reconciled")
    stop.set()
    await asyncio.wait_for(asyncio.gather(*workers), 10)
    walked = sorted(replica.last_round.pages for replica in replicas)
    assert walked == [0, 3]  # one page per referral, walked by one replica only
    async with sole_runner(intake.infra.engine, "test:reconcile") as free_again:
        assert free_again


async def test_a_referral_that_keeps_failing_never_blocks_the_others(rm, intake) -> None:
    stuck = await rm.refer(pdu="Bolton")
    rm.gate.always.add(f"/sent-referral/{stuck['referral_id']}")
    poller = reconciler(rm, intake, page_size=2)
    for round_number in range(3):
        later = await rm.refer(pdu="Wigan")  # sent after the stuck one: walked after it
        await poller.reconcile_once()
        assert (poller.last_round.failed, poller.last_round.complete) == (1, True)
        assert later["referral_id"] in await referrals_by_rm_id(intake), round_number
    assert stuck["referral_id"] not in await referrals_by_rm_id(intake)

    rm.gate.always.clear()  # R&M recovers: the next round takes it
    assert await poller.reconcile_once() == 1
    assert (await referrals_by_rm_id(intake)).total() == 4


async def assigned_events(service: RunningService, bootstrap: str) -> list[dict[str, Any]]:
    """Every referral-assigned published (once the outbox is drained), oldest first."""
    await outbox_drained(service)
    return [
        orjson.loads(r.value)
        for r in await read_topic(bootstrap, TOPIC)
        if ("ce_type", b"gmirs.intake.referral-assigned.v1") in r.headers
    ]


async def test_an_assigned_referral_found_by_reconciliation_is_announced_once(
    rm, intake, kafka_broker
) -> None:
    """Assigned in R&M with both events lost: one referral-assigned, whichever comes first."""
    found_first = await rm.refer(pdu="Bolton")
    assigned = await rm.act(
        f"/_control/referrals/{found_first['referral_id']}/assign",
        delivery="withhold",
        username="sp.alex",
    )
    event_first = await rm.refer(pdu="Wigan")
    early = await rm.act(
        f"/_control/referrals/{event_first['referral_id']}/assign",
        delivery="withhold",
        username="sp.kim",
    )
    unassigned = await rm.refer(pdu="Oldham")
    uow, api = intake.infra.unit_of_work, rm.api

    outcome = await process_rm_event(  # this one's assigned event arrives before the round
        parse_envelope(early["events"][0]["envelope"]), unit_of_work=uow, rm=api, routing=ROUTING
    )
    assert outcome == RmEventOutcome.PUBLISHED
    poller = reconciler(rm, intake)
    assert await poller.reconcile_once() == 2
    assert await poller.reconcile_once() == 0
    late = parse_envelope(assigned["events"][0]["envelope"])  # the lost event turns up after all
    assert await process_rm_event(late, unit_of_work=uow, rm=api, routing=ROUTING) == (
        RmEventOutcome.DUPLICATE
    )
    assert await process_rm_event(late, unit_of_work=uow, rm=api, routing=ROUTING) == (
        RmEventOutcome.DUPLICATE
    )

    # The topic is shared by every test of the run (case's tests publish assignments too), so
    # only this test's referrals count; the unassigned one must have none.
    mine = {r["referral_id"] for r in (found_first, event_first, unassigned)}
    events = [
        e
        for e in await assigned_events(intake, kafka_broker.bootstrap)
        if e["rm_referral_id"] in mine
    ]
    for data in events:
        validate_event("gmirs.intake.referral-assigned.v1", data)
    by_rm = Counter((e["rm_referral_id"], e["assigned_to"]) for e in events)
    assert by_rm == {
        (found_first["referral_id"], "sp.alex"): 1,
        (event_first["referral_id"], "sp.kim"): 1,
    }
    assert unassigned["referral_id"] in await referrals_by_rm_id(intake)

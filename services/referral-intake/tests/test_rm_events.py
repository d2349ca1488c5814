"""R&M events through process_rm_event against the R&M simulator (a real process, real OAuth2),
real PostgreSQL and the real broker: every type once, duplicates, any order, one referral."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.domain.rm_envelope import parse_envelope
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.handlers.rm_events import (
    RmEventOutcome,
    ensure_referral_from_rm,
    process_rm_event,
)
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.testing.kafka import wait_for_records
from gmirs_runtime.testing.services import RunningService
from tests.fakes.process import RunningFake
from tests.fakes.rm_harness import rm_simulator_process
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

TOPIC = "intake.referral-events.v1"
ROUTING = HubRouting(contract_hubs={"DN671065_WIGAN_PWB": "wigan"})


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningFake]:
    with rm_simulator_process() as running:
        yield running


class Rm:
    """The simulator's scenario control, and our client of its API."""

    def __init__(self, control: httpx.AsyncClient, api: RmApi) -> None:
        self.control = control
        self.api = api

    async def act(self, path: str, **body: Any) -> dict[str, Any]:
        response = await self.control.post(path, json=body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def api_calls(self) -> int:
        return len((await self.control.get("/_control/requests")).json())


@pytest.fixture
async def rm(simulator: RunningFake) -> AsyncIterator[Rm]:
    api = RmApi(
        api_url=simulator.base_url,
        auth_url=f"{simulator.base_url}/auth",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    async with httpx.AsyncClient(base_url=simulator.base_url, timeout=10) as control:
        assert (await control.post("/_control/reset")).status_code == 200
        yield Rm(control, api)
    await api.aclose()


@pytest.fixture
async def intake(start_service) -> AsyncIterator[RunningService]:
    async with start_service(IntakeSettings, build, MIGRATIONS) as service:
        yield service


async def _process(intake: RunningService, rm: Rm, envelope: dict[str, Any]) -> RmEventOutcome:
    return await process_rm_event(
        parse_envelope(envelope), unit_of_work=intake.infra.unit_of_work, rm=rm.api, routing=ROUTING
    )


def _envelopes(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [publication["envelope"] for publication in answer["events"]]


async def _rows(intake: RunningService, sql: str, **params: Any) -> list[Any]:
    async with intake.infra.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def _outbox_types(intake: RunningService) -> list[str]:
    return [r[0] for r in await _rows(intake, "SELECT type FROM outbox ORDER BY id")]


async def test_every_event_type_becomes_one_of_our_events_on_the_topic(
    intake: RunningService, rm: Rm, kafka_broker
) -> None:
    sent = await rm.act("/_control/referrals", pdu="Wigan", complexity="HIGH")
    ref = f"/_control/referrals/{sent['referral_id']}"
    answers = [
        sent,
        await rm.act(f"{ref}/assign"),
        plan := await rm.act(f"{ref}/action-plans", number_of_sessions=2),
        await rm.act(f"/_control/action-plans/{plan['action_plan_id']}/approve"),
        await rm.act(f"{ref}/initial-assessment", attended="yes"),
        await rm.act(f"{ref}/sessions/1", attended="no", notify_pp_of_concerns=True),
        await rm.act(f"{ref}/end-of-service-report", achievement_level="PARTIALLY_ACHIEVED"),
        await rm.act(f"{ref}/end", delivery_state="PREMATURELY_ENDED"),
        await rm.act(f"{ref}/conclude", delivery_state="PREMATURELY_ENDED"),
    ]
    envelopes = [e for answer in answers for e in _envelopes(answer)]
    assert {e["eventType"] for e in envelopes} >= {"intervention.referral.sent"}
    for envelope in envelopes:
        assert await _process(intake, rm, envelope) is RmEventOutcome.PUBLISHED

    ((referral_id, hub, data),) = await _rows(intake, "SELECT id, hub_id, referral FROM referrals")
    assert hub == "wigan"
    assert data["rm_referral_id"] == sent["referral_id"]
    assert data["service_categories"][0]["complexity"] == "high"
    records = await wait_for_records(
        kafka_broker.bootstrap, TOPIC, lambda r: r.key == str(referral_id).encode(), count=11
    )
    types = [dict(r.headers)["ce_type"].decode() for r in records]
    assert len(types) == len(envelopes) == 11  # `sent` creates the referral: referral-received
    assert types[0] == "gmirs.intake.referral-received.v1"
    for record, ce_type in zip(records, types, strict=True):
        validate_event(ce_type, orjson.loads(record.value))
    missed = [
        orjson.loads(r.value) for r, t in zip(records, types, strict=True) if "attendance" in t
    ]
    assert [m["non_attendance"] for m in missed] == [False, True]
    assert sorted(set(types)) == sorted(
        {"gmirs.intake.referral-received.v1"}
        | {
            f"gmirs.intake.{n}.v1"
            for n in (
                "referral-assigned",
                "action-plan-submitted",
                "action-plan-approved",
                "attendance-recorded",
                "session-feedback-submitted",
                "end-of-service-report-submitted",
                "referral-ended",
                "referral-concluded",
            )
        }
    )


async def test_a_duplicate_changes_nothing_and_costs_no_r_and_m_call(
    intake: RunningService, rm: Rm
) -> None:
    answer = await rm.act("/_control/referrals", legacy=True)
    plan = await rm.act(f"/_control/referrals/{answer['referral_id']}/action-plans", legacy=True)
    (sent,), (submitted,) = _envelopes(answer), _envelopes(plan)
    assert await _process(intake, rm, sent) is RmEventOutcome.PUBLISHED
    assert await _process(intake, rm, submitted) is RmEventOutcome.PUBLISHED
    calls = await rm.api_calls()
    respelled = {**submitted, "occurredAt": submitted["occurredAt"].replace("Z", "+00:00")}
    for again in (sent, submitted, respelled):
        assert await _process(intake, rm, again) is RmEventOutcome.DUPLICATE
    assert await rm.api_calls() == calls
    assert await _outbox_types(intake) == [
        "gmirs.intake.referral-received.v1",
        "gmirs.intake.action-plan-submitted.v1",
    ]
    assert len(await _rows(intake, "SELECT identity FROM rm_events")) == 2


async def test_events_in_any_order_make_one_referral_with_every_event(
    intake: RunningService, rm: Rm
) -> None:
    answer = await rm.act("/_control/referrals", delivery="hold")
    ref = f"/_control/referrals/{answer['referral_id']}"
    assigned = _envelopes(await rm.act(f"{ref}/assign"))
    missed = _envelopes(await rm.act(f"{ref}/sessions/1", attended="no", order="reversed"))
    assert missed[0]["eventType"].endswith("session-feedback-submitted")  # before `missed`
    for envelope in [*assigned, *missed, *_envelopes(answer)]:  # `sent` last of all
        assert await _process(intake, rm, envelope) is RmEventOutcome.PUBLISHED
    assert len(await _rows(intake, "SELECT id FROM referrals")) == 1
    assert await _outbox_types(intake) == [
        "gmirs.intake.referral-received.v1",
        "gmirs.intake.referral-assigned.v1",
        "gmirs.intake.session-feedback-submitted.v1",
        "gmirs.intake.attendance-recorded.v1",
    ]


async def test_concurrent_first_events_create_one_referral(intake: RunningService, rm: Rm) -> None:
    answer = await rm.act("/_control/referrals")
    assigned = await rm.act(f"/_control/referrals/{answer['referral_id']}/assign")
    envelopes = _envelopes(answer) + _envelopes(assigned)
    outcomes = await asyncio.gather(*(_process(intake, rm, e) for e in envelopes * 2))
    assert sorted(o.value for o in outcomes) == ["duplicate"] * 2 + ["published"] * 2
    assert len(await _rows(intake, "SELECT id FROM referrals")) == 1
    assert sorted(await _outbox_types(intake)) == [
        "gmirs.intake.referral-assigned.v1",
        "gmirs.intake.referral-received.v1",
    ]


async def test_a_referral_entered_directly_is_the_one_r_and_m_events_attach_to(
    intake: RunningService, rm: Rm
) -> None:
    answer = await rm.act("/_control/referrals", pdu="Bolton")
    direct = {
        "probation_delivery_unit": "Bolton",
        "reference_number": answer["reference_number"],
        "person": {"crn": answer["crn"], "given_name": "Sam", "family_name": "Sample"},
        "service_categories": [{"name": "Emotional Wellbeing", "complexity": "medium"}],
        "referring_practitioner": {"name": "Pat", "email": "pat@justice.example"},
    }
    async with intake.as_client("lead", ["lead-provider"]) as http:
        created = await http.post("/referrals", json=direct)
    assert created.status_code == 201, created.text
    ref = f"/_control/referrals/{answer['referral_id']}"
    plan = _envelopes(await rm.act(f"{ref}/action-plans"))  # names the reference number
    assigned = _envelopes(await rm.act(f"{ref}/assign"))
    for envelope in [*plan, *plan, *_envelopes(answer), *assigned]:
        assert await _process(intake, rm, envelope) in set(RmEventOutcome)
    (only,) = await _rows(intake, "SELECT id FROM referrals")
    assert await _outbox_types(intake) == [
        "gmirs.intake.referral-received.v1",  # the direct one
        "gmirs.intake.action-plan-submitted.v1",
        "gmirs.intake.referral-assigned.v1",
    ]
    assert str(only[0]) == created.json()["referral_id"]
    ((key,),) = await _rows(
        intake, "SELECT aggregateid FROM outbox WHERE type = 'gmirs.intake.referral-assigned.v1'"
    )
    assert str(key) == created.json()["referral_id"]
    found, was_created = await ensure_referral_from_rm(
        uuid.UUID(answer["referral_id"]),
        unit_of_work=intake.infra.unit_of_work,
        rm=rm.api,
        routing=ROUTING,
    )
    assert (str(found), was_created) == (created.json()["referral_id"], False)

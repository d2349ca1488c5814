"""When R&M fails or its data is unusable: transient failures write nothing and pass on retry,
unusable ones say why, and an unrecognised unit is held rather than lost. Against the simulator
as a real process (real OAuth2), real PostgreSQL and the real broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.domain.rm_envelope import parse_envelope
from gmirs_referral_intake.domain.rm_errors import (
    RmNotFoundError,
    TransientFailureError,
    UnusableMessageError,
)
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.handlers.rm_events import (
    RmEventOutcome,
    ensure_referral_from_rm,
    process_rm_event,
)
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.testing.services import RunningService
from tests.fakes.process import RunningFake
from tests.fakes.rm_harness import rm_simulator_process
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

ROUTING = HubRouting(contract_hubs={"DN671065_WIGAN_PWB": "wigan"})


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningFake]:
    with rm_simulator_process() as running:
        yield running


@pytest.fixture
async def control(simulator: RunningFake) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=simulator.base_url, timeout=10) as http:
        assert (await http.post("/_control/reset")).status_code == 200
        yield http


def _api(simulator: RunningFake, **options: Any) -> RmApi:
    return RmApi(
        api_url=simulator.base_url,
        auth_url=f"{simulator.base_url}/auth",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        **options,
    )


@pytest.fixture
async def rm(simulator: RunningFake) -> AsyncIterator[RmApi]:
    api = _api(simulator)
    yield api
    await api.aclose()


@pytest.fixture
async def intake(start_service) -> AsyncIterator[RunningService]:
    async with start_service(IntakeSettings, build, MIGRATIONS) as service:
        yield service


async def _act(control: httpx.AsyncClient, path: str, **body: Any) -> dict[str, Any]:
    response = await control.post(path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _sent(control: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, Any]]:
    answer = await _act(control, "/_control/referrals", **body)
    return answer["referral_id"], answer["events"][0]["envelope"]


async def _process(intake: RunningService, rm: RmApi, envelope: dict[str, Any]) -> RmEventOutcome:
    return await process_rm_event(
        parse_envelope(envelope), unit_of_work=intake.infra.unit_of_work, rm=rm, routing=ROUTING
    )


async def _count(intake: RunningService, table: str) -> int:
    async with intake.infra.engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def _nothing_written(intake: RunningService) -> bool:
    return [await _count(intake, t) for t in ("referrals", "rm_events", "outbox")] == [0, 0, 0]


async def test_a_detail_r_and_m_does_not_have_is_unusable(
    intake: RunningService, rm: RmApi, control: httpx.AsyncClient
) -> None:
    rm_id, sent = await _sent(control)
    await _act(control, "/_control/faults", not_found_ids=[rm_id])
    with pytest.raises(RmNotFoundError) as caught:
        await _process(intake, rm, sent)
    assert "404" in caught.value.reason
    assert await _nothing_written(intake)


@pytest.mark.parametrize(
    "fault",
    [
        {"api_status": 503, "api_fail_requests": 1},
        {"api_status": 500, "api_fail_requests": 1},
        {"token_status": 503, "token_fail_requests": 1},
        {"api_delay_ms": 3000},
    ],
    ids=["api-503", "api-500", "token-endpoint-down", "timeout"],
)
async def test_transient_failures_write_nothing_and_pass_on_retry(
    intake: RunningService,
    simulator: RunningFake,
    control: httpx.AsyncClient,
    fault: dict[str, Any],
) -> None:
    _, sent = await _sent(control)
    await _act(control, "/_control/faults", **fault)
    rm = _api(simulator, timeout=1.0)
    try:
        with pytest.raises(TransientFailureError):
            await _process(intake, rm, sent)
        assert await _nothing_written(intake)
        await _act(control, "/_control/faults", clear=True)
        assert await _process(intake, rm, sent) is RmEventOutcome.PUBLISHED
    finally:
        await rm.aclose()
    assert await _count(intake, "referrals") == 1


async def test_a_token_that_expires_mid_run_is_replaced(
    intake: RunningService, rm: RmApi, control: httpx.AsyncClient
) -> None:
    rm_id, sent = await _sent(control)
    assigned = (await _act(control, f"/_control/referrals/{rm_id}/assign"))["events"][0]
    assert await _process(intake, rm, sent) is RmEventOutcome.PUBLISHED
    stats = (await control.get("/_control/stats")).json()
    await _act(control, "/_control/expire-tokens")
    assert await _process(intake, rm, assigned["envelope"]) is RmEventOutcome.PUBLISHED
    assert (await control.get("/_control/stats")).json()["tokens_issued"] == stats[
        "tokens_issued"
    ] + 1
    since = (await control.get("/_control/requests")).json()[stats["api_requests"] :]
    detail = (
        f"/sent-referral/{rm_id}"  # refused with the expired token, then fetched with a new one
    )
    assert [(r["path"], r["status"]) for r in since[:2]] == [(detail, 401), (detail, 200)]


async def test_a_detail_url_outside_r_and_m_is_never_fetched(
    intake: RunningService, rm: RmApi, control: httpx.AsyncClient
) -> None:
    _, sent = await _sent(control)
    foreign = {**sent, "detailUrl": "https://elsewhere.example/sent-referral/" + str(uuid.uuid4())}
    with pytest.raises(UnusableMessageError, match="not under the configured R&M API"):
        await _process(intake, rm, foreign)
    assert (await control.get("/_control/requests")).json() == []
    assert await _nothing_written(intake)


async def test_an_unrecognised_unit_is_held_whatever_the_contract(
    intake: RunningService, rm: RmApi, control: httpx.AsyncClient
) -> None:
    _, sent = await _sent(control, pdu="Bury and Rochdale", contract_reference="DN671065_WIGAN_PWB")
    assert await _process(intake, rm, sent) is RmEventOutcome.PUBLISHED
    async with intake.infra.engine.connect() as conn:
        row = (await conn.execute(text("SELECT hub_id, referral FROM referrals"))).one()
    assert row.hub_id is None
    assert row.referral["probation_delivery_unit"] is None
    assert row.referral["probation_delivery_unit_text"] == "Bury and Rochdale"
    _, routed = await _sent(
        control, pdu="Manchester South", contract_reference="DN671065_WIGAN_PWB"
    )
    await _process(intake, rm, routed)
    async with intake.infra.engine.connect() as conn:
        hubs = (await conn.execute(text("SELECT hub_id FROM referrals"))).scalars().all()
    assert sorted(hubs, key=str) == [None, "wigan"]  # the contract routes a known unit


async def test_an_unusable_event_keeps_the_referral_it_revealed_but_not_itself(
    intake: RunningService, rm: RmApi, control: httpx.AsyncClient
) -> None:
    rm_id, _ = await _sent(control)
    concluded = await _act(control, f"/_control/referrals/{rm_id}/conclude")
    envelope = concluded["events"][0]["envelope"]
    broken = {**envelope, "additionalInformation": {"referralId": rm_id}}
    with pytest.raises(UnusableMessageError, match="deliveryState: missing"):
        await _process(intake, rm, broken)
    assert [await _count(intake, t) for t in ("referrals", "rm_events", "outbox")] == [1, 0, 1]
    assert await _process(intake, rm, envelope) is RmEventOutcome.PUBLISHED  # the real one
    assert await _count(intake, "outbox") == 2


async def test_reconciliation_creates_a_missing_referral_once(
    intake: RunningService, rm: RmApi, control: httpx.AsyncClient
) -> None:
    rm_id, sent = await _sent(control, delivery="withhold")
    first = await ensure_referral_from_rm(
        uuid.UUID(rm_id), unit_of_work=intake.infra.unit_of_work, rm=rm, routing=ROUTING
    )
    calls = len((await control.get("/_control/requests")).json())
    again = await ensure_referral_from_rm(
        uuid.UUID(rm_id), unit_of_work=intake.infra.unit_of_work, rm=rm, routing=ROUTING
    )
    assert first[1] is True
    assert again == (first[0], False)
    assert len((await control.get("/_control/requests")).json()) == calls  # known: no R&M call
    assert await _process(intake, rm, sent) is RmEventOutcome.PUBLISHED  # the late event
    assert [await _count(intake, t) for t in ("referrals", "outbox")] == [1, 1]

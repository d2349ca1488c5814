"""R&M events pushed over HTTPS: signed SNS deliveries from the simulator, and bare envelopes.

Intake runs in-process on real PostgreSQL, the real broker and a real token issuer; the R&M
simulator runs as its own process, signs its pushes with its own certificate and serves the API
intake fetches details from.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from gmirs_referral_intake.domain.retry import Backoff
from gmirs_runtime.testing.kafka import Record, eventually, read_topic, wait_for_records
from tests.fakes.rm_simulator import DEFAULT_PUSH_TOPIC_ARN

TOPIC = "intake.referral-events.v1"
RECEIVED = "gmirs.intake.referral-received.v1"


@pytest.fixture
async def pushed(rm_env: Any) -> AsyncIterator[Any]:
    """Intake, and the simulator pushing signed SNS deliveries to its /rm/sns."""
    async with rm_env(push=True, sns_topic_arns=[DEFAULT_PUSH_TOPIC_ARN]) as env:
        yield env


def _received_for(rm_id: str) -> Any:
    def match(record: Record) -> bool:
        headers = dict(record.headers)
        if headers.get("ce_type") != RECEIVED.encode():
            return False
        return bool(orjson.loads(record.value).get("rm_referral_id") == rm_id)

    return match


async def _received(env: Any, rm_id: str) -> list[Record]:
    return [r for r in await read_topic(env.bootstrap, TOPIC) if _received_for(rm_id)(r)]


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_push_is_processed_once_even_when_delivered_twice(
    pushed: Any, version: str
) -> None:
    await pushed.control.faults(signature_version=version, duplicate_next=1)
    created = await pushed.control.create_referral(channels=["push"])
    rm_id = created["referral_id"]
    assert [e["push_status"] for e in created["events"]] == [200, 200]  # the same event twice

    (record,) = await wait_for_records(pushed.bootstrap, TOPIC, _received_for(rm_id))
    assert orjson.loads(record.value)["person"]["crn"] == created["crn"]
    assert await pushed.referrals_for(rm_id) == 1
    assert len(await _received(pushed, rm_id)) == 1


async def test_a_tampered_push_is_refused_and_nothing_of_it_is_kept(pushed: Any) -> None:
    await pushed.control.faults(tamper_next_pushes=1)
    created = await pushed.control.create_referral(channels=["push"])
    rm_id = created["referral_id"]
    assert [e["push_status"] for e in created["events"]] == [403]

    assert await pushed.referrals_for(rm_id) == 0
    assert await pushed.scalar("SELECT count(*) FROM quarantine") == 0
    assert await pushed.scalar("SELECT count(*) FROM pending_messages") == 0
    assert not [r for r in await pushed.control.requests() if rm_id in str(r)]  # R&M not called
    assert await _received(pushed, rm_id) == []


async def test_a_subscription_confirmation_is_verified_and_confirmed(pushed: Any) -> None:
    offered = await pushed.control.post("/push/subscription-confirmation")
    assert offered["status"] == 200
    async with pushed.intake.client(None) as http:
        stats = (await http.get(f"{pushed.control.base_url}/_control/stats")).json()
    assert stats["subscription_confirmed"] is True


async def test_while_r_and_m_is_down_a_push_is_pending_then_retried(pushed: Any) -> None:
    await pushed.control.faults(api_fail_requests=100_000, api_status=503)
    created = await pushed.control.create_referral(channels=["push"])
    rm_id = created["referral_id"]
    assert [e["push_status"] for e in created["events"]] == [202]

    async with pushed.intake.as_client("ops", ["operator"]) as http:
        pending = (await http.get("/operator/pending")).json()["items"]
    assert [(p["source"], p["key"].split(":")[0]) for p in pending] == [("sns-http", "event")]
    assert "503" in pending[0]["reason"]
    assert await pushed.referrals_for(rm_id) == 0

    await pushed.control.faults(clear=True)
    await wait_for_records(pushed.bootstrap, TOPIC, _received_for(rm_id))

    async def drained() -> bool:
        return bool(await pushed.scalar("SELECT count(*) FROM pending_messages") == 0)

    await eventually(drained, what="the pending message is cleared once processed")
    assert await pushed.referrals_for(rm_id) == 1


async def test_a_push_whose_detail_is_gone_is_quarantined_and_not_redelivered(
    pushed: Any,
) -> None:
    withheld = await pushed.control.create_referral(delivery="withhold")
    envelope = _elsewhere(withheld["events"][0]["envelope"])
    sent = await pushed.control.post("/publish-raw", {"message": envelope, "channels": ["push"]})
    assert [e["push_status"] for e in sent["events"]] == [200]  # SNS must not retry it

    reason = await pushed.scalar("SELECT reason FROM quarantine WHERE source = 'sns-http'")
    assert "404" in reason
    assert await pushed.scalar("SELECT count(*) FROM referrals") == 0


async def test_bare_envelopes_are_processed_once_for_operators_and_the_lead_provider(
    pushed: Any,
) -> None:
    first = await pushed.control.create_referral(delivery="withhold")
    second = await pushed.control.create_referral(delivery="withhold")
    envelope, other = first["events"][0]["envelope"], second["events"][0]["envelope"]

    async with pushed.intake.client(None) as anonymous:
        assert (await anonymous.post("/rm/events", json=envelope)).status_code == 401
    async with pushed.intake.as_client("hub", ["hub"], {"hub_id": "bolton"}) as hub:
        assert (await hub.post("/rm/events", json=envelope)).status_code == 403
    async with pushed.intake.as_client("ops", ["operator"]) as ops:
        published = await ops.post("/rm/events", json=envelope)
        again = await ops.post("/rm/events", json=envelope)
    async with pushed.intake.as_client("lead", ["lead-provider"]) as lead:
        by_lead = await lead.post("/rm/events", json=other)

    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert again.json()["event_identity"] == published.json()["event_identity"]
    assert by_lead.json()["status"] == "published"
    assert await pushed.referrals_for(first["referral_id"]) == 1
    assert await pushed.referrals_for(second["referral_id"]) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"eventType": "intervention.unknown.thing", "version": 1}', "eventType"),
        (b'{"eventType": "intervention.referral.sent", "detailUrl": "x"}', "detailUrl"),
    ],
)
async def test_an_unusable_bare_envelope_is_quarantined_and_refused(
    pushed: Any, body: bytes, reason: str
) -> None:
    async with pushed.intake.as_client("ops", ["operator"]) as ops:
        response = await ops.post(
            "/rm/events", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    problem = response.json()
    assert reason in problem["reason"]
    held = await pushed.scalar(
        "SELECT source FROM quarantine WHERE id = :id", id=uuid.UUID(problem["quarantine_id"])
    )
    assert held == "bare"


async def test_oversized_and_non_sns_bodies_are_refused_unread(pushed: Any) -> None:
    async with pushed.intake.client(None) as http:
        too_big = await http.post("/rm/sns", content=b"x" * (256 * 1024 + 1))
        not_sns = await http.post("/rm/sns", json={"Type": "Notification"})
    assert too_big.status_code == 413
    assert not_sns.status_code == 400
    assert await pushed.scalar("SELECT count(*) FROM quarantine") == 0


def test_backoff_doubles_up_to_its_maximum_with_bounded_jitter() -> None:
    lowest, highest = Backoff(1.0, 60.0, jitter=lambda: 0.0), Backoff(1.0, 60.0, jitter=lambda: 1.0)
    assert [highest.delay(n) for n in (1, 2, 3, 4, 7, 100)] == [1, 2, 4, 8, 60, 60]
    assert [lowest.delay(n) for n in (1, 2, 7)] == [0.5, 1, 30]
    with pytest.raises(ValueError, match="initial"):
        Backoff(0, 1)


def _elsewhere(envelope: dict[str, Any]) -> dict[str, Any]:
    """The same event for an R&M referral that does not exist (R&M answers 404)."""
    missing = str(uuid.uuid4())
    old = envelope["additionalInformation"]["referralId"]
    return {
        **envelope,
        "detailUrl": envelope["detailUrl"].replace(old, missing),
        "additionalInformation": {**envelope["additionalInformation"], "referralId": missing},
    }


@pytest.mark.usefixtures("generic_plans")
async def test_unusable_pushes_are_quarantined_many_times_on_one_connection(rm_env: Any) -> None:
    """SNS pushes on one database connection whose statements are planned generically."""
    async with rm_env(
        push=True, sns_topic_arns=[DEFAULT_PUSH_TOPIC_ARN], database_pool_size=1
    ) as env:
        statuses = []
        for n in range(12):
            body = {"message": {"eventType": "nonsense", "n": n}, "channels": ["push"]}
            sent = await env.control.post("/publish-raw", body)
            statuses += [e["push_status"] for e in sent["events"]]
        held = await env.scalar("SELECT count(*) FROM quarantine WHERE source = 'sns-http'")
    assert statuses == [200] * 12  # quarantined: SNS must not retry
    assert held == 12  # each push is its own SNS message (its own MessageId)

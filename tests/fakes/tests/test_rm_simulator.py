"""The R&M simulator as a separate process: HMPPS Auth tokens, the API behind them, events published
to SNS (moto) and pushed as signed SNS HTTP messages, and the failures it can be told to produce."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gmirs_runtime.testing.kafka import eventually
from gmirs_stack.aws import AwsResources
from tests.fakes.process import RunningFake
from tests.fakes.rm_harness import (
    SnsReceiver,
    notification,
    receive_all,
    rm_simulator_process,
    sns_receiver,
)
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.fakes.rm_sns import verify

with warnings.catch_warnings():
    # authlib warns at import that it runs on httpx rather than httpx2 (as intake's RmApi notes).
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

TOKEN_TTL_S = 300


@dataclass
class Running:
    fake: RunningFake
    receiver: SnsReceiver
    http: httpx.AsyncClient

    async def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def token(self) -> str:
        response = await self.http.post(
            "/auth/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def simulator(moto_aws: AwsResources) -> AsyncIterator[Running]:
    async with sns_receiver() as receiver:
        with rm_simulator_process(
            aws=moto_aws, push_url=receiver.url, token_ttl=TOKEN_TTL_S
        ) as fake:
            async with httpx.AsyncClient(base_url=fake.base_url, timeout=15.0) as http:
                yield Running(fake, receiver, http)


@pytest_asyncio.fixture(loop_scope="session")
async def rm(simulator: Running, aws: AwsResources) -> Running:
    """The running simulator, reset, with an empty queue and an empty receiver."""
    await simulator.control("reset")
    simulator.receiver.received.clear()
    simulator.receiver.headers.clear()
    return simulator


async def test_authlib_client_credentials_reach_the_api(rm: Running) -> None:
    created = await rm.control("referrals", {"pdu": "Wigan"})
    client = AsyncOAuth2Client(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        token_endpoint=f"{rm.fake.base_url}/auth/oauth/token",
        grant_type="client_credentials",
    )
    async with client:
        token = await client.fetch_token()
        response = await client.get(f"{rm.fake.base_url}/sent-referral/{created['referral_id']}")

    assert token["expires_in"] == TOKEN_TTL_S
    assert response.status_code == 200
    body = response.json()
    assert body["referenceNumber"] == created["reference_number"]
    assert body["referral"]["dynamicFrameworkContractReference"] == "DN671065_WIGAN_PWB"
    assert body["referral"]["ppPdu"] == body["referral"]["ndeliusPDU"] == "Wigan"


async def test_tokens_expired_mid_run_are_refused_until_a_new_one(rm: Running) -> None:
    created = await rm.control("referrals")
    path = f"/sent-referral/{created['referral_id']}"
    old = await rm.token()
    assert (await rm.http.get(path, headers={"Authorization": f"Bearer {old}"})).status_code == 200

    await rm.control("expire-tokens")

    refused = await rm.http.get(path, headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    fresh = await rm.token()
    assert (
        await rm.http.get(path, headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 200


async def test_token_endpoint_down_then_back(rm: Running) -> None:
    await rm.control("faults", {"token_fail_requests": 2, "token_status": 503})
    form = {"grant_type": "client_credentials"}
    auth = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)

    statuses = [
        (await rm.http.post("/auth/oauth/token", data=form, auth=auth)).status_code for _ in "123"
    ]

    assert statuses == [503, 503, 200]
    wrong = await rm.http.post("/auth/oauth/token", data=form, auth=(DEFAULT_CLIENT_ID, "nope"))
    assert wrong.status_code == 401


async def test_events_reach_the_queue_as_sns_notifications(rm: Running, aws: AwsResources) -> None:
    created = await rm.control("referrals")
    await rm.control(f"referrals/{created['referral_id']}/assign", {"username": "caseworker.a"})

    messages = await receive_all(aws, aws.queue_url)

    published = [e["envelope"] for e in (await rm.http.get("/_control/published")).json()]
    received = [json.loads(notification(m)["Message"]) for m in messages]
    assert sorted(received, key=lambda e: e["eventType"]) == sorted(
        published, key=lambda e: e["eventType"]
    )
    for message in messages:
        body = notification(message)
        attribute = body["MessageAttributes"]["eventType"]
        assert attribute == {"Type": "String", "Value": json.loads(body["Message"])["eventType"]}
    assert {e["eventType"] for e in received} == {
        "intervention.referral.sent",
        "intervention.referral.assigned",
    }


async def test_raw_messages_pass_the_filter_only_with_an_rm_type(
    rm: Running, aws: AwsResources
) -> None:
    await rm.control(
        "publish-raw", {"message": "{not json", "event_type": "intervention.referral.sent"}
    )
    await rm.control(
        "publish-raw", {"message": {"eventType": "x"}, "event_type": "probation-case.x"}
    )
    await rm.control("publish-raw", {"message": "no attribute"})

    messages = await receive_all(aws, aws.queue_url)

    assert [notification(m)["Message"] for m in messages] == ["{not json"]


async def test_pushed_notifications_verify_against_the_served_certificate(rm: Running) -> None:
    await rm.control("referrals")
    await rm.control("faults", {"signature_version": "1"})
    await rm.control("referrals")
    await rm.control("faults", {"tamper_next_pushes": 1})
    await rm.control("referrals")

    first, second, tampered = rm.receiver.received
    certificate = (await rm.http.get(first["SigningCertURL"])).content
    assert first["SigningCertURL"] == f"{rm.fake.base_url}/_sns/certificate.pem"
    assert (first["SignatureVersion"], second["SignatureVersion"]) == ("2", "1")
    assert verify(first, certificate)
    assert verify(second, certificate)
    assert not verify(tampered, certificate)
    assert json.loads(first["Message"])["eventType"] == "intervention.referral.sent"
    headers = rm.receiver.headers[0]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == first["MessageId"]


async def test_subscription_confirmation_is_signed_and_confirmable(rm: Running) -> None:
    offer = await rm.control("push/subscription-confirmation")

    [confirmation] = rm.receiver.received
    certificate = (await rm.http.get("/_sns/certificate.pem")).content
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert verify(confirmation, certificate)
    assert (await rm.http.get(confirmation["SubscribeURL"])).status_code == 200
    assert offer["token"] == confirmation["Token"]
    assert (await rm.http.get("/_control/stats")).json()["subscription_confirmed"] is True


async def test_withheld_referral_is_only_in_the_summaries(rm: Running, aws: AwsResources) -> None:
    created = await rm.control("referrals", {"delivery": "withhold"})
    token = await rm.token()

    page = await rm.http.get(
        "/sent-referrals/summaries",
        params={"page": 1},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert [row["id"] for row in page.json()["content"]] == [created["referral_id"]]
    assert await receive_all(aws, aws.queue_url, wait_s=0) == []
    assert rm.receiver.received == []


async def test_held_events_are_released_in_reverse(rm: Running, aws: AwsResources) -> None:
    created = await rm.control("referrals", {"delivery": "hold"})
    await rm.control(f"referrals/{created['referral_id']}/assign", {"delivery": "hold"})
    assert await receive_all(aws, aws.queue_url, wait_s=0) == []

    released = await rm.control("release", {"order": "reversed"})

    assert [e["event_type"] for e in released["events"]] == [
        "intervention.referral.assigned",
        "intervention.referral.sent",
    ]
    pushed = [json.loads(m["Message"])["eventType"] for m in rm.receiver.received]
    assert pushed == ["intervention.referral.assigned", "intervention.referral.sent"]
    assert len(await receive_all(aws, aws.queue_url)) == 2


async def test_duplicate_publication_is_two_sns_messages(rm: Running, aws: AwsResources) -> None:
    await rm.control("faults", {"duplicate_next": 1})
    await rm.control("referrals", {"channels": ["sns"]})

    messages = await receive_all(aws, aws.queue_url)

    bodies = [notification(m) for m in messages]
    assert len(bodies) == 2
    assert bodies[0]["Message"] == bodies[1]["Message"]
    assert bodies[0]["MessageId"] != bodies[1]["MessageId"]
    assert rm.receiver.received == []


async def test_api_down_then_back_and_not_found_on_demand(rm: Running) -> None:
    created = await rm.control("referrals")
    other = await rm.control("referrals")
    headers = {"Authorization": f"Bearer {await rm.token()}"}
    await rm.control("faults", {"api_fail_seconds": 600, "api_status": 503})

    down = await rm.http.get(f"/sent-referral/{created['referral_id']}", headers=headers)
    await rm.control("faults", {"clear": True, "not_found_ids": [other["referral_id"]]})
    back = await rm.http.get(f"/sent-referral/{created['referral_id']}", headers=headers)
    missing = await rm.http.get(f"/sent-referral/{other['referral_id']}", headers=headers)

    assert (down.status_code, back.status_code, missing.status_code) == (503, 200, 404)
    assert missing.json()["status"] == 404
    statuses = [r["status"] for r in (await rm.http.get("/_control/requests")).json()]
    assert statuses == [503, 200, 404]


async def test_a_request_its_client_gave_up_on_is_never_logged_after_a_reset(rm: Running) -> None:
    created = await rm.control("referrals")
    headers = {"Authorization": f"Bearer {await rm.token()}"}
    await rm.control("faults", {"api_delay_ms": 1500})
    with pytest.raises(httpx.TimeoutException):  # the simulator goes on answering it
        await rm.http.get(f"/sent-referral/{created['referral_id']}", headers=headers, timeout=0.3)

    await rm.control("reset")

    async def answered() -> bool:
        stats = (await rm.http.get("/_control/stats")).json()
        return bool(stats["api_in_flight"] == 0)

    await eventually(answered, what="the abandoned request answered")
    assert (await rm.http.get("/_control/requests")).json() == []


@pytest.mark.parametrize("body", [{"bogus": 1}, {"crn": "not-a-crn"}, {"service_categories": []}])
async def test_bad_control_requests_are_refused(rm: Running, body: dict[str, Any]) -> None:
    response = await rm.http.post("/_control/referrals", json=body)

    assert response.status_code == 422
    assert (await rm.http.get("/_control/published")).json() == []


async def test_a_client_secret_beginning_with_a_dash_is_taken_as_the_secret() -> None:
    """Generated secrets (`secrets.token_urlsafe`) begin with "-" one time in 64: the
    simulator must still start and accept that secret, not read it as an option."""
    secret = "-leading-dash-secret"
    with rm_simulator_process(client_secret=secret) as fake:
        async with httpx.AsyncClient(base_url=fake.base_url, timeout=15.0) as http:
            response = await http.post(
                "/auth/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(DEFAULT_CLIENT_ID, secret),
            )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]

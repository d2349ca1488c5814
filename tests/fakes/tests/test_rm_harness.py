"""The harness's in-loop simulator is the same simulator on real HTTP: tokens, API and SNS publishing."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from gmirs_stack.aws import AwsResources
from tests.fakes.rm_harness import notification, receive_all, rm_simulator_in_loop


async def test_in_loop_simulator_serves_http_and_publishes_to_moto(aws: AwsResources) -> None:
    async with (
        rm_simulator_in_loop(aws=aws, client_id="intake", client_secret="secret") as sim,
        httpx.AsyncClient(base_url=sim.base_url, timeout=10.0) as http,
    ):
        created = (await http.post("/_control/referrals", json={"pdu": "Oldham"})).json()
        token = await http.post(
            f"{sim.auth_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("intake", "secret"),
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        detail = await http.get(created["events"][0]["envelope"]["detailUrl"], headers=headers)

    [message] = await receive_all(aws, aws.queue_url)
    envelope = json.loads(notification(message)["Message"])
    assert envelope["detailUrl"] == f"{sim.base_url}/sent-referral/{created['referral_id']}"
    assert created["events"][0]["sns_message_id"] == notification(message)["MessageId"]
    assert detail.status_code == 200
    assert detail.json()["referral"]["ppPdu"] == "Oldham"


async def test_intake_rm_api_survives_tokens_expiring_mid_run() -> None:
    """Intake's own R&M client against the simulator: the token dies, one refetch, no failure."""
    rm_api = pytest.importorskip("gmirs_referral_intake.adapters.rm_api")
    async with rm_simulator_in_loop(client_id="intake", client_secret="secret") as sim:
        async with httpx.AsyncClient(base_url=sim.base_url) as http:
            created = (await http.post("/_control/referrals")).json()
        api = rm_api.RmApi(
            api_url=sim.base_url, auth_url=sim.auth_url, client_id="intake", client_secret="secret"
        )
        try:
            first = await api.sent_referral(uuid.UUID(created["referral_id"]))
            sim.auth.expire_all()
            second = await api.sent_referral(uuid.UUID(created["referral_id"]))
            page = await api.summaries(1, 10)
        finally:
            await api.aclose()

    assert first == second
    assert [row["id"] for row in page["content"]] == [created["referral_id"]]
    assert sim.auth.tokens_issued == 2
    assert [r.status for r in sim.endpoints.requests] == [200, 401, 200, 200]

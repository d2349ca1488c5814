"""The fake probation system verifies, dedupes and misbehaves exactly as its users are told."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.fakes.probation_system import WEBHOOK_PATH, ProbationSystem, create_app
from tests.fakes.process import RunningFake, run_fake

MODULE = "tests.fakes.probation_system"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


SECRET_OLD = new_secret()
SECRET_NEW = new_secret()


def signed(
    body: dict[str, Any],
    *secrets: str,
    webhook_id: str = "msg_1",
    at: datetime | None = None,
) -> tuple[str, dict[str, str]]:
    """The raw body and Standard Webhooks headers, signed with every secret given."""
    raw = json.dumps(body)
    timestamp = at or datetime.now(UTC)
    signatures = " ".join(Webhook(secret).sign(webhook_id, timestamp, raw) for secret in secrets)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
    return raw, headers


def event() -> dict[str, Any]:
    return {"type": "session-appointment.missed", "timestamp": "2026-01-05T10:00:00Z", "data": {}}


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningFake]:
    with run_fake(MODULE, "--secret", SECRET_OLD, "--secret", SECRET_NEW) as running:
        yield running


@pytest.fixture
def client(fake: RunningFake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, timeout=10.0) as http:
        http.post("/_control/reset").raise_for_status()
        yield http


def deliveries(client: httpx.Client) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = client.get("/_control/deliveries").json()
    return result


def test_signed_delivery_is_acknowledged_and_recorded(client: httpx.Client) -> None:
    raw, headers = signed(event(), SECRET_OLD)
    response = client.post(
        WEBHOOK_PATH, content=raw, headers={**headers, "traceparent": TRACEPARENT}
    )

    assert response.status_code == 200
    [delivery] = deliveries(client)
    assert delivery["webhook_id"] == "msg_1"
    assert delivery["body"] == event()
    assert delivery["traceparent"] == TRACEPARENT
    assert delivery["verified"] is True
    assert delivery["attempt"] == 1
    assert delivery["accepted"] is True
    assert delivery["duplicate"] is False
    assert delivery["secret_index"] == 0


def test_tampered_body_is_refused_and_not_recorded(client: httpx.Client) -> None:
    raw, headers = signed(event(), SECRET_OLD)
    tampered = raw.replace("missed", "attended")

    response = client.post(WEBHOOK_PATH, content=tampered, headers=headers)

    assert response.status_code == 401
    assert deliveries(client) == []
    [rejection] = client.get("/_control/rejections").json()
    assert rejection["status"] == 401
    assert "body" not in rejection


def test_stale_timestamp_is_refused(client: httpx.Client) -> None:
    raw, headers = signed(event(), SECRET_OLD, at=datetime.now(UTC) - timedelta(minutes=10))

    assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 401
    assert deliveries(client) == []


@pytest.mark.parametrize("dropped", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_a_bad_request(client: httpx.Client, dropped: str) -> None:
    raw, headers = signed(event(), SECRET_OLD)
    del headers[dropped]

    assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 400
    assert deliveries(client) == []


def test_redelivery_is_acknowledged_but_marked_duplicate(client: httpx.Client) -> None:
    for _ in range(2):
        raw, headers = signed(event(), SECRET_OLD, webhook_id="msg_dup")
        assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 200

    first, second = deliveries(client)
    assert (first["attempt"], first["duplicate"]) == (1, False)
    assert (second["attempt"], second["duplicate"]) == (2, True)


def test_scripted_failure_then_success(client: httpx.Client) -> None:
    scripted = client.post("/_control/behaviour", json={"fail_next": 1, "status": 500})
    assert scripted.json()["status_sequence"] == [500]
    raw, headers = signed(event(), SECRET_OLD)

    statuses = [client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code for _ in "12"]

    assert statuses == [500, 200]
    failed, succeeded = deliveries(client)
    assert (failed["status"], failed["accepted"]) == (500, False)
    # A failed attempt was never acknowledged, so the retry is not a duplicate.
    assert (succeeded["attempt"], succeeded["duplicate"]) == (2, False)


def test_rotation_accepts_either_secret_and_no_other(client: httpx.Client) -> None:
    raw, headers = signed(event(), SECRET_NEW, webhook_id="msg_new")
    assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 200
    raw, headers = signed(event(), new_secret(), SECRET_OLD, webhook_id="msg_both")
    assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 200
    raw, headers = signed(event(), new_secret(), webhook_id="msg_stranger")
    assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 401

    recorded = {d["webhook_id"]: d["secret_index"] for d in deliveries(client)}
    assert recorded == {"msg_new": 1, "msg_both": 0}


def test_replaced_secrets_take_effect(client: httpx.Client) -> None:
    replacement = new_secret()
    client.post("/_control/secrets", json={"secrets": [replacement]}).raise_for_status()
    try:
        raw, headers = signed(event(), SECRET_OLD)
        assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 401
        raw, headers = signed(event(), replacement)
        assert client.post(WEBHOOK_PATH, content=raw, headers=headers).status_code == 200
    finally:
        secrets = {"secrets": [SECRET_OLD, SECRET_NEW]}
        client.post("/_control/secrets", json=secrets).raise_for_status()


def test_slow_acknowledgement_is_still_recorded(client: httpx.Client) -> None:
    client.post("/_control/behaviour", json={"delay_ms": 3000}).raise_for_status()
    raw, headers = signed(event(), SECRET_OLD)

    with pytest.raises(httpx.ReadTimeout):
        client.post(WEBHOOK_PATH, content=raw, headers=headers, timeout=0.5)

    # The fake records before it stalls; a sender that gave up will redeliver a duplicate.
    [delivery] = deliveries(client)
    assert delivery["accepted"] is True


def test_unknown_behaviour_field_is_refused(client: httpx.Client) -> None:
    response = client.post("/_control/behaviour", json={"fail_nxt": 2})

    assert response.status_code == 422


def test_command_line_script_with_retry_after() -> None:
    args = ("--secret", SECRET_OLD, "--fail-first", "1", "--status-sequence", "503,200")
    with (
        run_fake(MODULE, *args, "--retry-after-s", "7") as running,
        httpx.Client(base_url=running.base_url) as http,
    ):
        raw, headers = signed(event(), SECRET_OLD)
        responses = [http.post(WEBHOOK_PATH, content=raw, headers=headers) for _ in "1234"]

    assert [r.status_code for r in responses] == [500, 503, 200, 200]
    assert responses[1].headers["retry-after"] == "7"


async def test_in_process_app_keeps_personal_data_out_of_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app([SECRET_OLD])
    system: ProbationSystem = app.state.probation
    body = {"type": "referral.created", "data": {"name": "Jane Example", "crn": "X123456"}}
    raw, headers = signed(body, SECRET_OLD)
    transport = httpx.ASGITransport(app=app)

    with caplog.at_level(logging.DEBUG):
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as http:
            response = await http.post(WEBHOOK_PATH, content=raw, headers=headers)

    assert response.status_code == 200
    assert [d.body for d in system.deliveries] == [body]
    assert "msg_1" in caplog.text
    assert "Jane Example" not in caplog.text
    assert "X123456" not in caplog.text

"""The subscriptions API: who may manage endpoints, whose endpoints they see, and SSRF refusals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gmirs_notify.bootstrap import Wiring
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.testing.issuer import TestIssuer

from .harness import HUB, OPERATOR, PROBATION_A, PROBATION_B, Notify, api_only

PUBLIC_URL = "https://8.8.8.8/webhooks/gmirs"


@pytest.fixture
async def production_api(
    settings: NotifySettings, wiring: Wiring, token_issuer: TestIssuer
) -> AsyncIterator[Notify]:
    """The API with production's SSRF policy (the rest of the settings stay local)."""
    strict = Wiring(
        schedule=wiring.schedule,
        target_policy=TargetPolicy.production(),
        case_topic=wiring.case_topic,
        consumer_group=wiring.consumer_group,
    )
    async with api_only(settings, strict, token_issuer) as running:
        yield running


async def test_create_returns_the_secret_once(api: Notify) -> None:
    response = await api.call(
        PROBATION_A,
        "POST",
        "/subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "description": "Bolton PP system"},
    )
    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["non-attendance.recorded"]
    assert created["owner_client_id"] == PROBATION_A
    assert response.headers["location"] == f"/subscriptions/{created['id']}"

    fetched = await api.call(PROBATION_A, "GET", f"/subscriptions/{created['id']}")
    assert fetched.status_code == 200
    assert "secret" not in fetched.json()
    listed = await api.call(PROBATION_A, "GET", "/subscriptions")
    assert "secret" not in listed.json()["items"][0]
    [audit] = await api.rows("SELECT actor, action, resource_id FROM audit_log")
    assert audit == {
        "actor": PROBATION_A,
        "action": "subscription.created",
        "resource_id": created["id"],
    }


async def test_a_probation_system_sees_only_its_own_subscriptions(api: Notify) -> None:
    mine = await api.subscribe(PROBATION_A, "http://127.0.0.1:9/a")
    theirs = await api.subscribe(PROBATION_B, "http://127.0.0.1:9/b")

    listed = await api.call(PROBATION_A, "GET", "/subscriptions")
    assert [s["id"] for s in listed.json()["items"]] == [mine["id"]]
    for method, suffix in (
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("POST", "/retire-previous-secret"),
    ):
        response = await api.call(PROBATION_A, method, f"/subscriptions/{theirs['id']}{suffix}")
        assert response.status_code == 404, (method, suffix)
        assert response.headers["content-type"] == "application/problem+json"
    still = await api.call(PROBATION_B, "GET", f"/subscriptions/{theirs['id']}")
    assert still.json()["active"] is True

    everything = await api.call(OPERATOR, "GET", "/subscriptions")
    assert {s["id"] for s in everything.json()["items"]} == {mine["id"], theirs["id"]}


async def test_other_roles_are_forbidden(api: Notify) -> None:
    for method, path in (("GET", "/subscriptions"), ("POST", "/subscriptions")):
        response = await api.call(HUB, method, path, json={"url": PUBLIC_URL})
        assert response.status_code == 403
        assert response.json()["status"] == 403
    deliveries = await api.call(PROBATION_A, "GET", "/deliveries")
    assert deliveries.status_code == 403
    anonymous = await api.http.get("/subscriptions")
    assert anonymous.status_code == 401


async def test_delete_deactivates_and_is_idempotent(api: Notify) -> None:
    created = await api.subscribe(PROBATION_A, "http://127.0.0.1:9/a")
    path = f"/subscriptions/{created['id']}"
    assert (await api.call(PROBATION_A, "DELETE", path)).status_code == 204
    assert (await api.call(PROBATION_A, "DELETE", path)).status_code == 204
    fetched = (await api.call(PROBATION_A, "GET", path)).json()
    assert fetched["active"] is False
    assert fetched["deactivated_at"] is not None
    rotate = await api.call(PROBATION_A, "POST", path + "/rotate-secret")
    assert rotate.status_code == 409


async def test_rotation_keeps_the_previous_secret_for_a_grace_period(api: Notify) -> None:
    created = await api.subscribe(PROBATION_A, "http://127.0.0.1:9/a")
    path = f"/subscriptions/{created['id']}"
    rotated = (await api.call(PROBATION_A, "POST", path + "/rotate-secret")).json()
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    [row] = await api.rows("SELECT secret, previous_secret FROM subscriptions")
    assert row == {"secret": rotated["secret"], "previous_secret": created["secret"]}
    retired = (await api.call(PROBATION_A, "POST", path + "/retire-previous-secret")).json()
    assert retired["previous_secret_expires_at"] is None


async def test_unknown_event_types_and_bad_bodies_are_422(api: Notify) -> None:
    response = await api.call(
        PROBATION_A,
        "POST",
        "/subscriptions",
        json={"url": PUBLIC_URL, "event_types": ["referral.received"]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("body.event_types")
    missing = await api.call(PROBATION_A, "GET", f"/subscriptions/{uuid.uuid4()}")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://8.8.8.8/hook", "must use https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://user:pw@8.8.8.8/hook", "credentials"),
        ("ftp://8.8.8.8/hook", "must use https"),
    ],
)
async def test_production_refuses_unsafe_targets(
    production_api: Notify, url: str, reason: str
) -> None:
    response = await production_api.call(PROBATION_A, "POST", "/subscriptions", json={"url": url})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/webhook-target-refused"
    assert reason in problem["detail"]
    assert await production_api.rows("SELECT id FROM subscriptions") == []


async def test_production_accepts_a_public_https_target(production_api: Notify) -> None:
    created = await production_api.subscribe(PROBATION_A, PUBLIC_URL)
    assert created["url"] == PUBLIC_URL


async def test_operators_read_deliveries_without_bodies(api: Notify) -> None:
    response = await api.call(OPERATOR, "GET", "/deliveries", params={"status": "pending"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 100, "offset": 0}
    bad = await api.call(OPERATOR, "GET", "/deliveries", params={"status": "lost"})
    assert bad.status_code == 422

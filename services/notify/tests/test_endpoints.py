"""Looking after an endpoint: ping, disable and enable, the delivery log, manual redelivery,
filters by event type and hub, and deliveries that fail for good never ending silently.

notify runs whole against real PostgreSQL and the broker; receivers are fake probation systems
that verify signatures with the `standardwebhooks` reference library and dedupe on webhook-id.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest

from gmirs_contracts.validation import validate_webhook
from gmirs_contracts.webhooks import WebhookPing
from gmirs_notify.bootstrap import Wiring
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually

from .harness import (
    OPERATOR,
    PROBATION_A,
    PROBATION_B,
    FakeEndpoint,
    Fakes,
    Notify,
    running_notify,
)
from .harness import attendance_event as missed

ESCALATED = "gmirs.notify.report-escalated.v1"


async def _endpoint(
    notify: Notify, fakes: Fakes, *statuses: int, owner: str = PROBATION_A, **fields: Any
) -> tuple[FakeEndpoint, dict[str, Any]]:
    endpoint = await fakes.start(status_sequence=statuses)
    response = await notify.call(
        owner, "POST", "/subscriptions", json={"url": endpoint.url, **fields}
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    endpoint.system.set_secrets([created["secret"]])
    return endpoint, created


async def _consumed(notify: Notify, n: int) -> bool:
    stats = notify.infra.consumers[0].stats
    return bool(stats.applied + stats.duplicates >= n)


async def _audited(notify: Notify, action: str) -> list[dict[str, Any]]:
    return await notify.rows("SELECT actor, resource_id FROM audit_log WHERE action = :a", a=action)


async def test_ping_is_signed_answered_with_status_and_latency_and_audited(
    api: Notify, fakes: Fakes
) -> None:
    endpoint, created = await _endpoint(api, fakes, 200, 503)
    path = f"/subscriptions/{created['id']}/ping"

    answered = await api.call(PROBATION_A, "POST", path)
    assert answered.status_code == 200, answered.text
    result = answered.json()
    assert (result["acknowledged"], result["status_code"]) == (True, 200)
    assert result["latency_ms"] >= 0
    [received] = endpoint.accepted(result["webhook_id"])
    assert received.verified
    validate_webhook(received.body, "ping.v1")
    ping = WebhookPing.model_validate(received.body)
    assert str(ping.data.subscription_id) == created["id"]

    refused = (await api.call(OPERATOR, "POST", path)).json()
    assert (refused["acknowledged"], refused["status_code"]) == (False, 503)
    assert refused["webhook_id"] != result["webhook_id"]
    audited = await _audited(api, "subscription.pinged")
    assert [a["actor"] for a in audited] == [PROBATION_A, OPERATOR]
    # A ping is not a delivery: nothing is retried or logged against the endpoint.
    assert await api.rows("SELECT id FROM deliveries") == []

    assert (await api.call(PROBATION_B, "POST", path)).status_code == 404
    await api.call(PROBATION_A, "DELETE", f"/subscriptions/{created['id']}")
    gone = await api.call(PROBATION_A, "POST", path)
    assert gone.status_code == 409
    assert gone.headers["content-type"] == "application/problem+json"


async def test_ping_to_an_unreachable_endpoint_reports_the_error_class(api: Notify) -> None:
    created = await api.subscribe(PROBATION_A, "http://127.0.0.1:9/nobody-listens")
    result = (await api.call(PROBATION_A, "POST", f"/subscriptions/{created['id']}/ping")).json()
    assert result["acknowledged"] is False
    assert result["status_code"] is None
    assert result["error_class"] == "ConnectError"


async def test_a_disabled_endpoint_receives_nothing_until_enabled(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint, created = await _endpoint(notify, fakes)
    base = f"/subscriptions/{created['id']}"
    for _ in range(2):  # idempotent: the second disable changes nothing and audits nothing
        disabled = await notify.call(PROBATION_A, "POST", f"{base}/disable")
        assert disabled.status_code == 200
        assert disabled.json()["enabled"] is False

    event = missed()
    await notify.publish(event)
    await eventually(lambda: _consumed(notify, 1))
    waiting = await notify.delivery(event.subject)
    assert waiting is not None
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    assert endpoint.system.deliveries == []

    enabled = await notify.call(OPERATOR, "POST", f"{base}/enable")
    assert enabled.json()["enabled"] is True
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"), timeout=10)
    assert len(endpoint.accepted(f"msg_{waiting['id'].hex}")) == 1
    assert [a["actor"] for a in await _audited(notify, "subscription.disabled")] == [PROBATION_A]
    assert [a["actor"] for a in await _audited(notify, "subscription.enabled")] == [OPERATOR]
    assert (await notify.call(PROBATION_B, "POST", f"{base}/enable")).status_code == 404


async def test_the_delivery_log_shows_every_attempt_and_redelivery_keeps_the_webhook_id(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint, created = await _endpoint(notify, fakes, 500, 200, 200)
    event = missed()
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"))
    log_path = f"/subscriptions/{created['id']}/deliveries"
    [entry] = (await notify.call(PROBATION_A, "GET", log_path)).json()["items"]
    assert entry["event_type"] == "non-attendance.recorded"
    assert [a["status_code"] for a in entry["attempt_log"]] == [500, 200]
    assert all(a["latency_ms"] >= 0 and not a["manual"] for a in entry["attempt_log"])
    assert "body" not in entry
    first_ack = entry["acknowledged_at"]

    redelivered = await notify.call(PROBATION_A, "POST", f"/deliveries/{entry['id']}/redelivery")
    assert redelivered.status_code == 202

    async def resent() -> bool:
        return len(endpoint.accepted(entry["webhook_id"])) == 2

    await eventually(resent)
    first, again = endpoint.accepted(entry["webhook_id"])
    assert again.duplicate
    assert not first.duplicate
    assert again.body == first.body

    async def logged() -> dict[str, Any]:
        found: dict[str, Any] = (await notify.call(OPERATOR, "GET", log_path)).json()["items"][0]
        return found

    await eventually(lambda: _has_attempts(logged, 3))
    after = await logged()
    assert [a["manual"] for a in after["attempt_log"]] == [False, False, True]
    assert (after["status"], after["acknowledged_at"]) == ("acknowledged", first_ack)
    reported = await notify.rows(
        "SELECT id FROM outbox WHERE type LIKE '%non-attendance-reported%'"
    )
    assert len(reported) == 1  # the KPI event is published for the first acknowledgement only
    assert [a["actor"] for a in await _audited(notify, "delivery.redelivery-requested")] == [
        PROBATION_A
    ]

    assert (await notify.call(PROBATION_B, "GET", log_path)).status_code == 404
    theirs = await notify.call(PROBATION_B, "POST", f"/deliveries/{entry['id']}/redelivery")
    assert theirs.status_code == 404
    unknown = await notify.call(OPERATOR, "POST", f"/deliveries/{uuid.uuid4()}/redelivery")
    assert unknown.status_code == 404


async def _has_attempts(read: Any, n: int) -> bool:
    return len((await read())["attempt_log"]) == n


async def test_filters_by_event_type_and_hub(notify: Notify, fakes: Fakes) -> None:
    every_hub, _ = await _endpoint(notify, fakes)
    bolton, _ = await _endpoint(notify, fakes, owner=PROBATION_B, hub_ids=["bolton"])
    bury, _ = await _endpoint(notify, fakes, hub_ids=["bury", "wigan"])
    plans_only, _ = await _endpoint(
        notify, fakes, event_types=["action-plan.agreed"], partner="Probation GM"
    )
    event = missed()  # the example's hub is bolton
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"))

    async def both_received() -> bool:
        return bool(every_hub.accepted() and bolton.accepted())

    await eventually(both_received)
    assert bury.system.deliveries == []
    assert plans_only.system.deliveries == []
    assert len(await notify.rows("SELECT id FROM deliveries")) == 2


@pytest.mark.parametrize(
    ("status", "due_in", "reason"),
    [(410, timedelta(hours=23), "endpoint-gone"), (500, -timedelta(hours=73), "retries-exhausted")],
)
async def test_a_delivery_that_fails_for_good_is_recorded_and_logged_loudly(
    notify: Notify,
    fakes: Fakes,
    caplog: pytest.LogCaptureFixture,
    status: int,
    due_in: timedelta,
    reason: str,
) -> None:
    caplog.set_level(logging.ERROR)
    _, created = await _endpoint(notify, fakes, status)
    event = missed(due_in=due_in)
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "failed"))
    row = await notify.delivery(event.subject)
    assert row is not None
    assert (row["failure_reason"], row["failed_at"] is not None) == (reason, True)
    failures = [r for r in caplog.records if r.getMessage() == "webhook delivery failed for good"]
    assert [getattr(r, "failure_reason", None) for r in failures] == [reason]
    assert getattr(failures[0], "delivery_id", None) == str(row["id"])
    assert "X123456" not in caplog.text  # no CRN in any log line
    log = await notify.call(OPERATOR, "GET", f"/subscriptions/{created['id']}/deliveries")
    [entry] = log.json()["items"]
    assert (entry["status"], entry["failure_reason"]) == ("failed", reason)
    assert [a["status_code"] for a in entry["attempt_log"]] == [status]


async def test_reports_waiting_for_a_disabled_endpoint_are_escalated_then_failed_loudly(
    settings: NotifySettings,
    wiring: Wiring,
    token_issuer: TestIssuer,
    fakes: Fakes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Waiting is not silence: near its deadline the report is at risk, past give-up it fails."""
    caplog.set_level(logging.ERROR)
    quick = settings.model_copy(update={"dispatch_poll_seconds": 0.2})
    async with running_notify(quick, wiring, token_issuer) as notify:
        endpoint, created = await _endpoint(notify, fakes)
        await notify.call(OPERATOR, "POST", f"/subscriptions/{created['id']}/disable")
        near, abandoned = missed(due_in=timedelta(hours=1)), missed(due_in=-timedelta(hours=73))
        await notify.publish(near)
        await notify.publish(abandoned)

        async def escalated() -> bool:
            row = await notify.delivery(near.subject)
            return row is not None and row["escalated_at"] is not None

        await eventually(escalated)
        await eventually(lambda: notify.delivery_status(abandoned.subject, "failed"))
        failed = await notify.delivery(abandoned.subject)
        waiting = await notify.delivery(near.subject)
    assert failed is not None
    assert waiting is not None
    assert (failed["failure_reason"], failed["attempts"]) == ("endpoint-disabled", 0)
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    assert endpoint.system.deliveries == []
    at_risk = [r for r in caplog.records if r.getMessage() == "webhook delivery at risk"]
    assert len(at_risk) <= 2
    flagged = {getattr(r, "delivery_id", None) for r in at_risk}
    assert str(waiting["id"]) in flagged
    assert flagged <= {str(waiting["id"]), str(failed["id"])}  # each at most once
    gave_up = [r for r in caplog.records if r.getMessage() == "webhook delivery failed for good"]
    assert [getattr(r, "failure_reason", None) for r in gave_up] == ["endpoint-disabled"]
    # Long past its deadline, the report clock may have escalated it first: either way once only.
    await _escalated_once(notify, abandoned.subject, "endpoint-disabled")


async def test_removing_an_endpoint_escalates_the_reports_still_waiting_for_it_at_once(
    notify: Notify, fakes: Fakes
) -> None:
    """Its pending deliveries fail (`removed`) and each one's report is refused, so escalated now
    rather than at 20 hours."""
    _, created = await _endpoint(notify, fakes)
    await notify.call(OPERATOR, "POST", f"/subscriptions/{created['id']}/disable")
    waiting = missed(due_in=timedelta(hours=23))
    await notify.publish(waiting)
    await eventually(lambda: notify.delivery_status(waiting.subject, "pending"))
    response = await notify.call(PROBATION_A, "DELETE", f"/subscriptions/{created['id']}")
    assert response.status_code == 204
    await eventually(lambda: notify.delivery_status(waiting.subject, "failed"))
    await _escalated_once_as_refused(notify, waiting.subject, "removed")


async def _escalated_once(notify: Notify, case_id: object, reason: str) -> dict[str, Any]:
    """The report kept the webhook's refusal and was escalated exactly once."""
    assert isinstance(case_id, uuid.UUID)

    async def refused() -> bool:
        reports = await notify.report(case_id)
        return bool(reports and reports[0]["attempts"])

    await eventually(refused)
    [report] = await notify.report(case_id)
    assert [(a["channel"], a["result"], a["detail"]) for a in report["attempts"]] == [
        ("webhook", "refused", reason)
    ]
    assert report["escalated_at"] is not None
    assert len(await notify.published(ESCALATED, case_id)) == 1
    return report


async def _escalated_once_as_refused(notify: Notify, case_id: object, reason: str) -> None:
    """The report's one escalation, at once, by `delivery_failed` (not by the 20-hour clock)."""
    assert isinstance(case_id, uuid.UUID)
    report = await _escalated_once(notify, case_id, reason)
    assert report["escalation_cause"] == "refused"
    assert report["escalated_at"] < report["due_at"] - timedelta(hours=4)
    [event] = await notify.published(ESCALATED, case_id)
    assert event["detail"] == f"webhook: refused ({reason}) x1"


async def test_a_report_that_failed_for_good_can_be_redelivered_by_hand(
    notify: Notify, fakes: Fakes
) -> None:
    _, created = await _endpoint(notify, fakes, 500, 200)
    event = missed(due_in=-timedelta(hours=73))
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "failed"))
    row = await notify.delivery(event.subject)
    assert row is not None

    response = await notify.call(OPERATOR, "POST", f"/deliveries/{row['id']}/redelivery")
    assert response.status_code == 202
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"))
    log = await notify.call(PROBATION_A, "GET", f"/subscriptions/{created['id']}/deliveries")
    [entry] = log.json()["items"]
    assert (entry["failure_reason"], entry["failed_at"]) == (None, None)
    assert [(a["status_code"], a["manual"]) for a in entry["attempt_log"]] == [
        (500, False),
        (200, True),
    ]
    assert entry["within_deadline"] is False

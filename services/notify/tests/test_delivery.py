"""The 24-hour promise end to end: a non-attendance on the case topic reaches a probation system.

notify runs whole (consumer, dispatcher, relay, API) against real PostgreSQL and the real broker;
the receiver is the fake probation system, which verifies signatures with the reference library.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import orjson
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gmirs_contracts.notify import TOPIC as NOTIFY_TOPIC
from gmirs_contracts.notify import NonAttendanceReported
from gmirs_contracts.webhooks import ProbationAlert
from gmirs_runtime.local.tansu import TansuBroker
from gmirs_runtime.testing.kafka import eventually, wait_for_records

from .harness import FakeEndpoint, Fakes, Notify, attendance_event

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def _subscribed(
    notify: Notify, fakes: Fakes, *statuses: int, **behaviour: object
) -> FakeEndpoint:
    endpoint = await fakes.start(status_sequence=statuses, **behaviour)
    created = await notify.subscribe("probation-a", endpoint.url)
    endpoint.system.set_secrets([created["secret"]])
    return endpoint


async def test_non_attendance_is_signed_delivered_acknowledged_and_reported(
    notify: Notify, fakes: Fakes, kafka_broker: TansuBroker, span_exporter: InMemorySpanExporter
) -> None:
    endpoint = await _subscribed(notify, fakes)
    event = attendance_event(traceparent=TRACEPARENT)
    case_id = event.subject
    await notify.publish(event)

    await eventually(lambda: notify.delivery_status(case_id, "acknowledged"))
    delivery = await notify.delivery(case_id)
    assert delivery is not None
    webhook_id = f"msg_{delivery['id'].hex}"
    [received] = endpoint.accepted(webhook_id)
    assert received.verified
    alert = ProbationAlert.model_validate(received.body)
    assert alert.type == "non-attendance.recorded"
    assert alert.data.case_id == case_id
    assert alert.data.report_due_by == delivery["due_at"]
    # The outbound call continues the trace of the hub's request.
    assert received.traceparent is not None
    assert received.traceparent.split("-")[1] == TRACE_ID

    _assert_client_span(span_exporter)

    [row] = await notify.rows(
        "SELECT payload FROM outbox WHERE type = 'gmirs.notify.non-attendance-reported.v1'"
    )
    reported = NonAttendanceReported.model_validate(row["payload"])
    assert reported.within_deadline is True
    assert reported.webhook_id == webhook_id
    assert (reported.case_id, reported.attempts) == (case_id, 1)
    # ...and the relay publishes it for metrics.
    records = await wait_for_records(
        kafka_broker.bootstrap,
        NOTIFY_TOPIC,
        lambda r: r.key == str(case_id).encode(),
    )
    assert orjson.loads(records[0].value)["report_id"] == str(delivery["id"])


def _assert_client_span(exporter: InMemorySpanExporter) -> None:
    """One CLIENT span per attempt in the report's trace, and no CRN in any span attribute."""
    spans = exporter.get_finished_spans()
    [span] = [s for s in spans if s.name == "POST webhook"]
    assert span.kind is SpanKind.CLIENT
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    assert not any("X123456" in str(v) for s in spans for v in (s.attributes or {}).values())


async def test_attended_appointment_makes_no_delivery(notify: Notify, fakes: Fakes) -> None:
    await _subscribed(notify, fakes)
    attended = attendance_event(attended="yes")
    await notify.publish(attended)
    consumer = notify.infra.consumers[0]
    await eventually(lambda: _applied(consumer, 1))
    assert await notify.rows("SELECT id FROM deliveries") == []


def _acknowledged(notify: Notify, case_id: uuid.UUID) -> Callable[[], Awaitable[bool]]:
    return lambda: notify.delivery_status(case_id, "acknowledged")


async def _applied(consumer: object, n: int) -> bool:
    stats = consumer.stats  # type: ignore[attr-defined]
    return bool(stats.applied + stats.duplicates >= n)


async def test_a_redelivered_event_makes_one_delivery(notify: Notify, fakes: Fakes) -> None:
    endpoint = await _subscribed(notify, fakes)
    event = attendance_event()
    await notify.publish(event)
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"))
    await eventually(lambda: _applied(notify.infra.consumers[0], 2))
    assert len(await notify.rows("SELECT id FROM deliveries")) == 1
    assert len(endpoint.system.deliveries) == 1


async def test_failures_are_retried_with_the_same_webhook_id(notify: Notify, fakes: Fakes) -> None:
    endpoint = await _subscribed(notify, fakes, 500, 500)
    event = attendance_event()
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"))

    seen = endpoint.system.deliveries
    assert [d.status for d in seen] == [500, 500, 200]
    assert len({d.webhook_id for d in seen}) == 1
    delivery = await notify.delivery(event.subject)
    assert delivery is not None
    assert delivery["attempts"] == 3
    attempts = await notify.rows(
        "SELECT attempt, status_code FROM delivery_attempts WHERE delivery_id = :d ORDER BY attempt",
        d=delivery["id"],
    )
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    [row] = await notify.rows("SELECT payload FROM outbox")
    assert row["payload"]["attempts"] == 3


async def test_retry_after_is_honoured(notify: Notify, fakes: Fakes) -> None:
    await _subscribed(notify, fakes, 503, retry_after_s=600)
    event = attendance_event()
    await notify.publish(event)

    async def throttled() -> bool:
        row = await notify.delivery(event.subject)
        return row is not None and row["last_status"] == 503

    await eventually(throttled)
    delivery = await notify.delivery(event.subject)
    assert delivery is not None
    wait = delivery["next_attempt_at"] - delivery["last_attempt_at"]
    assert wait.total_seconds() >= 599
    assert delivery["status"] == "pending"


async def test_gone_deactivates_the_subscription(notify: Notify, fakes: Fakes) -> None:
    endpoint = await _subscribed(notify, fakes, 410)
    event = attendance_event()
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "failed"))

    listed = await notify.call("probation-a", "GET", "/subscriptions")
    [subscription] = listed.json()["items"]
    assert subscription["active"] is False
    # Later reports are not even created for a removed endpoint.
    later = attendance_event()
    await notify.publish(later)
    await eventually(lambda: _applied(notify.infra.consumers[0], 2))
    assert await notify.delivery(later.subject) is None
    assert len(endpoint.system.deliveries) == 1


async def test_rotation_signs_with_both_secrets_until_the_old_is_retired(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint = await fakes.start()
    created = await notify.subscribe("probation-a", endpoint.url)
    old = created["secret"]
    rotated = await notify.call(
        "probation-a", "POST", f"/subscriptions/{created['id']}/rotate-secret"
    )
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old

    for verifier in (old, new):  # either secret alone verifies: both signatures are sent
        endpoint.system.set_secrets([verifier])
        event = attendance_event()
        await notify.publish(event)
        await eventually(_acknowledged(notify, event.subject))

    retired = await notify.call(
        "probation-a", "POST", f"/subscriptions/{created['id']}/retire-previous-secret"
    )
    assert retired.json()["previous_secret_expires_at"] is None
    endpoint.system.set_secrets([old])
    event = attendance_event()
    await notify.publish(event)

    async def refused() -> bool:
        row = await notify.delivery(event.subject)
        return row is not None and row["last_status"] == 401

    await eventually(refused)
    assert endpoint.system.rejections
    assert await notify.delivery_status(event.subject, "pending")

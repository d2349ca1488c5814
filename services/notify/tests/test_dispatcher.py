"""The dispatcher's guarantees: SSRF at delivery time, escalation, once-only creation, replicas."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gmirs_notify.adapters.events import ATTENDANCE_RECORDED
from gmirs_notify.adapters.sender import WebhookSender
from gmirs_notify.bootstrap import Wiring
from gmirs_notify.domain.deadline import DeadlinePolicy
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.domain.subscription import Subscription, new_secret
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.entrypoints.dispatcher import Dispatcher
from gmirs_notify.handlers.clock import utc_now
from gmirs_notify.handlers.deliver import Deliverer
from gmirs_notify.handlers.record_non_attendance import NonAttendanceRecorder
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.db import asyncpg_dsn
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually

from .harness import (
    FAST,
    OPERATOR,
    PROBATION_A,
    Fakes,
    Notify,
    attendance_event,
    running_notify,
)

RECORD_NON_ATTENDANCE = Handles(
    ATTENDANCE_RECORDED,
    NonAttendanceRecorder(
        policy=ReportPolicy(), clock=utc_now, rm_ui_base_url="https://rm.example"
    ),
)
"""The consumer's subscription, applied directly (parsing included) to test without the inbox."""


async def test_the_guard_refuses_a_private_address_at_delivery_time(
    settings: NotifySettings, wiring: Wiring, token_issuer: TestIssuer, fakes: Fakes
) -> None:
    """A URL that passed registration but now reaches a refused address is never called."""
    endpoint = await fakes.start()
    strict = Wiring(
        schedule=FAST,
        target_policy=TargetPolicy.production(),
        case_topic=wiring.case_topic,
        intake_topic=wiring.intake_topic,
        consumer_group=wiring.consumer_group,
    )
    async with running_notify(settings, strict, token_issuer) as notify:
        await _store_subscription(notify, endpoint.url)  # as if DNS had changed since
        event = attendance_event()
        await notify.publish(event)

        async def refused_twice() -> bool:
            row = await notify.delivery(event.subject)
            return row is not None and row["attempts"] >= 2 and row["last_error_class"] is not None

        await eventually(refused_twice)
        delivery = await notify.delivery(event.subject)
    assert delivery is not None
    assert delivery["last_error_class"] == "TargetRefusedError"
    assert delivery["status"] == "pending"
    assert endpoint.system.deliveries == []
    assert endpoint.system.rejections == []


async def _store_subscription(notify: Notify, url: str) -> Subscription:
    subscription = Subscription(
        id=uuid.uuid4(),
        owner_client_id=PROBATION_A,
        url=url,
        description=None,
        event_types=("non-attendance.recorded",),
        secret=new_secret(),
        created_at=datetime.now(UTC),
    )
    async with notify.infra.unit_of_work() as uow:
        await uow.subscriptions.add(subscription)
        await uow.commit()
    return subscription


async def test_a_report_near_its_deadline_is_escalated_once(
    notify: Notify, fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = await fakes.start(status_sequence=[500] * 1000)
    created = await notify.subscribe(PROBATION_A, endpoint.url)
    endpoint.system.set_secrets([created["secret"]])
    event = attendance_event(due_in=timedelta(hours=1))  # inside the 4-hour escalation window
    await notify.publish(event)

    async def failing_repeatedly() -> bool:
        row = await notify.delivery(event.subject)
        return row is not None and row["attempts"] >= 3 and row["escalated_at"] is not None

    await eventually(failing_repeatedly)
    delivery = await notify.delivery(event.subject)
    assert delivery is not None
    alerts = [r for r in caplog.records if "webhook delivery at risk" in r.getMessage()]
    assert len(alerts) == 1
    assert alerts[0].levelno == logging.ERROR
    assert alerts[0].delivery_id == str(delivery["id"])  # type: ignore[attr-defined]
    [report] = await notify.report(event.subject)
    escalations = [r for r in caplog.records if "non-attendance report at risk" in r.getMessage()]
    assert [r.report_id for r in escalations] == [str(report["id"])]  # type: ignore[attr-defined]
    assert "X123456" not in caplog.text  # no CRN in any log line

    page = await notify.call(OPERATOR, "GET", "/deliveries", params={"status": "pending"})
    [item] = page.json()["items"]
    assert item["escalated_at"] is not None
    assert item["attempts"] >= 3
    assert item["last_status"] == 500
    assert item["within_deadline"] is None
    assert "body" not in item


async def test_operators_see_acknowledged_reports_within_deadline(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint = await fakes.start()
    created = await notify.subscribe(PROBATION_A, endpoint.url)
    endpoint.system.set_secrets([created["secret"]])
    event = attendance_event()
    await notify.publish(event)
    await eventually(lambda: notify.delivery_status(event.subject, "acknowledged"))

    page = await notify.call(OPERATOR, "GET", "/deliveries", params={"status": "acknowledged"})
    [item] = page.json()["items"]
    assert item["case_id"] == str(event.subject)
    assert item["within_deadline"] is True
    assert item["attempts"] == 1
    assert item["webhook_id"] == f"msg_{item['id'].replace('-', '')}"
    assert item["next_attempt_at"] is None


async def test_the_same_event_twice_makes_one_delivery_even_without_the_inbox(api: Notify) -> None:
    await api.subscribe(PROBATION_A, "http://127.0.0.1:9/a")
    await api.subscribe(OPERATOR, "http://127.0.0.1:9/b")
    event = attendance_event()
    for _ in range(2):
        async with api.infra.unit_of_work() as uow:
            await RECORD_NON_ATTENDANCE.apply(event, uow)
            await uow.commit()
    rows = await api.rows("SELECT subscription_id, event_id, body FROM deliveries")
    assert len(rows) == 2  # one per subscription, not per arrival
    assert {r["event_id"] for r in rows} == {event.id}
    assert rows[0]["body"] == rows[1]["body"]  # one body, built once


async def test_two_dispatchers_share_the_work_and_send_each_report_once(
    api: Notify, settings: NotifySettings, fakes: Fakes
) -> None:
    endpoint = await fakes.start()
    created = await api.subscribe(PROBATION_A, endpoint.url)
    endpoint.system.set_secrets([created["secret"]])
    events = [attendance_event() for _ in range(40)]
    async with api.infra.unit_of_work() as uow:
        for event in events:
            await RECORD_NON_ATTENDANCE.apply(event, uow)
        await uow.commit()

    stop = asyncio.Event()
    senders = [
        WebhookSender(policy=TargetPolicy.development(), timeout_seconds=5) for _ in range(2)
    ]
    replicas = [_dispatcher(api, settings, sender, max_in_flight=8) for sender in senders]
    tasks = [asyncio.create_task(replica.run(stop)) for replica in replicas]
    try:

        async def all_acknowledged() -> bool:
            rows = await api.rows("SELECT id FROM deliveries WHERE status = 'acknowledged'")
            return len(rows) == len(events)

        await eventually(all_acknowledged)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for sender in senders:
            await sender.aclose()
    ids = [d.webhook_id for d in endpoint.system.deliveries]
    assert len(ids) == len(events)
    assert len(set(ids)) == len(events)


def _dispatcher(
    api: Notify, settings: NotifySettings, sender: WebhookSender, *, max_in_flight: int
) -> Dispatcher:
    policy = DeadlinePolicy(schedule=FAST)
    return Dispatcher(
        dsn=asyncpg_dsn(settings.database_url.get_secret_value()),
        schema=settings.database_schema,
        unit_of_work=api.infra.unit_of_work,
        deliverer=Deliverer(sender=sender, unit_of_work=api.infra.unit_of_work, policy=policy),
        policy=policy,
        lease=timedelta(seconds=30),
        poll_seconds=0.2,
        max_in_flight=max_in_flight,
    )

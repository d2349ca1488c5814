"""Referrals per borough per month, projected from intake's events (in-process, real parts)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from gmirs_contracts.examples import example_data
from gmirs_metrics.bootstrap import MIGRATIONS, build
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService

TOPIC = "intake.referral-events.v1"


@pytest.fixture
async def metrics(start_service) -> AsyncIterator[RunningService]:
    async with start_service(MetricsSettings, build, MIGRATIONS) as service:
        yield service


def _received(hub: str | None, received_at: str) -> Event:
    data = example_data("gmirs.intake.referral-received.v1")
    data.update(referral_id=str(uuid.uuid4()), hub_id=hub, received_at=received_at)
    return Event(
        type="gmirs.intake.referral-received.v1",
        source="/gmirs/test",
        subject=uuid.uuid4(),
        data=data,
    )


async def _publish(bootstrap: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                TOPIC, key=e.key, value=orjson.dumps(e.data), headers=to_headers(e)
            )
    finally:
        await producer.stop()


async def _counts(service: RunningService, month: str) -> dict[str, int]:
    async with service.as_client("commissioner", ["commissioner"]) as http:
        response = await http.get("/kpis/referrals-by-borough", params={"month": month})
        assert response.status_code == 200
        return {b["hub_id"]: b["referrals"] for b in response.json()["boroughs"]}


async def test_referrals_are_counted_per_borough_and_uk_month_once(metrics, kafka_broker) -> None:
    events = [
        _received("bury", "2031-03-10T09:00:00+00:00"),
        _received("bury", "2031-03-31T23:30:00+00:00"),  # 00:30 on 1 April in UK summer time
        _received("oldham", "2031-03-15T12:00:00+00:00"),
        _received(None, "2031-03-16T12:00:00+00:00"),
    ]
    await _publish(kafka_broker.bootstrap, events + events[:2])  # duplicates change nothing

    async def counted() -> bool:
        return await _counts(metrics, "2031-03") == {"bury": 1, "oldham": 1, "unrouted": 1} and (
            await _counts(metrics, "2031-04") == {"bury": 1}
        )

    await eventually(counted, timeout=20)
    assert (
        metrics.infra.consumers[0].stats.duplicates >= 1
        or metrics.infra.consumers[0].stats.applied == 4
    )


async def test_kpis_are_for_commissioners_and_validate_the_month(metrics) -> None:
    async with metrics.as_client("hub-bury", ["hub"], {"hub_id": "bury"}) as http:
        assert (
            await http.get("/kpis/referrals-by-borough", params={"month": "2031-03"})
        ).status_code == 403
    async with metrics.as_client("commissioner", ["commissioner"]) as http:
        bad = await http.get("/kpis/referrals-by-borough", params={"month": "March"})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")

"""Shared by the case feature tests: referrals published on the real broker, cases awaited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from gmirs_contracts.examples import example_data
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService

INTAKE = "intake.referral-events.v1"
CASES = "case.case-events.v1"
RECEIVED = "gmirs.intake.referral-received.v1"
ASSIGNED = "gmirs.intake.referral-assigned.v1"


def event(ce_type: str, data: dict[str, Any]) -> Event:
    return Event(
        type=ce_type, source="/gmirs/test", subject=uuid.UUID(data["referral_id"]), data=data
    )


def routed_referral(hub: str) -> Event:
    data = example_data(RECEIVED)
    data["referral_id"] = str(uuid.uuid4())
    data["hub_id"] = hub
    data["probation_delivery_unit"] = "Bury" if hub == "bury" else "Bolton"
    return event(RECEIVED, data)


def rm_assigned(referral: Event, worker: str, at: datetime) -> Event:
    data = example_data(ASSIGNED)
    data.update(referral_id=str(referral.subject), assigned_to=worker, assigned_at=at.isoformat())
    return event(ASSIGNED, data)


async def publish(bootstrap: str, *events: Event) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                INTAKE, key=e.key, value=orjson.dumps(e.data), headers=to_headers(e)
            )
    finally:
        await producer.stop()


def hub_client(service: RunningService, hub: str, *extra_roles: str) -> httpx.AsyncClient:
    return service.as_client(f"hub-{hub}", ["hub", *extra_roles], {"hub_id": hub})


async def case_of(service: RunningService, referral: Event) -> str:
    hub = referral.data["hub_id"]
    found: list[str] = []

    async def opened() -> bool:
        async with hub_client(service, hub) as http:
            items = (await http.get("/cases", params={"limit": 200})).json()["items"]
        found[:] = [c["id"] for c in items if c["referral_id"] == str(referral.subject)]
        return bool(found)

    await eventually(opened)
    return found[0]


async def opened_case(service: RunningService, bootstrap: str, hub: str) -> str:
    """Publish a routed referral for `hub` and wait for its case: the case id."""
    referral = routed_referral(hub)
    await publish(bootstrap, referral)
    return await case_of(service, referral)

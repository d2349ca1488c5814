"""Shared by the appointment and group session tests: one case service for the module (real
PostgreSQL, broker and issuer), its cases opened the real way, and helpers to book and read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest_asyncio
from services.case.tests.people_harness import case_of, publish, routed_referral
from sqlalchemy import text

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.examples import example_data
from gmirs_contracts.validation import validate_event
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import wait_for_records
from gmirs_runtime.testing.services import RunningService, own_database, running_service

CASES = "case.case-events.v1"
OWN, OTHER = "salford", "wigan"
OWN_CASES = 6


class Served:
    def __init__(self, service: RunningService, own: list[str], other: str) -> None:
        self.service, self.own, self.other = service, own, other

    def hub(self, hub: str = OWN) -> httpx.AsyncClient:
        return self.service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub})

    def role(self, role: str) -> httpx.AsyncClient:
        return self.service.as_client(f"probe-{role}", [role])

    async def count(self, sql: str, **params: Any) -> int:
        async with self.service.infra.engine.connect() as conn:
            return int(await conn.scalar(text(sql), params) or 0)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(
    postgres_server: EmbeddedPostgres, kafka_broker: Any, token_issuer: TestIssuer
) -> AsyncIterator[Served]:
    async with (
        own_database(postgres_server, "sessions") as url,
        running_service(
            settings_class=CaseSettings,
            build=build,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
        ) as service,
    ):
        referrals = [routed_referral(OWN) for _ in range(OWN_CASES)] + [routed_referral(OTHER)]
        await publish(kafka_broker.bootstrap, *referrals)
        cases = [await case_of(service, r) for r in referrals]
        yield Served(service, cases[:-1], cases[-1])


def at(**delta: float) -> str:
    """Now moved by `delta` (negative for the past), as the API takes it."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def session_body(hours: float, **extra: Any) -> dict[str, Any]:
    """A one-hour phone session starting `hours` from now."""
    return {
        "kind": "session",
        "session_number": 1,
        "starts_at": at(hours=hours),
        "ends_at": at(hours=hours + 1),
        "delivery_type": "phone-call",
        **extra,
    }


async def book(http: httpx.AsyncClient, case_id: str, hours: float, **extra: Any) -> str:
    booked = await http.post(f"/cases/{case_id}/appointments", json=session_body(hours, **extra))
    assert booked.status_code == 201, booked.text
    appointment_id: str = booked.json()["id"]
    return appointment_id


async def published(
    bootstrap: str, ce_type: str, count: int, **matching: str
) -> list[dict[str, Any]]:
    """The `count` events of `ce_type` whose payload has `matching`, each valid by its schema."""

    def wanted(record: Any) -> bool:
        if dict(record.headers)["ce_type"] != ce_type.encode():
            return False
        data = orjson.loads(record.value)
        return all(data.get(k) == v for k, v in matching.items())

    records = await wait_for_records(bootstrap, CASES, wanted, count=count)
    events = [orjson.loads(r.value) for r in records]
    for data in events:
        validate_event(ce_type, data)
    return events


def assert_problem(response: httpx.Response, status: int, detail: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if detail is not None:
        assert detail in response.json()["detail"], response.json()


def intake_event(ce_type: str, referral_id: uuid.UUID, **data: Any) -> Event:
    """An intake event of `ce_type` (its example, for `referral_id`, with `data` changed)."""
    values = example_data(ce_type) | {"referral_id": str(referral_id)}
    values |= {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    return Event(type=ce_type, source="/gmirs/test", subject=referral_id, data=values)


def no_uuid() -> str:
    return str(uuid.uuid4())

"""One case service for a test module, with a case per hub opened the real way (an intake event).

Shared by the exit survey's component and browser tests: starting a service costs seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from gmirs_case.bootstrap import MIGRATIONS, build
from gmirs_case.settings import CaseSettings
from gmirs_contracts.examples import example_data
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService, own_database, running_service

INTAKE = "intake.referral-events.v1"
CASES = "case.case-events.v1"
HUBS = ("bolton", "bury")


@dataclass(frozen=True)
class SurveyCase:
    service: RunningService
    database_url: str
    cases: dict[str, str]  # hub -> case id

    def hub(self, hub: str = "bolton") -> Any:
        return self.service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub})

    async def offer(self, hub: str = "bolton") -> str:
        """A fresh survey link (its path) for the hub's case."""
        async with self.hub(hub) as http:
            made = await http.post(f"/cases/{self.cases[hub]}/exit-survey")
        assert made.status_code == 201, made.text
        link: str = made.json()["link"]
        return link

    async def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Rows straight from the service's schema (what was really stored)."""
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": "casework"})
        try:
            return [dict(row) for row in await conn.fetch(sql, *args)]
        finally:
            await conn.close()


def _referral(hub: str) -> Event:
    data = example_data("gmirs.intake.referral-received.v1")
    data["referral_id"] = str(uuid.uuid4())
    data["hub_id"] = hub
    return Event(
        type="gmirs.intake.referral-received.v1",
        source="/gmirs/test",
        subject=uuid.UUID(data["referral_id"]),
        data=data,
    )


async def _open_cases(service: RunningService, bootstrap: str) -> dict[str, str]:
    referrals = {hub: _referral(hub) for hub in HUBS}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for e in referrals.values():
            await producer.send_and_wait(
                INTAKE, key=e.key, value=orjson.dumps(e.data), headers=to_headers(e)
            )
    finally:
        await producer.stop()
    cases: dict[str, str] = {}

    async def opened() -> bool:
        for hub, referral in referrals.items():
            async with service.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
                items = (await http.get("/cases", params={"limit": 200})).json()["items"]
            mine = [c["id"] for c in items if c["referral_id"] == str(referral.subject)]
            if mine:
                cases[hub] = mine[0]
        return len(cases) == len(HUBS)

    await eventually(opened, timeout=30, what="a case per hub")
    return cases


async def survey_case(
    postgres: EmbeddedPostgres, kafka: Any, issuer: TestIssuer, **overrides: Any
) -> AsyncIterator[SurveyCase]:
    """Body of a module-scoped fixture: the service on a database of its own, cases opened."""
    async with (
        own_database(postgres, "survey") as url,
        running_service(
            settings_class=CaseSettings,
            build=build,
            migrations=MIGRATIONS,
            database_url=url,
            bootstrap_servers=kafka.bootstrap,
            issuer=issuer,
            **overrides,
        ) as service,
    ):
        yield SurveyCase(service, url, await _open_cases(service, kafka.bootstrap))

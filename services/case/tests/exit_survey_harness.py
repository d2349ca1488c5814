"""One case service for a test module, with a case per hub opened the real way (an intake event).

Shared by the exit survey's component and browser tests: starting a service costs seconds.
The survey is offered once the sessions are completed, so each hub's case is written straight to
`sessions-completed` (the walk there through the routes is test_lifecycle_service's); `early`
is a bolton case left where it opened (`allocated`).
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
from gmirs_case.domain.lifecycle import CaseState
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
EARLY = "early"  # key of the case left at `allocated` (a bolton case)


@dataclass(frozen=True)
class SurveyCase:
    service: RunningService
    database_url: str
    cases: dict[str, str]  # hub -> case id, at `sessions-completed` (EARLY: bolton, allocated)

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


async def _complete_sessions(service: RunningService, case_id: str) -> None:
    async with service.infra.unit_of_work() as uow:
        lifecycle = await uow.lifecycles.get(uuid.UUID(case_id))
        completed = lifecycle.moved_to(CaseState.SESSIONS_COMPLETED, lifecycle.since)
        await uow.lifecycles.save(uuid.UUID(case_id), completed)
        await uow.commit()


async def _open_cases(service: RunningService, bootstrap: str) -> dict[str, str]:
    referrals = {hub: _referral(hub) for hub in HUBS} | {EARLY: _referral("bolton")}
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
        async with service.as_client("lead", ["lead-provider"]) as http:
            items = (await http.get("/cases", params={"limit": 200})).json()["items"]
        by_referral = {c["referral_id"]: c["id"] for c in items}
        for key, referral in referrals.items():
            if str(referral.subject) in by_referral:
                cases[key] = by_referral[str(referral.subject)]
        return len(cases) == len(referrals)

    await eventually(opened, timeout=30, what="a case per hub")
    for hub in HUBS:
        await _complete_sessions(service, cases[hub])
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

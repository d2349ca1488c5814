"""All four services in-process on the session's PostgreSQL, broker and issuer, probed from outside.

Started once for this folder: intake wired to the R&M simulator (so its R&M and quarantine routes
exist), case, metrics and notify, each in its own schema of one database, as the stack runs them.
Two hubs' cases (each with an appointment) and a probation system's subscription are seeded
through the public APIs, so the probes have real resources to aim at.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio

from gmirs_case.bootstrap import MIGRATIONS as CASE_MIGRATIONS
from gmirs_case.bootstrap import build as build_case
from gmirs_case.settings import CaseSettings
from gmirs_metrics.bootstrap import MIGRATIONS as METRICS_MIGRATIONS
from gmirs_metrics.bootstrap import build as build_metrics
from gmirs_metrics.domain.figures import MonthlyFigures
from gmirs_metrics.settings import MetricsSettings
from gmirs_notify.bootstrap import MIGRATIONS as NOTIFY_MIGRATIONS
from gmirs_notify.bootstrap import build as build_notify
from gmirs_notify.settings import NotifySettings
from gmirs_referral_intake.bootstrap import MIGRATIONS as INTAKE_MIGRATIONS
from gmirs_referral_intake.bootstrap import build as build_intake
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually
from gmirs_runtime.testing.services import RunningService, own_database, running_service
from tests.e2e.referrals import direct_referral
from tests.fakes.process import run_fake
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.probes.matrix import HUB_A, HUB_B, Probed, Seeded


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def probed(
    postgres_server: EmbeddedPostgres, kafka_broker: Any, token_issuer: TestIssuer
) -> AsyncIterator[Probed]:
    rm_port = free_port()
    rm_url = f"http://127.0.0.1:{rm_port}"
    async with own_database(postgres_server, "probes") as database_url:
        common = {
            "database_url": database_url,
            "bootstrap_servers": kafka_broker.bootstrap,
            "issuer": token_issuer,
        }
        with run_fake("tests.fakes.rm_simulator", port=rm_port):
            async with contextlib.AsyncExitStack() as stack:
                services = {
                    name: await stack.enter_async_context(
                        running_service(
                            settings_class=settings_class,
                            build=build,
                            migrations=migrations,
                            **common,
                            **overrides,
                        )
                    )
                    for name, (settings_class, build, migrations, overrides) in _services(
                        rm_url
                    ).items()
                }
                seeded = await _seed(services)
                yield Probed(services, token_issuer, seeded)


def _services(rm_url: str) -> dict[str, tuple[type[ServiceSettings], Any, Path, dict[str, Any]]]:
    """Each service's settings class, build, migrations and settings of its own."""
    rm = {
        "rm_api_url": rm_url,
        "hmpps_auth_url": f"{rm_url}/auth",
        "rm_client_id": DEFAULT_CLIENT_ID,
        "rm_client_secret": DEFAULT_CLIENT_SECRET,
        "sns_certificate_origins": [rm_url],
        "reconcile_enabled": False,
    }
    return {
        "referral-intake": (IntakeSettings, build_intake, INTAKE_MIGRATIONS, rm),
        "case": (CaseSettings, build_case, CASE_MIGRATIONS, {}),
        "metrics": (
            MetricsSettings,
            functools.partial(build_metrics, figures=_NoFiguresYet()),
            METRICS_MIGRATIONS,
            {},
        ),
        "notify": (
            NotifySettings,
            build_notify,
            NOTIFY_MIGRATIONS,
            {"allow_private_webhook_targets": True},
        ),
    }


class _NoFiguresYet:
    """metricspack: a month with no figures, so the pack's routes are probed end to end (the
    lead replaces it when build gets the KPI queries' source by default)."""

    async def figures_for(self, month: date) -> MonthlyFigures:
        return MonthlyFigures(month, datetime(2026, 1, 1, tzinfo=UTC), [], [], [], [], [])


async def _seed(services: dict[str, RunningService]) -> Seeded:
    """One case (with an appointment) per hub, via intake, and one probation subscription."""
    intake, case = services["referral-intake"], services["case"]
    cases: dict[str, str] = {}
    appointments: dict[str, str] = {}
    consents: dict[str, str] = {}
    async with intake.as_client("lead-provider", ["lead-provider"]) as http:
        for hub in (HUB_A, HUB_B):
            sent = await http.post("/referrals", json=direct_referral(hub.capitalize()))
            assert sent.status_code in (200, 201), sent.text
            cases[hub] = await _case_of(case, hub, sent.json()["referral_id"])
            appointments[hub] = await _book(case, hub, cases[hub])
            consents[hub] = await _consent(case, hub, cases[hub])
    async with services["notify"].as_client("probation-a", ["probation-system"]) as http:
        created = await http.post("/subscriptions", json={"url": "http://127.0.0.1:9/hook"})
        assert created.status_code == 201, created.text
    return Seeded(cases, appointments, created.json()["id"], consents)


async def _case_of(case: RunningService, hub: str, referral_id: str) -> str:
    found: list[str] = []

    async def opened() -> bool:
        async with case.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
            items = (await http.get("/cases", params={"limit": 200})).json()["items"]
        found[:] = [c["id"] for c in items if c["referral_id"] == referral_id]
        return bool(found)

    await eventually(opened, timeout=30, what=f"a case for {hub}")
    return found[0]


async def _book(case: RunningService, hub: str, case_id: str) -> str:
    now = datetime.now(UTC)
    async with case.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
        contact = {"occurred_at": (now - timedelta(hours=1)).isoformat()}
        contacted = await http.post(f"/cases/{case_id}/first-contact", json=contact)
        assert contacted.status_code == 200, contacted.text
        booked = await http.post(
            f"/cases/{case_id}/appointments",
            json={
                "kind": "initial-assessment",
                "starts_at": (now + timedelta(days=1)).isoformat(),
                "ends_at": (now + timedelta(days=1, hours=1)).isoformat(),
                "delivery_type": "phone-call",
            },
        )
    assert booked.status_code == 201, booked.text
    appointment: str = booked.json()["id"]
    return appointment


async def _consent(case: RunningService, hub: str, case_id: str) -> str:
    given = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {
        "partner": "Seed Partner",
        "scopes": ["needs"],
        "given_at": given,
        "recorded_by": "seed",
    }
    async with case.as_client(f"hub-{hub}", ["hub"], {"hub_id": hub}) as http:
        made = await http.post(f"/cases/{case_id}/consents", json=body)
    assert made.status_code == 201, made.text
    consent: str = made.json()["id"]
    return consent

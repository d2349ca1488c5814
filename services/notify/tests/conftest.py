"""Fixtures: a migrated database, settings, and notify running on the session's real parts.

Each test gets its own database, case topic and consumer group, so tests never see each other's
events; the token issuer, PostgreSQL and the broker come from the runtime's pytest plugin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gmirs_notify.bootstrap import MIGRATIONS, Wiring
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.migrations import upgrade
from gmirs_runtime.testing.issuer import TestIssuer

from .harness import FAST, Fakes, Notify, ShiftedClock, api_only, running_notify


@pytest.fixture
async def notify_db(database_url: str) -> str:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "notify")
    return database_url


@pytest.fixture
def settings(notify_db: str, kafka_broker: Any, token_issuer: TestIssuer) -> NotifySettings:
    return NotifySettings(
        environment="test",
        database_url=notify_db,
        kafka_bootstrap_servers=kafka_broker.bootstrap,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=300,
        kafka_fetch_max_wait_ms=20,
        auth_issuer=token_issuer.url,
        auth_jwks_url=token_issuer.jwks_url,
        http_port=free_port(),
        # Long on purpose: a delivery that arrives fast was woken by NOTIFY, not by polling.
        dispatch_poll_seconds=30,
        webhook_timeout_seconds=5,
        report_clock_seconds=0.1,
    )


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def wiring(unique_name: Callable[[str], str], clock: ShiftedClock) -> Wiring:
    return Wiring(
        schedule=FAST,
        case_topic=unique_name("case-events"),
        intake_topic=unique_name("intake-events"),
        consumer_group=unique_name("notify"),
        clock=clock,
    )


@pytest.fixture
async def api(
    settings: NotifySettings, wiring: Wiring, token_issuer: TestIssuer
) -> AsyncIterator[Notify]:
    async with api_only(settings, wiring, token_issuer) as running:
        yield running


@pytest.fixture
async def notify(
    settings: NotifySettings, wiring: Wiring, token_issuer: TestIssuer
) -> AsyncIterator[Notify]:
    async with running_notify(settings, wiring, token_issuer) as running:
        yield running


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """Start fake probation systems on demand; all are stopped after the test."""
    started = Fakes()
    async with started.stack:
        yield started

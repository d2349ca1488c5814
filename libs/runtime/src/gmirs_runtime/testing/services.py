"""Run one service in-process against real PostgreSQL, the real broker and a real issuer.

The component test between a unit test and an end-to-end test: the service's own bootstrap
builds it from settings, its migrations create its schema, its API is served on a real port and
its relay and consumers run, exactly as `gmirs-<service> run` would.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gmirs_runtime.bootstrap import Infrastructure, consumer_worker
from gmirs_runtime.local.ports import free_port, tcp_accepts
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.migrations import upgrade
from gmirs_runtime.service import Service, serve
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.issuer import TestIssuer

FAST_KAFKA = {
    "kafka_session_timeout_ms": 4000,
    "kafka_heartbeat_interval_ms": 300,
    "kafka_fetch_max_wait_ms": 20,
}
"""Services under test share the test process's event loop and the machine's two cores with
PostgreSQL, the broker and, in browser tests, Chromium: a 4 s session timeout leaves room for a
busy moment (Chromium starting), and a join still takes about 2 s on the local broker, which
holds each join for half the session timeout (6 s, the services' own, took the suite over 15
minutes). Whole blocks of tests stalling on their group was not the timeout's doing, as first
thought, but two members of one group at once (`SharedGroupError`)."""


_LIVE_GROUPS: collections.Counter[str] = collections.Counter()
"""Consumer groups of the services this test process is running now."""


class SharedGroupError(RuntimeError):
    """A test started a service whose consumer group another running service is in."""


@dataclass
class RunningService:
    base_url: str
    infra: Infrastructure[Any]
    issuer: TestIssuer
    audience: str

    def client(self, token: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=15)

    def as_client(
        self, client_id: str, roles: Sequence[str], claims: Mapping[str, Any] | None = None
    ) -> httpx.AsyncClient:
        return self.client(self.issuer.mint(client_id, roles, self.audience, claims))


@contextlib.asynccontextmanager
async def own_database(postgres: EmbeddedPostgres, prefix: str = "t") -> AsyncIterator[str]:
    """A fresh, empty database (its URL) until the block ends, then dropped (connections cut).

    For a service shared by one module's tests: each module gets its own tables.
    """
    name = f"{prefix}_{uuid.uuid4().hex}"
    await postgres.create_database(name)
    try:
        yield postgres.dsn(name)
    finally:
        await postgres.drop_database(name)


@contextlib.asynccontextmanager
async def running_service(
    *,
    settings_class: type[ServiceSettings],
    build: Callable[[ServiceSettings], Awaitable[tuple[Service, Infrastructure[Any]]]],
    migrations: Path,
    database_url: str,
    bootstrap_servers: str,
    issuer: TestIssuer,
    consumers: bool = True,
    **overrides: Any,
) -> AsyncIterator[RunningService]:
    """Migrate, build and serve a service until the block ends.

    `consumers=False` serves it without its consumer group members (its API, relay and other
    workers run): for a second service of a kind while a test's first one runs. Two running
    members of one group are refused (SharedGroupError): on the local broker, one leaving
    while the other rejoined could leave the group in a rebalance no later member finished, and
    every later service of that kind, in every later test, waited past its start-up limit."""
    port = free_port()
    settings = settings_class(
        environment="test",
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        http_port=port,
        auth_issuer=issuer.url,
        auth_jwks_url=issuer.jwks_url,
        **{**FAST_KAFKA, **overrides},
    )
    await asyncio.to_thread(upgrade, migrations, database_url, settings.database_schema)
    service, infra = await build(settings)
    members = list(infra.consumers)  # the group members this service runs
    if not consumers:
        for member in members:
            del service.workers[consumer_worker(member.group)]
        members = []
    groups = [member.group for member in members]
    if shared := [group for group in groups if _LIVE_GROUPS[group]]:
        raise SharedGroupError(
            f"consumer group(s) {shared} already run in this test process: start this service "
            "with consumers=False, or stop the other first"
        )
    _LIVE_GROUPS.update(groups)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(service, host="127.0.0.1", port=port, stop=stop, handle_signals=False)
    )
    try:
        async with asyncio.timeout(30):
            while not await tcp_accepts(port):
                if task.done():
                    task.result()
                await asyncio.sleep(0.05)
            for member in members:
                await member.assigned.wait()
        yield RunningService(f"http://127.0.0.1:{port}", infra, issuer, settings.auth_audience)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 60)
        finally:
            _LIVE_GROUPS.subtract(groups)


StartService = Callable[..., contextlib.AbstractAsyncContextManager[RunningService]]


@pytest.fixture
def start_service(database_url: str, kafka_broker: Any, token_issuer: TestIssuer) -> StartService:
    """`async with start_service(SettingsClass, build, MIGRATIONS, **overrides) as service:` on
    this test's database, the session's broker and issuer."""

    def start(
        settings_class: type[ServiceSettings],
        build: Callable[[ServiceSettings], Awaitable[tuple[Service, Infrastructure[Any]]]],
        migrations: Path,
        **overrides: Any,
    ) -> contextlib.AbstractAsyncContextManager[RunningService]:
        return running_service(
            settings_class=settings_class,
            build=build,
            migrations=migrations,
            database_url=database_url,
            bootstrap_servers=kafka_broker.bootstrap,
            issuer=token_issuer,
            **overrides,
        )

    return start

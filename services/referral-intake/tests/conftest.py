"""Fixtures for the R&M receiving tests: intake with its R&M wiring, the simulator, moto.

Intake is built by its own bootstrap. Until bootstrap wires R&M receiving itself,
`build_with_rm` adds it exactly as entrypoints/rm_wiring.py tells bootstrap to; once bootstrap
does, it changes nothing and the tests run the real wiring. `rm_env` starts intake in-process,
the R&M simulator as its own process (pushing to intake if asked) and, for SQS, a moto server
provisioned as HMPPS consumers are.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.entrypoints.rm_push import rm_routers
from gmirs_referral_intake.entrypoints.rm_wiring import STATE, RmReceiving
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.bootstrap import Infrastructure
from gmirs_runtime.db import asyncpg_dsn
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.services import RunningService, running_service
from gmirs_stack.aws import AwsResources, queue_depth
from tests.fakes.process import RunningFake, run_fake
from tests.fakes.rm_harness import local_aws
from tests.fakes.rm_simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

SIMULATOR = "tests.fakes.rm_simulator"
TOPIC = "intake.referral-events.v1"
FAST_RETRIES = {
    "retry_initial_seconds": 0.2,
    "retry_max_seconds": 1.0,
    "sqs_outage_tolerance_seconds": 1.0,
}


async def build_with_rm(settings: ServiceSettings) -> tuple[Service, Infrastructure[Any]]:
    service, infra = await build(settings)
    app = service.app
    assert app is not None
    assert isinstance(settings, IntakeSettings)
    if not any(getattr(route, "path", None) == "/rm/sns" for route in app.routes):
        for router in rm_routers():
            app.include_router(router)
    if getattr(app.state, STATE, None) is None:
        rm = RmApi.from_settings(settings)
        receiving = RmReceiving.for_rm(
            settings, unit_of_work=infra.unit_of_work, rm=rm, routing=app.state.routing
        )
        receiving.install(app)
        service.workers.update(receiving.workers())
        service.on_stop.extend([receiving.aclose, rm.aclose])
    return service, infra


def rm_settings(simulator_url: str, **overrides: Any) -> dict[str, Any]:
    """Settings that point intake at a simulator on `simulator_url`."""
    return {
        "rm_api_url": simulator_url,
        "hmpps_auth_url": f"{simulator_url}/auth",
        "rm_client_id": DEFAULT_CLIENT_ID,
        "rm_client_secret": DEFAULT_CLIENT_SECRET,
        "sns_certificate_origins": [simulator_url],
        **FAST_RETRIES,
        **overrides,
    }


@contextlib.asynccontextmanager
async def intake_with_rm(
    *,
    database_url: str,
    bootstrap: str,
    issuer: TestIssuer,
    simulator_url: str,
    **overrides: Any,
) -> AsyncIterator[RunningService]:
    async with running_service(
        settings_class=IntakeSettings,
        build=build_with_rm,
        migrations=MIGRATIONS,
        database_url=database_url,
        bootstrap_servers=bootstrap,
        issuer=issuer,
        **rm_settings(simulator_url, **overrides),
    ) as service:
        yield service


@contextlib.contextmanager
def simulator(port: int, *args: str) -> Iterator[RunningFake]:
    """The R&M simulator as its own process on `port` (chosen first, so intake can point at it)."""
    with run_fake(SIMULATOR, *args, port=port) as running:
        yield running


class SimulatorControl:
    """The simulator's /_control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=15) as http:
            response = await http.post(f"/_control{path}", json=body or {})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def create_referral(self, **body: Any) -> dict[str, Any]:
        return await self.post("/referrals", {"pdu": "Bolton", **body})

    async def faults(self, **body: Any) -> dict[str, Any]:
        return await self.post("/faults", body)

    async def requests(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=15) as http:
            response = await http.get("/_control/requests")
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found


class RmEnv:
    """One running intake with its simulator (and moto, for SQS), and ways to look inside."""

    def __init__(
        self,
        intake: RunningService,
        control: SimulatorControl,
        bootstrap: str,
        aws: AwsResources | None = None,
    ) -> None:
        self.intake = intake
        self.control = control
        self.bootstrap = bootstrap
        self._aws = aws

    @property
    def aws(self) -> AwsResources:
        assert self._aws is not None, "started without sqs=True"
        return self._aws

    def ops(self) -> httpx.AsyncClient:
        """A client with the operator role, as `ops-anna`."""
        return self.intake.as_client("ops-anna", ["operator"])

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.intake.infra.engine.connect() as conn:
            return await conn.scalar(text(sql), params)

    async def referrals_for(self, rm_id: str) -> int:
        sql = "SELECT count(*) FROM referrals WHERE external_key = :key"
        return int(await self.scalar(sql, key=f"rm:{rm_id}"))

    async def depth(self, queue_url: str | None = None) -> int:
        return await queue_depth(self.aws.endpoint_url, queue_url or self.aws.queue_url)

    async def audited(self, action: str) -> list[tuple[Any, ...]]:
        """(actor, resource id, reason) of each audit row for `action`, oldest first."""
        sql = "SELECT actor, resource_id, reason FROM audit_log WHERE action = :a ORDER BY id"
        async with self.intake.infra.engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql), {"a": action})]


RmEnvFactory = Callable[..., contextlib.AbstractAsyncContextManager[RmEnv]]


@pytest.fixture
def rm_env(
    database_url: str, kafka_broker: Any, token_issuer: TestIssuer, tmp_path: Path
) -> RmEnvFactory:
    """`async with rm_env(push=..., sqs=..., max_receive_count=..., **intake_settings) as env`.

    Reconciliation is off unless a test turns it on (`reconcile_enabled=True`): its first round
    runs whenever its worker gets the CPU, so it would walk R&M's summaries and fetch the
    referrals a test is creating, adding calls to R&M's request log and referrals the test never
    sent (test_reconcile.py tests it on its own).
    """

    @contextlib.asynccontextmanager
    async def start(
        *, push: bool = False, sqs: bool = False, max_receive_count: int = 3, **overrides: Any
    ) -> AsyncIterator[RmEnv]:
        overrides = {"reconcile_enabled": False, **overrides}
        async with contextlib.AsyncExitStack() as stack:
            aws = None
            if sqs:
                aws = await stack.enter_async_context(
                    local_aws(tmp_path, max_receive_count=max_receive_count)
                )
                overrides = {**_sqs_settings(aws), "sns_topic_arns": [aws.topic_arn], **overrides}
            port = free_port()
            args = aws.simulator_args() if aws else []
            if not push:  # intake may fetch at once (SQS): start R&M first
                stack.enter_context(simulator(port, *args))
            intake = await stack.enter_async_context(
                intake_with_rm(
                    database_url=database_url,
                    bootstrap=kafka_broker.bootstrap,
                    issuer=token_issuer,
                    simulator_url=f"http://127.0.0.1:{port}",
                    **overrides,
                )
            )
            if push:  # the push URL is known only now
                stack.enter_context(
                    simulator(port, *args, "--push-url", f"{intake.base_url}/rm/sns")
                )
            control = SimulatorControl(f"http://127.0.0.1:{port}")
            yield RmEnv(intake, control, kafka_broker.bootstrap, aws)

    return start


def _sqs_settings(aws: AwsResources) -> dict[str, Any]:
    return {
        "sqs_queue_url": aws.queue_url,
        "aws_endpoint_url": aws.endpoint_url,
        "aws_region": aws.region,
        "aws_access_key_id": aws.access_key,
        "aws_secret_access_key": aws.secret_key,
        "sqs_max_receive_count": aws.max_receive_count,
        "sqs_wait_seconds": 1,
    }


@pytest.fixture
async def generic_plans(database_url: str) -> None:
    """Make every later connection to the test database plan prepared statements generically.

    That is what PostgreSQL does by itself from about the sixth execution of a statement on one
    connection; forcing it makes a statement that only works with a custom plan fail every time.
    """
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        name = await connection.fetchval("SELECT current_database()")
        await connection.execute(
            f'ALTER DATABASE "{name}" SET plan_cache_mode = force_generic_plan'
        )
    finally:
        await connection.close()

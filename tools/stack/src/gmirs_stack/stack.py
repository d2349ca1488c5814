"""Start and stop the whole platform as real processes, in dependency order.

PostgreSQL, the Tansu broker, the local OAuth2 issuer, each service's migrations (a separate
step, as in production), the four services, the R&M simulator, a GOV.UK Notify fake and a demo
probation system subscribed to notify.
Used by `./dev up` and by the end-to-end tests, so what developers run is what the tests run.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from gmirs_contracts.hubs import HUB_IDS
from gmirs_runtime.local.ports import ensure_port_free
from gmirs_runtime.local.postgres import EmbeddedPostgres
from gmirs_runtime.local.processes import ManagedProcess
from gmirs_runtime.local.tansu import TansuBroker, create_topics
from gmirs_stack import aws
from gmirs_stack.config import DATABASE, SERVICES, TOPICS, Ports, ServiceSpec, demo_clients

REPO_ROOT = Path(__file__).resolve().parents[4]
LOCAL = "127.0.0.1"
RM_CLIENT_ID = "gmirs-intake"
ESCALATION_TEMPLATE_ID = "8f0a3c2e-4b1d-4e6f-9a7b-2c5d8e1f3a60"
ESCALATION_TEMPLATE = (
    "Non-attendance report at risk: ((case_reference))"
    "|Hub ((hub)): the non-attendance report is due by ((due_at)) and is not through"
    " (cause: ((cause))). Open the operator's list of reports at risk."
)
PRACTITIONER_TEMPLATE_ID = "3b6d9e1a-7c2f-4a58-b0d3-5e8f1a2c4d70"
PRACTITIONER_TEMPLATE = (
    "Non-attendance: ((case_reference))"
    "|The person referred to hub ((hub)) did not attend their appointment that ended"
    " ((appointment_ended_at)). Contact the hub for details."
)
WATCHDOG_TEMPLATE_ID = "c4e7a1d9-2f3b-4c6e-8a5d-7b9f0e2c1a84"
WATCHDOG_TEMPLATE = (
    "Attendance not recorded: ((case_reference))"
    "|Hub ((hub)): nobody has recorded attendance for the appointment that ended"
    " ((appointment_ended_at)). Record it now: a non-attendance must reach the probation"
    " practitioner within 24 hours of the appointment's end."
)
DELIVERED = "simulate-delivered@notifications.service.gov.uk"


class LocalStack:
    """The platform rooted at `root` (data, logs, keys and client secrets live there)."""

    def __init__(
        self,
        root: Path,
        ports: Ports | None = None,
        *,
        service_env: Mapping[str, str] | None = None,
        otlp_endpoint: str | None = None,
        demo_probation: bool = True,
    ) -> None:
        self.root = root.absolute()
        self.ports = ports or Ports()
        self.service_env = dict(service_env or {})
        self.otlp_endpoint = otlp_endpoint
        self.demo_probation = demo_probation
        self.postgres = EmbeddedPostgres(self.root / "postgres", self.ports.postgres)
        self.broker = TansuBroker(self.ports.kafka, log_path=self._log("tansu"))
        self.clients = demo_clients(self.root / "clients.json")
        self.processes: dict[str, ManagedProcess] = {}
        self.probation_secret: str | None = None
        self.aws: aws.AwsResources | None = None
        self.rm_secret = secrets.token_urlsafe(24)  # intake's client at the simulated HMPPS Auth
        # A GOV.UK Notify API key: name, service id, secret (the fake checks its JWTs).
        self.gov_notify_key = f"gmirs_local-{uuid.uuid4()}-{uuid.uuid4()}"

    def url(self, name: str) -> str:
        return f"http://{LOCAL}:{self.ports.named()[name]}"

    @property
    def database_url(self) -> str:
        return self.postgres.dsn(DATABASE)

    def secret(self, client_id: str) -> str:
        return str(next(c["client_secret"] for c in self.clients if c["client_id"] == client_id))

    async def start(self) -> None:
        for name, port in self.ports.named().items():
            if name != "collector" and (name != "probation" or self.demo_probation):
                ensure_port_free(port, name)
        await self.postgres.start()
        await self._ensure_database()
        await self.broker.start()
        await create_topics(self.broker.bootstrap, TOPICS, partitions=3)
        await self._start("issuer", self._issuer_argv(), {}, self.ports.issuer)
        await self._start_refer_and_monitor()
        await self._start_gov_notify()
        await asyncio.gather(*(self._migrate(spec) for spec in SERVICES))
        await asyncio.gather(*(self.start_service(spec.name) for spec in SERVICES))
        if self.demo_probation:
            await self._start_demo_probation()

    async def _start_refer_and_monitor(self) -> None:
        """moto standing in for the HMPPS SNS topic and our SQS queue, and the R&M simulator on it."""
        self.processes["moto"] = await aws.start_moto(self.ports.moto, self._log("moto"))
        self.aws = await aws.provision(aws.moto_endpoint(self.ports.moto))
        argv = [
            sys.executable,
            *("-m", "tests.fakes.rm_simulator", "--port", str(self.ports.rm)),
            *self.aws.simulator_args(),
            *("--push-url", f"{self.url('intake')}/rm/sns"),
            # `--option=value`: a generated secret may begin with "-", which argparse would
            # otherwise take for an option (the simulator exited, one start in 64).
            f"--client-id={RM_CLIENT_ID}",
            f"--client-secret={self.rm_secret}",
        ]
        await self._start("rm-simulator", argv, {}, self.ports.rm, "/_control/health")

    async def _start_gov_notify(self) -> None:
        """The GOV.UK Notify fake, holding the templates notify sends with (escalation, the
        report by email, the attendance watchdog's warning)."""
        argv = [
            sys.executable,
            *("-m", "tests.fakes.gov_notify", "--port", str(self.ports.gov_notify)),
            *("--api-key", self.gov_notify_key),
            *("--template", f"{ESCALATION_TEMPLATE_ID}={ESCALATION_TEMPLATE}"),
            *("--template", f"{PRACTITIONER_TEMPLATE_ID}={PRACTITIONER_TEMPLATE}"),
            *("--template", f"{WATCHDOG_TEMPLATE_ID}={WATCHDOG_TEMPLATE}"),
        ]
        await self._start("gov-notify", argv, {}, self.ports.gov_notify, "/_control/health")

    def _gov_notify_env(self, prefix: str) -> dict[str, str]:
        """notify emails escalations, reports and watchdog warnings through the fake, to
        Notify's simulated delivered address."""
        return {
            f"{prefix}GOV_NOTIFY_API_KEY": self.gov_notify_key,
            f"{prefix}GOV_NOTIFY_BASE_URL": self.url("gov_notify"),
            f"{prefix}ESCALATION_TEMPLATE_ID": ESCALATION_TEMPLATE_ID,
            f"{prefix}PRACTITIONER_TEMPLATE_ID": PRACTITIONER_TEMPLATE_ID,
            f"{prefix}ATTENDANCE_WATCHDOG_TEMPLATE_ID": WATCHDOG_TEMPLATE_ID,
            f"{prefix}ESCALATION_HUB_CONTACTS": json.dumps(dict.fromkeys(HUB_IDS, DELIVERED)),
            f"{prefix}ESCALATION_LEAD_PROVIDER_EMAIL": DELIVERED,
        }

    def _rm_env(self, prefix: str) -> dict[str, str]:
        if self.aws is None:
            return {}
        return {
            **self.aws.intake_env(prefix),
            f"{prefix}RM_API_URL": self.url("rm"),
            f"{prefix}HMPPS_AUTH_URL": f"{self.url('rm')}/auth",
            f"{prefix}RM_CLIENT_ID": RM_CLIENT_ID,
            f"{prefix}RM_CLIENT_SECRET": self.rm_secret,
            f"{prefix}SNS_CERTIFICATE_ORIGINS": json.dumps([self.url("rm")]),
        }

    def _rm_writeback_env(self, prefix: str) -> dict[str, str]:
        """notify writes hub-recorded non-attendance back to the R&M simulator, as the recording
        worker (a user token from the simulator's HMPPS Auth)."""
        if self.aws is None:
            return {}
        return {
            f"{prefix}RM_API_URL": self.url("rm"),
            f"{prefix}HMPPS_AUTH_URL": f"{self.url('rm')}/auth",
            f"{prefix}RM_CLIENT_ID": RM_CLIENT_ID,
            f"{prefix}RM_CLIENT_SECRET": self.rm_secret,
            f"{prefix}RM_UI_BASE_URL": self.url("rm"),
        }

    async def stop(self) -> None:
        """Stop everything in reverse order; never raises, so Ctrl-C always finishes."""
        for name in reversed(list(self.processes)):
            await self.processes[name].stop(15)
        await self.broker.stop()
        await self.postgres.stop()

    def spec(self, name: str) -> ServiceSpec:
        return next(s for s in SERVICES if s.name == name)

    async def start_service(self, name: str) -> None:
        spec = self.spec(name)
        port = self.ports.named()[spec.port_field]
        argv = [sys.executable, "-m", spec.module, "run"]
        await self._start(name, argv, self.env_for(spec), port)

    async def stop_service(self, name: str) -> None:
        await self.processes[name].stop(15)

    def kill_service(self, name: str) -> None:
        self.processes[name].kill()

    def env_for(self, spec: ServiceSpec) -> dict[str, str]:
        p = spec.env_prefix
        env = {
            f"{p}ENVIRONMENT": "local",
            f"{p}DATABASE_URL": self.database_url,
            f"{p}KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            f"{p}HTTP_PORT": str(self.ports.named()[spec.port_field]),
            f"{p}AUTH_ISSUER": self.url("issuer"),
            f"{p}AUTH_JWKS_URL": f"{self.url('issuer')}/.well-known/jwks.json",
            "OTEL_SERVICE_NAME": spec.name,
        }
        if spec.name == "referral-intake":
            env.update(self._rm_env(p))
        if spec.name == "notify":
            env.update(self._gov_notify_env(p))
            env.update(self._rm_writeback_env(p))
        if self.otlp_endpoint:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.otlp_endpoint
            env["OTEL_BSP_SCHEDULE_DELAY"] = "200"
        env.update({k.replace("*_", p): v for k, v in self.service_env.items()})
        return env

    async def token(self, client_id: str, audience: str | None = None) -> str:
        """A bearer token for a demo client (client credentials grant)."""
        form = {"grant_type": "client_credentials"}
        if audience:
            form["audience"] = audience
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{self.url('issuer')}/oauth2/token",
                data=form,
                auth=(client_id, self.secret(client_id)),
            )
            response.raise_for_status()
            return str(response.json()["access_token"])

    def _log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    async def _ensure_database(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.postgres.admin_dsn)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()

    def _issuer_argv(self) -> list[str]:
        clients_file = self.root / "clients.json"
        return [
            sys.executable,
            "-m",
            "gmirs_runtime.local.issuer",
            *("--port", str(self.ports.issuer), "--clients-file", str(clients_file)),
            *("--key-file", str(self.root / "issuer-key.pem")),
        ]

    async def _start(
        self, name: str, argv: list[str], env: dict[str, str], port: int, health: str = "/health"
    ) -> None:
        process = ManagedProcess(name, argv, log_path=self._log(name), env=env, cwd=REPO_ROOT)
        self.processes[name] = process
        process.start()
        await process.wait_ready(lambda: _healthy(port, health), timeout=60)

    async def _migrate(self, spec: ServiceSpec) -> None:
        process = ManagedProcess(
            f"{spec.name}-migrate",
            [sys.executable, "-m", spec.module, "migrate"],
            log_path=self._log(f"{spec.name}-migrate"),
            env=self.env_for(spec),
            cwd=REPO_ROOT,
        )
        process.start()
        code = await process.wait_exit(120)
        if code is None:
            await process.stop()
        if code != 0:
            raise RuntimeError(f"{spec.name} migrations failed:\n{process.log_tail()}")

    async def _start_demo_probation(self) -> None:
        """A fake probation system subscribed to notify, so non-attendance has somewhere to go."""
        argv = [
            sys.executable,
            *("-m", "tests.fakes.probation_system"),
            *("--port", str(self.ports.probation), "--secret", "whsec_" + "A" * 32),
        ]
        await self._start("probation-system", argv, {}, self.ports.probation, "/_control/health")
        self.probation_secret = await self.subscribe(f"{self.url('probation')}/webhooks/gmirs")
        async with httpx.AsyncClient() as http:
            await http.post(
                f"{self.url('probation')}/_control/secrets",
                json={"secrets": [self.probation_secret]},
            )

    async def subscribe(self, url: str) -> str:
        """Register a webhook endpoint with notify as the operator; returns its signing secret."""
        token = await self.token("operator")
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{self.url('notify')}/subscriptions",
                json={
                    "url": url,
                    "description": "demo probation system",
                    "event_types": ["non-attendance.recorded"],
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return str(body["secret"])


async def _healthy(port: int, path: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1.0) as http:
            response = await http.get(f"http://{LOCAL}:{port}{path}")
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def describe(stack: LocalStack) -> str:
    """What a developer needs on one screen: every URL and the demo credentials."""
    lines = ["GMIRS Connect is running:", ""]
    for spec in SERVICES:
        url = stack.url(spec.port_field)
        lines.append(f"  {spec.name:<16} {url}   docs: {url}/docs")
    lines += [
        f"  {'oauth2 issuer':<16} {stack.url('issuer')}   token: {stack.url('issuer')}/oauth2/token",
        f"  {'postgresql':<16} {stack.database_url}",
        f"  {'kafka (tansu)':<16} {stack.broker.bootstrap}",
    ]
    if stack.aws is not None:
        lines.append(
            f"  {'R&M simulator':<16} {stack.url('rm')}   scenarios: {stack.url('rm')}/_control/referrals"
        )
        lines.append(
            f"  {'AWS (moto)':<16} {stack.aws.endpoint_url}   queue: {stack.aws.queue_url}"
        )
    lines.append(
        f"  {'GOV.UK Notify':<16} {stack.url('gov_notify')}   sent: {stack.url('gov_notify')}/_control/notifications"
    )
    if stack.demo_probation:
        lines.append(f"  {'probation (demo)':<16} {stack.url('probation')}/_control/deliveries")
    lines += ["", "Demo clients (client credentials grant, HTTP Basic):"]
    for client in stack.clients:
        extra = f" hub={client['claims']['hub_id']}" if client.get("claims") else ""
        lines.append(
            f"  {client['client_id']:<16} {client['client_secret']}  roles={','.join(client['roles'])}{extra}"
        )
    lines += [
        "",
        f"Logs: {stack.root / 'logs'}   Secrets: {stack.root / 'clients.json'}",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def dump_clients(stack: LocalStack) -> str:
    return json.dumps(stack.clients, indent=2)

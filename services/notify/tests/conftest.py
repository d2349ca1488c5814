"""notify on real parts: PostgreSQL, the broker, a local OAuth2 issuer and fake probation systems.

Every server here is real HTTP on a loopback port inside the test's event loop, and every one is
stopped when its fixture ends. Each test gets its own database, case topic and consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from starlette.types import ASGIApp

from gmirs_contracts import examples
from gmirs_notify.adapters.events import ATTENDANCE_RECORDED
from gmirs_notify.bootstrap import MIGRATIONS, Wiring, build
from gmirs_notify.domain.deadline import RetrySchedule
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.bootstrap import Infrastructure
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.local.issuer import JWKS_PATH, TOKEN_PATH, IssuerClient, create_issuer_app
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.migrations import upgrade
from gmirs_runtime.service import serve
from gmirs_runtime.testing.kafka import eventually
from tests.fakes.probation_system import WEBHOOK_PATH, ProbationSystem, create_app

SCHEMA = "notify"
AUDIENCE = "gmirs-notify"
OPERATOR, PROBATION_A, PROBATION_B, HUB = "operator-1", "probation-a", "probation-b", "hub-bolton"
ROLES = {
    OPERATOR: ("operator",),
    PROBATION_A: ("probation-system",),
    PROBATION_B: ("probation-system",),
    HUB: ("hub",),
}
FAST = RetrySchedule(delays=(timedelta(0),), then_every=timedelta(milliseconds=50))
PLACEHOLDER_SECRET = "whsec_" + "A" * 44


class _Server(uvicorn.Server):
    """uvicorn without signal capture: the test owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@asynccontextmanager
async def serving(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 in this event loop; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = _Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # surface a startup failure
        return server.started

    try:
        await eventually(started, timeout=10, what="uvicorn started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@dataclass
class Issuer:
    url: str
    http: httpx.AsyncClient

    async def headers(self, client_id: str) -> dict[str, str]:
        """Authorization headers with a fresh access token for `client_id`."""
        response = await self.http.post(
            self.url + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=(client_id, f"{client_id}-secret"),
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="session")
async def issuer() -> AsyncIterator[Issuer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    clients = [IssuerClient(cid, f"{cid}-secret", roles, AUDIENCE) for cid, roles in ROLES.items()]
    app = create_issuer_app(issuer_url=url, clients=clients, token_ttl_seconds=3600)
    async with serving(app, port), httpx.AsyncClient() as http:
        yield Issuer(url, http)


@pytest.fixture
async def notify_db(database_url: str) -> str:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA)
    return database_url


@pytest.fixture
def settings(notify_db: str, kafka_broker: Any, issuer: Issuer) -> NotifySettings:
    return NotifySettings(
        environment="test",
        database_url=notify_db,
        kafka_bootstrap_servers=kafka_broker.bootstrap,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=300,
        kafka_fetch_max_wait_ms=20,
        auth_issuer=issuer.url,
        auth_jwks_url=issuer.url + JWKS_PATH,
        http_port=free_port(),
        # Long on purpose: a delivery that arrives fast was woken by NOTIFY, not by polling.
        dispatch_poll_seconds=30,
        webhook_timeout_seconds=5,
    )


@pytest.fixture
def wiring(unique_name: Callable[[str], str]) -> Wiring:
    return Wiring(
        schedule=FAST, case_topic=unique_name("case-events"), consumer_group=unique_name("notify")
    )


@dataclass
class Notify:
    """A running notify (API, consumer, dispatcher, relay) and ways to poke and inspect it."""

    infra: Infrastructure
    http: httpx.AsyncClient
    issuer: Issuer
    producer: AIOKafkaProducer | None = None
    topic: str = ""

    async def call(self, client_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = await self.issuer.headers(client_id)
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def subscribe(self, client_id: str, url: str) -> dict[str, Any]:
        response = await self.call(client_id, "POST", "/subscriptions", json={"url": url})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def publish(self, event: Event) -> None:
        assert self.producer is not None, "publishing needs the running service"
        await self.producer.send_and_wait(
            self.topic,
            key=event.key,
            value=orjson.dumps(dict(event.data)),
            headers=to_headers(event),
        )

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.infra.engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]

    async def delivery(self, case_id: uuid.UUID) -> dict[str, Any] | None:
        found = await self.rows("SELECT * FROM deliveries WHERE case_id = :c", c=case_id)
        return found[0] if found else None

    async def delivery_status(self, case_id: uuid.UUID, status: str) -> bool:
        row = await self.delivery(case_id)
        return row is not None and row["status"] == status


@pytest.fixture
async def api(settings: NotifySettings, wiring: Wiring, issuer: Issuer) -> AsyncIterator[Notify]:
    async with api_only(settings, wiring, issuer) as running:
        yield running


@asynccontextmanager
async def api_only(
    settings: NotifySettings, wiring: Wiring, issuer: Issuer
) -> AsyncIterator[Notify]:
    """The HTTP API alone, over httpx's ASGI transport (no workers started)."""
    service, infra = await build(settings, wiring)
    assert service.app is not None
    transport = httpx.ASGITransport(app=service.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as http:
            yield Notify(infra, http, issuer)
    finally:
        await infra.token_validator.aclose()
        await infra.engine.dispose()


@asynccontextmanager
async def running_notify(
    settings: NotifySettings, wiring: Wiring, issuer: Issuer
) -> AsyncIterator[Notify]:
    """The whole service in this loop, on a real port, consuming `wiring.case_topic`."""
    options = KafkaOptions(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="test")
    producer = create_producer(options)
    await producer.start()
    # Create the topic before the consumer subscribes (an ignored event type).
    warmup = Event(type="gmirs.case.case-opened.v1", source="/test", subject=uuid.uuid4(), data={})
    await producer.send_and_wait(
        wiring.case_topic, key=warmup.key, value=b"{}", headers=to_headers(warmup)
    )
    service, infra = await build(settings, wiring)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(service, host="127.0.0.1", port=settings.http_port, stop=stop, handle_signals=False)
    )
    base_url = f"http://127.0.0.1:{settings.http_port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as http:
            consumer = infra.consumers[0]
            await eventually(_assigned(consumer.assigned, task), timeout=30, what="consumer joined")
            yield Notify(infra, http, issuer, producer, wiring.case_topic)
    finally:
        stop.set()
        await asyncio.wait_for(task, 40)
        await producer.stop()


def _assigned(flag: asyncio.Event, task: asyncio.Task[None]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        if task.done():
            task.result()
        return flag.is_set()

    return check


@pytest.fixture
async def notify(settings: NotifySettings, wiring: Wiring, issuer: Issuer) -> AsyncIterator[Notify]:
    async with running_notify(settings, wiring, issuer) as running:
        yield running


@dataclass
class FakeEndpoint:
    url: str
    system: ProbationSystem

    def accepted(self, webhook_id: str | None = None) -> list[Any]:
        return [
            d for d in self.system.deliveries if d.accepted and webhook_id in (None, d.webhook_id)
        ]


@dataclass
class Fakes:
    started: list[contextlib.AbstractAsyncContextManager[str]] = field(default_factory=list)

    async def start(self, status_sequence: Sequence[int] = (), **behaviour: Any) -> FakeEndpoint:
        app = create_app([PLACEHOLDER_SECRET], status_sequence=status_sequence, **behaviour)
        server = serving(app)
        base_url = await server.__aenter__()
        self.started.append(server)
        return FakeEndpoint(base_url + WEBHOOK_PATH, app.state.probation)


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """Start fake probation systems on demand; all are stopped after the test."""
    started = Fakes()
    try:
        yield started
    finally:
        for server in reversed(started.started):
            await server.__aexit__(None, None, None)


def attendance_event(
    *,
    attended: str = "no",
    due_in: timedelta = timedelta(hours=23),
    traceparent: str | None = None,
) -> Event:
    """A fictional attendance-recorded event for a new case (non-attendance unless attended)."""
    now = datetime.now(UTC)
    missed = attended == "no"
    payload = examples.attendance_recorded().model_copy(
        update={
            "case_id": uuid.uuid4(),
            "appointment_id": uuid.uuid4(),
            "appointment_starts_at": now - timedelta(hours=2),
            "appointment_ends_at": now - timedelta(hours=1),
            "attended": attended,
            "session_happened": not missed,
            "non_attendance": missed,
            "recorded_at": now,
            "report_due_by": now + due_in,
        }
    )
    return Event(
        type=ATTENDANCE_RECORDED,
        source="/gmirs/case",
        subject=payload.case_id,
        data=payload.to_data(),
        traceparent=traceparent,
    )

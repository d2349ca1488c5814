"""Running notify and its neighbours in the test's event loop, on real loopback ports.

The service runs whole (API, consumer, dispatcher, relay) or as its API alone; fake probation
systems are real HTTP servers; everything started here is stopped when its block ends.
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
import uvicorn
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from starlette.types import ASGIApp

from gmirs_contracts import examples
from gmirs_notify.adapters.events import ATTENDANCE_RECORDED
from gmirs_notify.bootstrap import Wiring, build
from gmirs_notify.domain.deadline import RetrySchedule
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.bootstrap import Infrastructure
from gmirs_runtime.eventing.envelope import Event, to_headers
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.local.ports import free_port
from gmirs_runtime.service import serve
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually
from tests.fakes.probation_system import WEBHOOK_PATH, ProbationSystem, create_app

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


@dataclass
class Notify:
    """A notify under test and ways to call, feed and inspect it."""

    infra: Infrastructure[Any]
    http: httpx.AsyncClient
    issuer: TestIssuer
    producer: AIOKafkaProducer | None = None
    topic: str = ""

    async def call(self, client_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = self.issuer.mint(client_id, ROLES[client_id], AUDIENCE)
        headers = {"Authorization": f"Bearer {token}"}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def subscribe(self, client_id: str, url: str) -> dict[str, Any]:
        response = await self.call(client_id, "POST", "/subscriptions", json={"url": url})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def publish(self, event: Event, topic: str | None = None) -> None:
        """Publish on the case topic (or `topic`, e.g. the intake topic)."""
        assert self.producer is not None, "publishing needs the running service"
        value = orjson.dumps(dict(event.data))
        await self.producer.send_and_wait(
            topic or self.topic, key=event.key, value=value, headers=to_headers(event)
        )

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.infra.engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]

    async def delivery(self, case_id: uuid.UUID) -> dict[str, Any] | None:
        found = await self.rows("SELECT * FROM deliveries WHERE case_id = :c", c=case_id)
        return found[0] if found else None

    async def report(self, case_id: uuid.UUID) -> list[dict[str, Any]]:
        """The case's reports, each with its attempts (oldest first)."""
        found = await self.rows("SELECT * FROM reports WHERE case_id = :c", c=case_id)
        for report in found:
            report["attempts"] = await self.rows(
                "SELECT * FROM report_attempts WHERE report_id = :r ORDER BY seq", r=report["id"]
            )
        return found

    async def published(self, ce_type: str, case_id: uuid.UUID) -> list[dict[str, Any]]:
        """Payloads of `ce_type` notify wrote to its outbox for the case."""
        rows = await self.rows(
            "SELECT payload FROM outbox WHERE type = :t AND payload->>'case_id' = :c",
            t=ce_type,
            c=str(case_id),
        )
        return [row["payload"] for row in rows]

    async def delivery_status(self, case_id: uuid.UUID, status: str) -> bool:
        row = await self.delivery(case_id)
        return row is not None and row["status"] == status


@asynccontextmanager
async def api_only(
    settings: NotifySettings, wiring: Wiring, issuer: TestIssuer
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
    settings: NotifySettings, wiring: Wiring, issuer: TestIssuer
) -> AsyncIterator[Notify]:
    """The whole service, consuming `wiring.case_topic`, its API on `settings.http_port`."""
    options = KafkaOptions(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="test")
    producer = create_producer(options)
    await producer.start()
    # Create the topics before the consumer subscribes (with an event type notify ignores).
    warmup = Event(type="gmirs.test.warmup.v1", source="/test", subject=uuid.uuid4(), data={})
    for topic in (wiring.case_topic, wiring.intake_topic):
        await producer.send_and_wait(topic, key=warmup.key, value=b"{}", headers=to_headers(warmup))
    service, infra = await build(settings, wiring)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(service, host="127.0.0.1", port=settings.http_port, stop=stop, handle_signals=False)
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.http_port}") as http:
            joined = _set_or_crashed(infra.consumers[0].assigned, task)
            await eventually(joined, timeout=30, what="consumer joined")
            yield Notify(infra, http, issuer, producer, wiring.case_topic)
    finally:
        stop.set()
        await asyncio.wait_for(task, 40)
        await producer.stop()


def _set_or_crashed(flag: asyncio.Event, task: asyncio.Task[None]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        if task.done():
            task.result()  # a crashed service fails the test at once
        return flag.is_set()

    return check


class _Server(uvicorn.Server):
    """uvicorn without signal capture: the test owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port in this event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = _Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()
        return server.started

    try:
        await eventually(started, timeout=10, what="uvicorn started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@dataclass
class FakeEndpoint:
    url: str
    system: ProbationSystem

    def accepted(self, webhook_id: str | None = None) -> list[Any]:
        found = self.system.deliveries
        return [d for d in found if d.accepted and webhook_id in (None, d.webhook_id)]


@dataclass
class Fakes:
    """Fake probation systems started on demand (secrets are set once a subscription exists)."""

    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def start(self, status_sequence: Sequence[int] = (), **behaviour: Any) -> FakeEndpoint:
        app = create_app([PLACEHOLDER_SECRET], status_sequence=status_sequence, **behaviour)
        base_url = await self.stack.enter_async_context(serving(app))
        return FakeEndpoint(base_url + WEBHOOK_PATH, app.state.probation)


class ShiftedClock:
    """Wall time moved forward on demand: notify runs as usual and a test jumps ahead hours."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


def attendance_event(
    *,
    attended: str = "no",
    due_in: timedelta = timedelta(hours=23),
    traceparent: str | None = None,
    **changes: Any,
) -> Event:
    """A fictional attendance-recorded event for a new case (a non-attendance unless attended);
    `changes` replace payload fields (`case_id`, `source`, `rm_appointment_id`...)."""
    now = datetime.now(UTC)
    missed = attended == "no"
    due = now + due_in
    payload = examples.attendance_recorded().model_copy(
        update={
            "case_id": uuid.uuid4(),
            "appointment_id": uuid.uuid4(),
            "appointment_starts_at": due - timedelta(hours=25),
            "appointment_ends_at": due - timedelta(hours=24),
            "attended": attended,
            "session_happened": not missed,
            "non_attendance": missed,
            "recorded_at": now,
            "report_due_by": due,
        }
        | changes
    )
    return Event(
        type=ATTENDANCE_RECORDED.ce_type,
        source="/gmirs/case",
        subject=payload.case_id,
        data=payload.to_data(),
        traceparent=traceparent,
    )

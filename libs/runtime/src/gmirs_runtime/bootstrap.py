"""The parts every service process wires the same way, built from its settings in one place.

A service's own bootstrap adds its routers, consumers and workers; nothing here is created at
import time, and tests build the same parts from their own settings.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Generic, overload

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gmirs_runtime.auth import TokenValidator
from gmirs_runtime.db import EventQueue, UnitOfWork, asyncpg_dsn, create_engine
from gmirs_runtime.eventing.api import dead_letter_router, parked_outbox_router
from gmirs_runtime.eventing.consumer import ConsumerMember, EventConsumer
from gmirs_runtime.eventing.errors import EventTooLargeError
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.eventing.operations import DeadLetterOperations, Subscription
from gmirs_runtime.eventing.parked import ParkedOutbox
from gmirs_runtime.eventing.relay import OutboxRelay
from gmirs_runtime.eventing.subscriptions import Handles, U
from gmirs_runtime.http import create_app
from gmirs_runtime.limits import RateLimiter
from gmirs_runtime.precompiled import DirectConnections
from gmirs_runtime.problems import problem_response, problem_type
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings


class ConsumerAfterBuildError(RuntimeError):
    """A consumer registered after `service()` would never run; register consumers first."""


@dataclass
class Infrastructure(Generic[U]):
    """Database, broker and identity clients of one process.

    `unit_of_work_type` is the service's unit of work (the runtime's, or a subclass that carries
    the service's repositories); handlers, routes and workers all get one of that type.
    """

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    kafka: KafkaOptions
    producer: AIOKafkaProducer
    token_validator: TokenValidator
    unit_of_work_type: type[U]
    consumers: list[ConsumerMember] = field(default_factory=list)
    built: bool = False

    @property
    def source(self) -> str:
        """The CloudEvents `source` of everything this service publishes."""
        return f"/gmirs/{self.settings.service_name}"

    async def ready(self) -> bool:
        """Readiness: the database answers (the broker is checked by the clients themselves)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError):
            return False
        return True

    def unit_of_work(self) -> U:
        return self.unit_of_work_type(
            self.sessions, source=self.source, max_event_bytes=self.kafka.max_request_size
        )

    def events(self) -> EventQueue:
        """A queue of events for a write that goes past the unit of work (`DirectConnections`)."""
        return EventQueue(source=self.source, max_event_bytes=self.kafka.max_request_size)

    def consumer(
        self,
        *,
        group: str,
        topics: Sequence[str],
        subscriptions: Sequence[Handles[Any, U]],
    ) -> EventConsumer[U]:
        """Register a consumer group member; ConsumerAfterBuildError once `service()` ran."""
        consumer = EventConsumer(
            group=group,
            topics=list(topics),
            subscriptions=list(subscriptions),
            unit_of_work=self.unit_of_work,
            kafka=self.kafka,
            producer=self.producer,
        )
        self.register(consumer)
        return consumer

    def register(self, member: ConsumerMember) -> None:
        """Run `member` with the service (a batch consumer, or one a service wraps itself)."""
        if self.built:
            raise ConsumerAfterBuildError(
                f"consumer {member.group!r} registered after the service was built: it would never run"
            )
        self.consumers.append(member)

    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            dsn=asyncpg_dsn(self.settings.database_url.get_secret_value()),
            schema=self.settings.database_schema,
            producer=self.producer,
        )

    def dead_letters(self) -> DeadLetterOperations:
        """Operator actions over the dead letters of every consumer registered so far."""
        subscriptions = [Subscription(t, c.group) for c in self.consumers for t in c.topics]
        return DeadLetterOperations(
            bootstrap=self.kafka.bootstrap_servers,
            subscriptions=subscriptions,
            sessions=self.sessions,
            producer=lambda: self.producer,
        )

    def service(self, app_name: str) -> Service:
        """A Service running the relay and every registered consumer, closing clients on stop."""
        self.built = True
        service = Service(name=app_name)
        service.workers["relay"] = self.relay().run
        for consumer in self.consumers:
            service.workers[consumer_worker(consumer.group)] = consumer.run
        service.on_start.append(self.producer.start)
        service.on_stop.extend(
            [self.engine.dispose, self.token_validator.aclose, self.producer.stop]
        )
        return service


def consumer_worker(group: str) -> str:
    """The name of the service's worker that runs its member of consumer group `group`."""
    return f"consumer:{group}"


@overload
def build_infrastructure(
    settings: ServiceSettings,
    *,
    tenant_claim: str | None = None,
    tenant_roles: Collection[str] = (),
    known_tenants: Collection[str] | None = None,
) -> Infrastructure[UnitOfWork]: ...


@overload
def build_infrastructure(
    settings: ServiceSettings,
    *,
    unit_of_work: type[U],
    tenant_claim: str | None = None,
    tenant_roles: Collection[str] = (),
    known_tenants: Collection[str] | None = None,
) -> Infrastructure[U]: ...


def build_infrastructure(
    settings: ServiceSettings,
    *,
    unit_of_work: type[Any] = UnitOfWork,
    tenant_claim: str | None = None,
    tenant_roles: Collection[str] = (),
    known_tenants: Collection[str] | None = None,
) -> Infrastructure[Any]:
    """Create (not connect) the clients; call inside the event loop that will run them.

    `unit_of_work` is the service's UnitOfWork subclass (its repositories), if it has one.
    """
    kafka = KafkaOptions(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        enable_idempotence=settings.kafka_enable_idempotence,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_request_size=settings.kafka_max_request_size,
    )
    engine = create_engine(
        settings.database_url.get_secret_value(),
        schema=settings.database_schema,
        application_name=settings.service_name,
        pool_size=settings.database_pool_size,
    )
    return Infrastructure(
        settings=settings,
        engine=engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        kafka=kafka,
        producer=create_producer(kafka),
        token_validator=TokenValidator(
            settings.auth_issuer,
            settings.auth_audience,
            settings.auth_jwks_url,
            tenant_claim=tenant_claim,
            tenant_roles=tenant_roles,
            known_tenants=known_tenants,
            max_lifetime_seconds=settings.auth_max_token_lifetime_seconds,
        ),
        unit_of_work_type=unit_of_work,
    )


def create_service_app(
    infra: Infrastructure[Any] | None,
    *,
    distribution: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
) -> FastAPI:
    """A service's API with the operators' dead-letter and parked-outbox routes; `infra` None builds it for OpenAPI export."""
    app = create_app(
        title=title,
        version=version(distribution),
        description=description,
        settings=infra.settings if infra else None,
        routers=[*routers, dead_letter_router(), parked_outbox_router()],
        token_validator=infra.token_validator if infra else None,
        readiness=infra.ready if infra else None,
    )
    app.add_exception_handler(EventTooLargeError, _event_too_large)
    if infra:
        app.state.rate_limiter = RateLimiter(
            infra.settings.rate_limit_per_second, infra.settings.rate_limit_burst
        )
        app.state.unit_of_work = infra.unit_of_work
        app.state.direct_connections = DirectConnections(infra.engine)
        app.state.events = infra.events
        app.state.dead_letters = infra.dead_letters()
        app.state.parked_outbox = ParkedOutbox(infra.sessions)
    return app


EVENT_TOO_LARGE = problem_type("event-too-large")


async def _event_too_large(request: Request, exc: Exception) -> Response:
    """413: the request would publish an event the broker cannot take; nothing was committed."""
    limit = exc.limit if isinstance(exc, EventTooLargeError) else None
    return problem_response(
        413,
        detail="The request is too large to be recorded and published; nothing was saved.",
        type=EVENT_TOO_LARGE,
        extra={"limit_bytes": limit},
    )

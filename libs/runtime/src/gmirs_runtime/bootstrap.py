"""The parts every service process wires the same way, built from its settings in one place.

A service's own bootstrap adds its routers, consumers and workers; nothing here is created at
import time, and tests build the same parts from their own settings.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gmirs_runtime.auth import TokenValidator
from gmirs_runtime.db import UnitOfWork, asyncpg_dsn, create_engine
from gmirs_runtime.eventing.api import dead_letter_router, parked_outbox_router
from gmirs_runtime.eventing.consumer import EventConsumer, Handler
from gmirs_runtime.eventing.errors import EventTooLargeError
from gmirs_runtime.eventing.kafka import KafkaOptions, create_producer
from gmirs_runtime.eventing.operations import DeadLetterOperations, Subscription
from gmirs_runtime.eventing.parked import ParkedOutbox
from gmirs_runtime.eventing.relay import OutboxRelay
from gmirs_runtime.http import create_app
from gmirs_runtime.limits import RateLimiter
from gmirs_runtime.problems import problem_response, problem_type
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings


@dataclass
class Infrastructure:
    """Database, broker and identity clients of one process."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    kafka: KafkaOptions
    producer: AIOKafkaProducer
    token_validator: TokenValidator
    consumers: list[EventConsumer] = field(default_factory=list)

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

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self.sessions, source=self.source, max_event_bytes=self.kafka.max_request_size
        )

    def consumer(
        self, *, group: str, topics: Sequence[str], handlers: Mapping[str, Handler]
    ) -> EventConsumer:
        consumer = EventConsumer(
            group=group,
            topics=list(topics),
            handlers=handlers,
            unit_of_work=self.unit_of_work,
            kafka=self.kafka,
            producer=self.producer,
        )
        self.consumers.append(consumer)
        return consumer

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
        service = Service(name=app_name)
        service.workers["relay"] = self.relay().run
        for consumer in self.consumers:
            service.workers[f"consumer:{consumer.group}"] = consumer.run
        service.on_start.append(self.producer.start)
        service.on_stop.extend(
            [self.engine.dispose, self.token_validator.aclose, self.producer.stop]
        )
        return service


def build_infrastructure(
    settings: ServiceSettings,
    *,
    tenant_claim: str | None = None,
    tenant_roles: Collection[str] = (),
    known_tenants: Collection[str] | None = None,
) -> Infrastructure:
    """Create (not connect) the clients; call inside the event loop that will run them."""
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
    )


def create_service_app(
    infra: Infrastructure | None,
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

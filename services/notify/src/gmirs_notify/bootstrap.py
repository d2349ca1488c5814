"""The composition root: the only place that turns settings into a running notify service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_contracts import case
from gmirs_contracts import case_lifecycle as lifecycle
from gmirs_contracts import case_needs as needs
from gmirs_contracts.registry import contract_for
from gmirs_notify.adapters.events import ATTENDANCE_RECORDED
from gmirs_notify.adapters.sender import WebhookSender
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.deadline import RetrySchedule
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.entrypoints import api, deliveries, endpoints
from gmirs_notify.entrypoints.dispatcher import Dispatcher
from gmirs_notify.handlers import case_facts, case_progress
from gmirs_notify.handlers.deliver import Deliverer
from gmirs_notify.handlers.record_non_attendance import NonAttendanceRecorder
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.db import asyncpg_dsn
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = "notify"
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class Wiring:
    """Choices that tests and benchmarks may change; a deployment uses the defaults."""

    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    target_policy: TargetPolicy | None = None
    """None: derived from the settings (production refuses private targets)."""
    case_topic: str = case.TOPIC
    consumer_group: str = CONSUMER_GROUP


def create_notify_app(
    infra: Infrastructure[NotifyUnitOfWork] | None,
    policy: TargetPolicy | None,
    sender: WebhookSender | None = None,
) -> FastAPI:
    app = create_service_app(
        infra,
        distribution="gmirs-notify",
        title="GMIRS Connect: notify",
        description="Webhook subscriptions for probation systems, and the 24-hour report record.",
        routers=[api.router, endpoints.router, deliveries.router],
    )
    if infra:
        app.state.target_policy = policy
        app.state.webhook_sender = sender
    return app


async def build(
    settings: ServiceSettings, wiring: Wiring | None = None
) -> tuple[Service, Infrastructure[NotifyUnitOfWork]]:
    if not isinstance(settings, NotifySettings):
        raise TypeError("notify needs NotifySettings")
    wiring = wiring or Wiring()
    infra = build_infrastructure(settings, unit_of_work=NotifyUnitOfWork)
    infra.consumer(
        group=wiring.consumer_group,
        topics=[wiring.case_topic],
        subscriptions=_handles(settings),
    )
    policy = wiring.target_policy or settings.target_policy()
    sender = WebhookSender(policy=policy, timeout_seconds=settings.webhook_timeout_seconds)
    service = infra.service("notify")
    service.workers["dispatcher"] = _dispatcher(settings, infra, sender, wiring).run
    service.on_stop.append(sender.aclose)
    service.app = create_notify_app(infra, policy, sender)
    return service, infra


def _handles(settings: NotifySettings) -> list[Handles[Any, NotifyUnitOfWork]]:
    """Non-attendance reports, consent-gated case progress, and the case facts they need."""
    return [
        Handles(ATTENDANCE_RECORDED, NonAttendanceRecorder(settings.rm_ui_base_url)),
        Handles(contract_for(lifecycle.ActionPlanAgreed), case_progress.action_plan_agreed),
        Handles(contract_for(lifecycle.CaseClosed), case_progress.case_closed),
        Handles(contract_for(case.CaseOpened), case_facts.remember_case),
        Handles(contract_for(case.AppointmentBooked), case_facts.remember_session),
        Handles(contract_for(needs.ConsentGiven), case_facts.remember_consent),
        Handles(contract_for(needs.ConsentWithdrawn), case_facts.forget_consent),
    ]


def _dispatcher(
    settings: NotifySettings,
    infra: Infrastructure[NotifyUnitOfWork],
    sender: WebhookSender,
    wiring: Wiring,
) -> Dispatcher:
    deadline = settings.deadline_policy(wiring.schedule)
    deliverer = Deliverer(sender=sender, unit_of_work=infra.unit_of_work, policy=deadline)
    return Dispatcher(
        dsn=asyncpg_dsn(settings.database_url.get_secret_value()),
        schema=settings.database_schema,
        unit_of_work=infra.unit_of_work,
        deliverer=deliverer,
        policy=deadline,
        lease=timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN,
        poll_seconds=settings.dispatch_poll_seconds,
        max_in_flight=settings.dispatch_max_in_flight,
    )


def openapi() -> dict[str, Any]:
    return create_notify_app(None, None).openapi()

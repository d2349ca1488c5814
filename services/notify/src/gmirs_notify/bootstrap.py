"""The composition root: the only place that turns settings into a running notify service."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_contracts import case
from gmirs_notify.adapters.events import ATTENDANCE_RECORDED
from gmirs_notify.adapters.gov_notify import GovNotifyClient
from gmirs_notify.adapters.sender import WebhookSender
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.deadline import RetrySchedule
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.entrypoints import api, deliveries, reports
from gmirs_notify.entrypoints.dispatcher import Dispatcher
from gmirs_notify.entrypoints.report_clock import ReportClock
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.deliver import Deliverer
from gmirs_notify.handlers.escalation import EscalationMailer, EscalationRecipients
from gmirs_notify.handlers.record_non_attendance import NonAttendanceRecorder
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.db import asyncpg_dsn
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)
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
    clock: Clock = utc_now
    """What time it is for reports and deliveries (tests move a fake one forward)."""


def create_notify_app(
    infra: Infrastructure[NotifyUnitOfWork] | None,
    policy: TargetPolicy | None,
    clock: Clock = utc_now,
) -> FastAPI:
    app = create_service_app(
        infra,
        distribution="gmirs-notify",
        title="GMIRS Connect: notify",
        description="Webhook subscriptions for probation systems, and the 24-hour report record.",
        routers=[api.router, deliveries.router, reports.router],
    )
    if infra:
        app.state.target_policy = policy
        app.state.clock = clock
    return app


async def build(
    settings: ServiceSettings, wiring: Wiring | None = None
) -> tuple[Service, Infrastructure[NotifyUnitOfWork]]:
    if not isinstance(settings, NotifySettings):
        raise TypeError("notify needs NotifySettings")
    wiring = wiring or Wiring()
    infra = build_infrastructure(settings, unit_of_work=NotifyUnitOfWork)
    recorder = NonAttendanceRecorder(policy=settings.report_policy(), clock=wiring.clock)
    infra.consumer(
        group=wiring.consumer_group,
        topics=[wiring.case_topic],
        subscriptions=[Handles(ATTENDANCE_RECORDED, recorder)],
    )
    policy = wiring.target_policy or settings.target_policy()
    sender = WebhookSender(policy=policy, timeout_seconds=settings.webhook_timeout_seconds)
    service = infra.service("notify")
    service.workers["dispatcher"] = _dispatcher(settings, infra, sender, wiring).run
    service.workers["report-clock"] = _report_clock(settings, infra, wiring).run
    service.on_stop.append(sender.aclose)
    service.app = create_notify_app(infra, policy, wiring.clock)
    return service, infra


def _dispatcher(
    settings: NotifySettings,
    infra: Infrastructure[NotifyUnitOfWork],
    sender: WebhookSender,
    wiring: Wiring,
) -> Dispatcher:
    deadline = settings.deadline_policy(wiring.schedule)
    deliverer = Deliverer(
        sender=sender, unit_of_work=infra.unit_of_work, policy=deadline, clock=wiring.clock
    )
    return Dispatcher(
        dsn=asyncpg_dsn(settings.database_url.get_secret_value()),
        schema=settings.database_schema,
        unit_of_work=infra.unit_of_work,
        deliverer=deliverer,
        policy=deadline,
        lease=timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_MARGIN,
        poll_seconds=settings.dispatch_poll_seconds,
        max_in_flight=settings.dispatch_max_in_flight,
        clock=wiring.clock,
    )


def _report_clock(
    settings: NotifySettings, infra: Infrastructure[NotifyUnitOfWork], wiring: Wiring
) -> ReportClock:
    return ReportClock(
        unit_of_work=infra.unit_of_work,
        policy=settings.report_policy(),
        poll_seconds=settings.report_clock_seconds,
        clock=wiring.clock,
        after_round=_escalation_mailer(settings, infra),
    )


def _escalation_mailer(
    settings: NotifySettings, infra: Infrastructure[NotifyUnitOfWork]
) -> EscalationMailer | None:
    """Escalation emails through GOV.UK Notify, when a key and a template are configured."""
    if settings.gov_notify_api_key is None or settings.escalation_template_id is None:
        log.warning("escalation emails are off: no GOV.UK Notify key or template configured")
        return None
    client = GovNotifyClient(
        api_key=settings.gov_notify_api_key.get_secret_value(),
        base_url=settings.gov_notify_base_url,
    )
    recipients = EscalationRecipients(
        lead_provider=settings.escalation_lead_provider_email,
        hub_contacts=settings.escalation_hub_contacts,
    )
    return EscalationMailer(
        client=client,
        template_id=settings.escalation_template_id,
        recipients=recipients,
        unit_of_work=infra.unit_of_work,
    )


def openapi() -> dict[str, Any]:
    return create_notify_app(None, None).openapi()

"""The composition root: the only place that turns settings into a running notify service."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from opentelemetry.metrics import MeterProvider

from gmirs_contracts import case, intake
from gmirs_contracts import case_appointments as appointments
from gmirs_contracts import case_lifecycle as lifecycle
from gmirs_contracts import case_needs as needs
from gmirs_contracts.hubs import HUB_IDS
from gmirs_contracts.registry import contract_for
from gmirs_notify.adapters.events import ATTENDANCE_RECORDED
from gmirs_notify.adapters.gov_notify import GovNotifyClient
from gmirs_notify.adapters.metrics import NotifyMetrics
from gmirs_notify.adapters.rm_client import RmFeedbackClient
from gmirs_notify.adapters.sender import WebhookSender
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.attendance_watch import WatchdogPolicy
from gmirs_notify.domain.deadline import RetrySchedule
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.entrypoints import (
    api,
    attendance_watches,
    deliveries,
    endpoints,
    manual_entries,
    reports,
)
from gmirs_notify.entrypoints.dispatcher import Dispatcher
from gmirs_notify.entrypoints.report_clock import AfterRound, ReportClock
from gmirs_notify.handlers import attendance_watchdog as watchdog
from gmirs_notify.handlers import case_facts, case_progress
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.deliver import Deliverer
from gmirs_notify.handlers.escalation import EscalationMailer, EscalationRecipients
from gmirs_notify.handlers.practitioner_email import PractitionerEmail
from gmirs_notify.handlers.practitioners import PractitionerRecorder
from gmirs_notify.handlers.record_non_attendance import NonAttendanceRecorder
from gmirs_notify.handlers.rm_writeback import RmWriteBack
from gmirs_notify.settings import DEFAULT_RM_UI_BASE_URL, NotifySettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.db import asyncpg_dsn
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = "notify"
HUB_CLAIM = "hub_id"
"""The token claim naming a hub user's hub (as case reads it): the manual-entry queue's tenant."""
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class Wiring:
    """Choices that tests and benchmarks may change; a deployment uses the defaults."""

    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    target_policy: TargetPolicy | None = None
    """None: derived from the settings (production refuses private targets)."""
    case_topic: str = case.TOPIC
    intake_topic: str = intake.TOPIC
    consumer_group: str = CONSUMER_GROUP
    clock: Clock = utc_now
    """What time it is for reports and deliveries (tests move a fake one forward)."""
    meter_provider: MeterProvider | None = None
    """Where notify's counters go (None: the process's global provider; tests read their own)."""


def create_notify_app(
    infra: Infrastructure[NotifyUnitOfWork] | None,
    policy: TargetPolicy | None,
    clock: Clock = utc_now,
    settings: NotifySettings | None = None,
    sender: WebhookSender | None = None,
) -> FastAPI:
    app = create_service_app(
        infra,
        distribution="gmirs-notify",
        title="GMIRS Connect: notify",
        description="Webhook subscriptions for probation systems, and the 24-hour report record.",
        routers=[
            api.router,
            endpoints.router,
            deliveries.router,
            reports.router,
            manual_entries.router,
            attendance_watches.router,
        ],
    )
    if infra:
        app.state.target_policy = policy
        app.state.clock = clock
        app.state.report_policy = settings.report_policy() if settings else ReportPolicy()
        app.state.watchdog_policy = settings.watchdog_policy() if settings else WatchdogPolicy()
        app.state.rm_ui_base_url = settings.rm_ui_base_url if settings else DEFAULT_RM_UI_BASE_URL
        app.state.webhook_sender = sender
    return app


async def build(
    settings: ServiceSettings, wiring: Wiring | None = None
) -> tuple[Service, Infrastructure[NotifyUnitOfWork]]:
    if not isinstance(settings, NotifySettings):
        raise TypeError("notify needs NotifySettings")
    wiring = wiring or Wiring()
    infra = build_infrastructure(
        settings,
        unit_of_work=_unit_of_work(wiring),
        tenant_claim=HUB_CLAIM,
        tenant_roles=(manual_entries.HUB,),
        known_tenants=HUB_IDS,
    )
    infra.consumer(
        group=wiring.consumer_group,
        topics=[wiring.case_topic, wiring.intake_topic],
        subscriptions=_handles(settings, wiring),
    )
    policy = wiring.target_policy or settings.target_policy()
    sender = WebhookSender(policy=policy, timeout_seconds=settings.webhook_timeout_seconds)
    service = infra.service("notify")
    service.workers["dispatcher"] = _dispatcher(settings, infra, sender, wiring).run
    service.workers["report-clock"] = _report_clock(settings, infra, wiring).run
    service.on_stop.append(sender.aclose)
    _add_rm_writeback(service, settings, infra, wiring)
    service.app = create_notify_app(infra, policy, wiring.clock, settings, sender)
    return service, infra


def _unit_of_work(wiring: Wiring) -> type[NotifyUnitOfWork]:
    if wiring.meter_provider is None:
        return NotifyUnitOfWork
    return NotifyUnitOfWork.measured_by(NotifyMetrics(wiring.meter_provider))


def _handles(settings: NotifySettings, wiring: Wiring) -> list[Handles[Any, NotifyUnitOfWork]]:
    """Non-attendance reports, the attendance watchdog, practitioners' addresses from intake,
    consent-gated case progress, and the case facts they need."""
    recorder = NonAttendanceRecorder(
        policy=settings.report_policy(), clock=wiring.clock, rm_ui_base_url=settings.rm_ui_base_url
    )
    return [
        Handles(ATTENDANCE_RECORDED, watchdog.clearing_the_watch(recorder)),
        Handles(contract_for(case.AppointmentBooked), watchdog.appointment_booked),
        Handles(
            contract_for(appointments.AppointmentRescheduled), watchdog.appointment_rescheduled
        ),
        Handles(contract_for(appointments.AppointmentCancelled), watchdog.appointment_cancelled),
        Handles(contract_for(intake.ReferralReceived), PractitionerRecorder(clock=wiring.clock)),
        Handles(contract_for(lifecycle.ActionPlanAgreed), case_progress.action_plan_agreed),
        Handles(contract_for(lifecycle.CaseClosed), case_progress.case_closed),
        Handles(contract_for(case.CaseOpened), case_facts.remember_case),
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


def _add_rm_writeback(
    service: Service,
    settings: NotifySettings,
    infra: Infrastructure[NotifyUnitOfWork],
    wiring: Wiring,
) -> None:
    """The R&M write-back worker, where R&M is configured (else reports go to manual entry)."""
    api, auth, client_id, secret = (
        settings.rm_api_url,
        settings.hmpps_auth_url,
        settings.rm_client_id,
        settings.rm_client_secret,
    )
    if not (api and auth and client_id and secret):
        log.warning("R&M write-back is off: R&M is not configured")
        return
    client = RmFeedbackClient(
        api_url=api,
        auth_url=auth,
        client_id=client_id,
        client_secret=secret.get_secret_value(),
        timeout=settings.rm_timeout_seconds,
    )
    worker = RmWriteBack(
        client=client,
        unit_of_work=infra.unit_of_work,
        policy=settings.report_policy(),
        poll_seconds=settings.rm_writeback_poll_seconds,
        lease=timedelta(seconds=3 * settings.rm_timeout_seconds) + LEASE_MARGIN,
        first_retry=timedelta(seconds=settings.rm_writeback_first_retry_seconds),
        clock=wiring.clock,
        listen=(asyncpg_dsn(settings.database_url.get_secret_value()), settings.database_schema),
    )
    service.workers["rm-writeback"] = worker.run
    service.on_stop.append(client.aclose)


def _report_clock(
    settings: NotifySettings, infra: Infrastructure[NotifyUnitOfWork], wiring: Wiring
) -> ReportClock:
    return ReportClock(
        unit_of_work=infra.unit_of_work,
        policy=settings.report_policy(),
        poll_seconds=settings.report_clock_seconds,
        clock=wiring.clock,
        after_round=[
            watchdog.AttendanceWatchdog(
                unit_of_work=infra.unit_of_work, policy=settings.watchdog_policy()
            ),
            *_notify_steps(settings, infra),
        ],
    )


def _notify_steps(
    settings: NotifySettings, infra: Infrastructure[NotifyUnitOfWork]
) -> list[AfterRound]:
    """GOV.UK Notify's parts: escalation emails, the report by email and the watchdog's
    warning to the hub, where configured."""
    if settings.gov_notify_api_key is None:
        log.warning("GOV.UK Notify is off: no key configured (no escalation or report emails)")
        return []
    client = GovNotifyClient(
        api_key=settings.gov_notify_api_key.get_secret_value(),
        base_url=settings.gov_notify_base_url,
    )
    steps: list[AfterRound] = []
    if settings.escalation_template_id is not None:
        steps.append(_escalation_mailer(settings, infra, client, settings.escalation_template_id))
    if settings.attendance_watchdog_template_id is not None:
        steps.append(
            watchdog.WatchdogMailer(
                client=client,
                template_id=settings.attendance_watchdog_template_id,
                recipients=_recipients(settings),
                unit_of_work=infra.unit_of_work,
            )
        )
    if settings.practitioner_template_id is not None:
        steps.append(
            PractitionerEmail(
                client=client,
                template_id=settings.practitioner_template_id,
                unit_of_work=infra.unit_of_work,
                policy=settings.report_policy(),
            )
        )
    return steps


def _escalation_mailer(
    settings: NotifySettings,
    infra: Infrastructure[NotifyUnitOfWork],
    client: GovNotifyClient,
    template_id: str,
) -> EscalationMailer:
    return EscalationMailer(
        client=client,
        template_id=template_id,
        recipients=_recipients(settings),
        unit_of_work=infra.unit_of_work,
    )


def _recipients(settings: NotifySettings) -> EscalationRecipients:
    return EscalationRecipients(
        lead_provider=settings.escalation_lead_provider_email,
        hub_contacts=settings.escalation_hub_contacts,
    )


def openapi() -> dict[str, Any]:
    return create_notify_app(None, None).openapi()

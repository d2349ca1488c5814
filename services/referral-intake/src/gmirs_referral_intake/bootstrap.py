"""The composition root: the only place that turns settings into a running intake service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints import api
from gmirs_referral_intake.entrypoints.rm_push import rm_routers
from gmirs_referral_intake.entrypoints.rm_wiring import RmReceiving
from gmirs_referral_intake.handlers.accept_referral import (
    Accepted,
    AcceptReferral,
    accept_referrals,
)
from gmirs_referral_intake.handlers.reconcile import Reconciler
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.group_commit import GroupCommit
from gmirs_runtime.leadership import sole_runner
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
RECONCILE_LOCK = "gmirs-intake:reconcile"


def create_intake_app(infra: Infrastructure[UnitOfWork] | None) -> FastAPI:
    """Every route is mounted even without R&M settings, so the OpenAPI document is complete."""
    app = create_service_app(
        infra,
        distribution="gmirs-referral-intake",
        title="GMIRS Connect: referral intake",
        description="Referrals in (Refer and Monitor and direct), validated, de-duplicated, published.",
        routers=[api.router, *rm_routers()],
    )
    if infra:
        settings = infra.settings
        assert isinstance(settings, IntakeSettings)
        routing = HubRouting(pdu_hubs=settings.pdu_hubs, contract_hubs=settings.contract_hubs)
        app.state.routing = routing
        app.state.accepting = direct_accepting(infra, routing, settings)
    return app


def direct_accepting(
    infra: Infrastructure[UnitOfWork], routing: HubRouting, settings: IntakeSettings
) -> api.DirectAccepting:
    """Direct referrals arriving together are committed together (one transaction per batch)."""

    async def write(
        uow: UnitOfWork, commands: Sequence[AcceptReferral]
    ) -> list[Accepted | Exception]:
        return await accept_referrals(commands, uow=uow, routing=routing)

    return GroupCommit(
        infra.unit_of_work,
        write,
        max_batch=settings.accept_batch_max,
        writers=settings.accept_writers,
    )


async def build(settings: ServiceSettings) -> tuple[Service, Infrastructure[UnitOfWork]]:
    if not isinstance(settings, IntakeSettings):
        raise TypeError("referral-intake needs IntakeSettings")
    infra = build_infrastructure(settings)
    service = infra.service("referral-intake")
    app = service.app = create_intake_app(infra)
    service.on_stop.insert(0, app.state.accepting.aclose)  # before the engine is disposed
    if settings.rm_configured:
        _wire_refer_and_monitor(settings, infra, service, app)
    return service, infra


def _wire_refer_and_monitor(
    settings: IntakeSettings, infra: Infrastructure[UnitOfWork], service: Service, app: FastAPI
) -> None:
    """R&M events in (SQS, SNS push, bare envelopes), retries, quarantine and reconciliation."""
    rm = RmApi.from_settings(settings)
    routing: HubRouting = app.state.routing
    receiving = RmReceiving.for_rm(
        settings, unit_of_work=infra.unit_of_work, rm=rm, routing=routing
    )
    receiving.install(app)
    service.workers.update(receiving.workers(sqs_pollers=settings.sqs_pollers))
    if settings.reconcile_enabled:
        reconciler = Reconciler(
            rm,
            infra.unit_of_work,
            routing,
            settings.reconcile_page_size,
            interval_seconds=settings.reconcile_interval_seconds,
            leadership=lambda: sole_runner(infra.engine, RECONCILE_LOCK),
        )
        service.workers["rm-reconcile"] = reconciler.run
    service.on_stop.extend([receiving.aclose, rm.aclose])


def openapi() -> dict[str, Any]:
    return create_intake_app(None).openapi()

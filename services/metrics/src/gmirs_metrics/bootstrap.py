"""The composition root: the only place that turns settings into a running metrics service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_contracts import intake
from gmirs_contracts.hubs import HUB_IDS
from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.registry import contract_for
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.entrypoints import api, kpis
from gmirs_metrics.projections.referrals import count_referral
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = "metrics"
HUB_CLAIM = "hub_id"


def create_metrics_app(infra: Infrastructure[MetricsUnitOfWork] | None) -> FastAPI:
    return create_service_app(
        infra,
        distribution="gmirs-metrics",
        title="GMIRS Connect: metrics",
        description="KPI read models rebuilt from the topics: the commissioners' figures.",
        routers=[api.router, kpis.router],
    )


async def build(settings: ServiceSettings) -> tuple[Service, Infrastructure[MetricsUnitOfWork]]:
    infra = build_infrastructure(
        settings,
        unit_of_work=MetricsUnitOfWork,
        # --- hub tenancy (metricskpi): a hub's token names its hub; GET /kpis shows it only that
        tenant_claim=HUB_CLAIM,
        tenant_roles=("hub",),
        known_tenants=HUB_IDS,
    )
    infra.consumer(
        group=CONSUMER_GROUP,
        topics=[intake.TOPIC],
        subscriptions=[Handles(contract_for(ReferralReceived), count_referral)],
    )
    service = infra.service("metrics")
    service.app = create_metrics_app(infra)
    # --- KPI readings (metricskpi): the settings choose where the specification allows two
    if isinstance(settings, MetricsSettings):
        service.app.state.kpi_readings = settings.kpi_readings()
    return service, infra


def openapi() -> dict[str, Any]:
    return create_metrics_app(None).openapi()

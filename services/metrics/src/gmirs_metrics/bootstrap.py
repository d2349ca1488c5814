"""The composition root: the only place that turns settings into a running metrics service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_contracts import intake
from gmirs_contracts.hubs import HUB_IDS
from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.registry import contract_for
from gmirs_metrics.adapters.indicator_figures import IndicatorFigures
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.figures import FiguresSource
from gmirs_metrics.entrypoints import activity, api, dashboard
from gmirs_metrics.projections.referrals import count_referral
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = "metrics"
FIRST_CONTACT_DAYS = 2
HUB_CLAIM = "hub_id"
"""The token claim naming a hub user's hub (as case reads it): provider activity's tenant."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_metrics_app(infra: Infrastructure[MetricsUnitOfWork] | None) -> FastAPI:
    return create_service_app(
        infra,
        distribution="gmirs-metrics",
        title="GMIRS Connect: metrics",
        description="KPI read models rebuilt from the topics: the commissioners' figures.",
        routers=[api.router, activity.router, dashboard.router],
    )


async def build(
    settings: ServiceSettings,
    *,
    figures: FiguresSource | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[Service, Infrastructure[MetricsUnitOfWork]]:
    """The service; `figures` feeds the dashboard (by default Appendix A and provider activity
    from this service's tables, until the KPI source is merged in)."""
    infra = build_infrastructure(
        settings,
        unit_of_work=MetricsUnitOfWork,
        tenant_claim=HUB_CLAIM,
        tenant_roles=(activity.HUB,),
        known_tenants=HUB_IDS,
    )
    infra.consumer(
        group=CONSUMER_GROUP,
        topics=[intake.TOPIC],
        subscriptions=[Handles(contract_for(ReferralReceived), count_referral)],
    )
    service = infra.service("metrics")
    service.app = create_metrics_app(infra)
    # metricsdash: the clock and the dashboard's figures
    service.app.state.clock = clock
    service.app.state.figures = figures or _indicator_figures(settings, infra, clock)
    return service, infra


def _indicator_figures(
    settings: ServiceSettings,
    infra: Infrastructure[MetricsUnitOfWork],
    clock: Callable[[], datetime],
) -> FiguresSource:
    days = (
        settings.indicator_first_contact_working_days
        if isinstance(settings, MetricsSettings)
        else FIRST_CONTACT_DAYS
    )
    return IndicatorFigures(infra.unit_of_work, first_contact_working_days=days, clock=clock)


def openapi() -> dict[str, Any]:
    return create_metrics_app(None).openapi()

"""The composition root: the only place that turns settings into a running metrics service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_contracts.hubs import HUB_IDS
from gmirs_metrics.adapters.pack_files import Packs
from gmirs_metrics.adapters.read_model_figures import ReadModelFigures
from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.domain.figures import FiguresSource
from gmirs_metrics.entrypoints import activity, api, dashboard, extracts, kpis, pack
from gmirs_metrics.projections.live import LiveProjection, projection_consumer
from gmirs_metrics.projections.project import GROUP, TOPICS
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.eventing.batch_consumer import BatchConsumer
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = GROUP
HUB_CLAIM = "hub_id"
"""The token claim naming a hub user's hub (as case reads it): the tenant of `GET /kpis` and
provider activity."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_metrics_app(infra: Infrastructure[MetricsUnitOfWork] | None) -> FastAPI:
    return create_service_app(
        infra,
        distribution="gmirs-metrics",
        title="GMIRS Connect: metrics",
        description="KPI read models rebuilt from the topics: the commissioners' figures.",
        routers=[
            api.router,
            kpis.router,
            activity.router,
            dashboard.router,
            pack.router,
            extracts.router,
        ],
    )


async def build(
    settings: ServiceSettings,
    *,
    figures: FiguresSource | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[Service, Infrastructure[MetricsUnitOfWork]]:
    """The service; `figures` is where the dashboard and the pack read a month's figures (by
    default from this service's read models; tests pass their own)."""
    if not isinstance(settings, MetricsSettings):
        raise TypeError("metrics needs MetricsSettings")
    infra = build_infrastructure(
        settings,
        unit_of_work=MetricsUnitOfWork,
        tenant_claim=HUB_CLAIM,
        tenant_roles=(activity.HUB,),
        known_tenants=HUB_IDS,
    )
    infra.register(live_projection(infra, settings))
    service = infra.service("metrics")
    service.app = create_metrics_app(infra)
    service.app.state.clock = clock
    readings = settings.kpi_readings()
    service.app.state.kpi_readings = readings
    source = figures or ReadModelFigures(
        infra.unit_of_work,
        readings=readings,
        first_contact_working_days=settings.indicator_first_contact_working_days,
        clock=clock,
    )
    service.app.state.figures = source
    service.app.state.packs = Packs(source, infra.unit_of_work, settings.suppression_threshold)
    return service, infra


# --- the projection (metricscore) ---
def live_projection(
    infra: Infrastructure[MetricsUnitOfWork], settings: MetricsSettings
) -> LiveProjection:
    """The batch projection of every topic, under the current generation's Kafka group."""

    def member(kafka_group: str) -> BatchConsumer[MetricsUnitOfWork]:
        return projection_consumer(infra, settings, kafka_group)

    return LiveProjection(
        GROUP, TOPICS, infra.engine, member, poll_seconds=settings.projection_poll_seconds
    )


def openapi() -> dict[str, Any]:
    return create_metrics_app(None).openapi()

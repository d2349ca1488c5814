"""The composition root: the only place that turns settings into a running metrics service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_metrics.adapters.unit_of_work import MetricsUnitOfWork
from gmirs_metrics.entrypoints import api
from gmirs_metrics.projections.live import LiveProjection, projection_consumer
from gmirs_metrics.projections.project import GROUP, TOPICS
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.eventing.batch_consumer import BatchConsumer
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = GROUP


def create_metrics_app(infra: Infrastructure[MetricsUnitOfWork] | None) -> FastAPI:
    return create_service_app(
        infra,
        distribution="gmirs-metrics",
        title="GMIRS Connect: metrics",
        description="KPI read models rebuilt from the topics: the commissioners' figures.",
        routers=[api.router],
    )


async def build(settings: ServiceSettings) -> tuple[Service, Infrastructure[MetricsUnitOfWork]]:
    infra = build_infrastructure(settings, unit_of_work=MetricsUnitOfWork)
    infra.register(live_projection(infra, _metrics_settings(settings)))
    service = infra.service("metrics")
    service.app = create_metrics_app(infra)
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


def _metrics_settings(settings: ServiceSettings) -> MetricsSettings:
    if not isinstance(settings, MetricsSettings):
        raise TypeError("the metrics service is built from MetricsSettings")
    return settings


def openapi() -> dict[str, Any]:
    return create_metrics_app(None).openapi()

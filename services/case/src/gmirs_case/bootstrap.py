"""The composition root: the only place that turns settings into a running case service."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_case.entrypoints import api
from gmirs_case.handlers.open_case import open_case
from gmirs_contracts import intake
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure
from gmirs_runtime.eventing.api import dead_letter_router
from gmirs_runtime.http import create_app
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = "case"
HUB_CLAIM = "hub_id"


def create_case_app(infra: Infrastructure | None) -> FastAPI:
    app = create_app(
        title="GMIRS Connect: case",
        version=version("gmirs-case"),
        description="The case record and its lifecycle: the API hub providers use.",
        settings=infra.settings if infra else None,
        routers=[api.router, dead_letter_router()],
        token_validator=infra.token_validator if infra else None,
        readiness=infra.ready if infra else None,
    )
    if infra:
        app.state.unit_of_work = infra.unit_of_work
        app.state.dead_letters = infra.dead_letters()
    return app


async def build(settings: ServiceSettings) -> tuple[Service, Infrastructure]:
    infra = build_infrastructure(settings, tenant_claim=HUB_CLAIM, tenant_roles=("hub",))
    infra.consumer(
        group=CONSUMER_GROUP,
        topics=[intake.TOPIC],
        handlers={"gmirs.intake.referral-received.v1": open_case},
    )
    service = infra.service("case")
    service.app = create_case_app(infra)
    return service, infra


def openapi() -> dict[str, Any]:
    return create_case_app(None).openapi()

"""The composition root: the only place that turns settings into a running intake service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints import api
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_intake_app(infra: Infrastructure | None) -> FastAPI:
    app = create_service_app(
        infra,
        distribution="gmirs-referral-intake",
        title="GMIRS Connect: referral intake",
        description="Referrals in (Refer and Monitor and direct), validated, de-duplicated, published.",
        routers=[api.router],
    )
    if infra:
        settings = infra.settings
        assert isinstance(settings, IntakeSettings)
        app.state.routing = HubRouting(
            pdu_hubs=settings.pdu_hubs, contract_hubs=settings.contract_hubs
        )
    return app


async def build(settings: ServiceSettings) -> tuple[Service, Infrastructure]:
    infra = build_infrastructure(settings)
    service = infra.service("referral-intake")
    service.app = create_intake_app(infra)
    return service, infra


def openapi() -> dict[str, Any]:
    return create_intake_app(None).openapi()

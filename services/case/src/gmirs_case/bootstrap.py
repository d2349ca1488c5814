"""The composition root: the only place that turns settings into a running case service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.entrypoints import (
    api,
    caseload,
    casework,
    consent,
    contacts,
    exit_survey,
    exit_survey_page,
    lifecycle,
    mitigations,
    onward_referrals,
    outcomes,
    people,
)
from gmirs_case.handlers import rm_progress
from gmirs_case.handlers.open_case import open_case
from gmirs_case.settings import CaseSettings
from gmirs_contracts import intake
from gmirs_contracts.hubs import HUB_IDS
from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.registry import contract_for
from gmirs_runtime.bootstrap import Infrastructure, build_infrastructure, create_service_app
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
CONSUMER_GROUP = "case"
HUB_CLAIM = "hub_id"


def create_case_app(infra: Infrastructure[CaseUnitOfWork] | None) -> FastAPI:
    return create_service_app(
        infra,
        distribution="gmirs-case",
        title="GMIRS Connect: case",
        description="The case record and its lifecycle: the API hub providers use.",
        routers=[
            caseload.router,
            api.router,
            people.router,
            casework.router,
            contacts.router,
            outcomes.router,
            consent.router,
            onward_referrals.router,
            exit_survey.router,
            exit_survey_page.router,
            lifecycle.router,
            mitigations.router,
        ],
    )


async def build(settings: ServiceSettings) -> tuple[Service, Infrastructure[CaseUnitOfWork]]:
    hubs = settings.hub_ids if isinstance(settings, CaseSettings) else HUB_IDS
    infra = build_infrastructure(
        settings,
        unit_of_work=CaseUnitOfWork,
        tenant_claim=HUB_CLAIM,
        tenant_roles=("hub",),
        known_tenants=hubs,
    )
    infra.consumer(
        group=CONSUMER_GROUP,
        topics=[intake.TOPIC],
        subscriptions=[
            Handles(contract_for(ReferralReceived), open_case),
            *rm_progress.subscriptions(),
        ],
    )
    service = infra.service("case")
    service.app = create_case_app(infra)
    return service, infra


def openapi() -> dict[str, Any]:
    return create_case_app(None).openapi()

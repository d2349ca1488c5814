"""Dependencies declared once: the caller's role and scope over hubs (and the unit of work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_runtime.auth import Principal, require_roles
from gmirs_runtime.deps import unit_of_work

HUB = "hub"
LEAD_PROVIDER = "lead-provider"
CaseWorker = Annotated[Principal, Depends(require_roles(HUB, LEAD_PROVIDER))]
UoW = Annotated[CaseUnitOfWork, Depends(unit_of_work)]
"""The request's unit of work (bootstrap makes the runtime build CaseUnitOfWork)."""


def hub_scope(principal: Principal) -> str | None:
    """The hub whose cases the caller may see: its own, or every hub for the lead provider."""
    if HUB in principal.roles:
        return principal.tenant_id
    return ALL_HUBS

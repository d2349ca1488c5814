"""Dependencies declared once: the caller's role and scope over hubs (and the unit of work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_runtime.auth import Principal, require_roles

HUB = "hub"
LEAD_PROVIDER = "lead-provider"
CaseWorker = Annotated[Principal, Depends(require_roles(HUB, LEAD_PROVIDER))]


def hub_scope(principal: Principal) -> str | None:
    """The hub whose cases the caller may see: its own, or every hub for the lead provider."""
    if HUB in principal.roles:
        return principal.tenant_id
    return ALL_HUBS

"""Dependencies declared once: the unit of work and the caller's scope over hubs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from gmirs_runtime.auth import Principal, require_roles
from gmirs_runtime.db import UnitOfWork

HUB = "hub"
LEAD_PROVIDER = "lead-provider"
OPERATOR = "operator"
ALL_HUBS = None


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    factory: Callable[[], UnitOfWork] = request.app.state.unit_of_work
    async with factory() as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(unit_of_work)]
CaseWorker = Annotated[Principal, Depends(require_roles(HUB, LEAD_PROVIDER))]


def hub_scope(principal: Principal) -> str | None:
    """The hub whose cases the caller may see: its own, or every hub for the lead provider."""
    if HUB in principal.roles:
        return principal.tenant_id
    return ALL_HUBS

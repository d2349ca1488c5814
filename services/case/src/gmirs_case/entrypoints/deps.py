"""Dependencies declared once: the caller's role and scope over hubs (and the unit of work)."""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gmirs_case.adapters.repository import ALL_HUBS
from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.settings import CaseSettings
from gmirs_contracts.hubs import HUB_IDS
from gmirs_runtime.auth import Principal, require_roles
from gmirs_runtime.db import EventQueue
from gmirs_runtime.deps import unit_of_work
from gmirs_runtime.precompiled import DirectConnections

HUB = "hub"
LEAD_PROVIDER = "lead-provider"
CaseWorker = Annotated[Principal, Depends(require_roles(HUB, LEAD_PROVIDER))]
UoW = Annotated[CaseUnitOfWork, Depends(unit_of_work)]
"""The request's unit of work (bootstrap makes the runtime build CaseUnitOfWork).

It lives until the answer is sent, but its connection does not: `commit()` hands the connection
back to the pool (the caseload, a case read and attendance take theirs from `Direct` instead).
Not `scope="function"`: the idempotency claim shares this unit of work through the runtime's own
dependency, and a different scope would give the claim a transaction of its own."""


async def direct_connections(request: Request) -> DirectConnections:
    """Connections past the unit of work (the app's bootstrap sets them).

    Async so FastAPI runs it inline; not a generator, so nothing is left to close."""
    reads: DirectConnections = request.app.state.direct_connections
    return reads


Direct = Annotated[DirectConnections, Depends(direct_connections)]
"""For a route whose statements go straight through asyncpg, past the unit of work, without a
transaction: the caseload and a case read (one statement each); recording attendance (a read,
then a write made only if the case is unchanged) takes `Writes`. A connection is checked out
for the statements only."""


@dataclass(frozen=True, slots=True)
class DirectWrites:
    """What a write past the unit of work needs: connections, and a new queue for its events on
    each attempt (a write that may be decided again). One dependency, not two: FastAPI solves
    each node on every request."""

    connections: DirectConnections
    new_events: Callable[[], EventQueue]


async def direct_writes(request: Request) -> DirectWrites:
    """From what the app's bootstrap set (`state.direct_connections`, `state.events`)."""
    state = request.app.state
    return DirectWrites(state.direct_connections, state.events)


Writes = Annotated[DirectWrites, Depends(direct_writes)]


def hub_scope(principal: Principal) -> str | None:
    """The hub whose cases the caller may see: its own, or every hub for the lead provider."""
    if HUB in principal.roles:
        return principal.tenant_id
    return ALL_HUBS


async def configured_hubs(request: Request) -> Set[str]:
    """The hubs this service is configured with (`CASE_HUB_IDS`), the same list its tokens are
    checked against; the contracts' list only when no settings are attached (OpenAPI export).
    Async so FastAPI runs it inline, not in a worker thread."""
    settings = getattr(request.app.state, "settings", None)
    return frozenset(settings.hub_ids if isinstance(settings, CaseSettings) else HUB_IDS)


KnownHubs = Annotated[Set[str], Depends(configured_hubs)]

"""Why the caller reads personal data (for the audit row), and what time it is (injectable)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_contracts.common import SINGLE_LINE_PATTERN
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal

SENSITIVE_NOTES = "sensitive-notes"
"""The role a hub caller needs (beside `hub`) to read its hub's sensitive notes."""


def utc_now() -> datetime:
    return datetime.now(UTC)


async def now(request: Request) -> datetime:
    """`app.state.clock()` when a test (or a replay tool) set one, else the wall clock.

    Async (though it awaits nothing) so FastAPI calls it inline: a plain `def` dependency is run
    in a worker thread, a thread hand-off per request that the caseload bench saw under load."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    return clock()


async def purpose(
    request: Request,
    x_purpose: Annotated[
        str | None,
        Header(
            max_length=200,
            pattern=SINGLE_LINE_PATTERN,
            description="Why the caller needs the data (audited); the route is recorded if absent.",
        ),
    ] = None,
) -> str:
    """The stated purpose, or the operation itself ("GET /cases/{case_id}/person").

    Async (though it awaits nothing) for the same reason as `now`: no worker thread per read."""
    if x_purpose and x_purpose.strip():
        return x_purpose.strip()
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


Now = Annotated[datetime, Depends(now)]
Purpose = Annotated[str, Depends(purpose)]


async def audit_case_access(
    session: AsyncSession, principal: Principal, action: str, case_id: uuid.UUID, why: str
) -> None:
    """The audit row for one access to a case's personal data (who, what, why; never the data)."""
    await audit.record(
        session,
        actor=principal.client_id,
        action=action,
        resource_type="case",
        resource_id=str(case_id),
        reason=why,
    )

"""The problems every case route answers the same way, and the audit row of a case access."""

from __future__ import annotations

import uuid

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_runtime import audit
from gmirs_runtime.auth import Principal
from gmirs_runtime.problems import Problem


def no_such_case() -> Problem:
    """Another hub's case answers exactly like a case that does not exist."""
    return Problem(404, detail="No such case.")


async def audited(
    uow: CaseUnitOfWork, principal: Principal, action: str, case_id: uuid.UUID
) -> None:
    """Record who read or changed a case's personal data (never the data itself)."""
    await audit.record(
        uow.session,
        actor=principal.client_id,
        action=action,
        resource_type="case",
        resource_id=str(case_id),
    )

"""The problems every case route answers the same way, and the audit row of a case access."""

from __future__ import annotations

import uuid

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.model import Case
from gmirs_case.entrypoints.deps import hub_scope
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


async def visible_case(uow: CaseUnitOfWork, principal: Principal, case_id: uuid.UUID) -> Case:
    """The case if the caller may see it, else the 404 a missing case gets."""
    case = await uow.cases.get(case_id, hub_id=hub_scope(principal))
    if case is None:
        raise no_such_case()
    return case

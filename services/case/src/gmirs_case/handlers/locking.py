"""Every command on a case starts here: the case row locked, within the caller's hubs."""

from __future__ import annotations

import uuid

from gmirs_case.adapters.unit_of_work import CaseUnitOfWork
from gmirs_case.domain.model import Case


class CaseNotFoundError(LookupError):
    """No case with that id is visible to the caller."""


async def locked_case(uow: CaseUnitOfWork, case_id: uuid.UUID, hub_id: str | None) -> Case:
    """Lock the case row so commands on one case apply (and publish) one after another."""
    case = await uow.cases.get(case_id, hub_id=hub_id, for_update=True)
    if case is None:
        raise CaseNotFoundError(str(case_id))
    return case

"""The case service's unit of work: the runtime's transaction, carrying the case repository.

Handlers and routes reach storage only through it (`uow.cases`), so none builds a repository
of its own; bootstrap hands this class to the runtime (cosmicpython's unit_of_work.py shape).
"""

from __future__ import annotations

from typing import Self

from gmirs_case.adapters.caseload import CaseloadRepository
from gmirs_case.adapters.repository import CaseRepository
from gmirs_runtime.db import UnitOfWork


class CaseUnitOfWork(UnitOfWork):
    cases: CaseRepository
    caseload: CaseloadRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.cases = CaseRepository(self.session)
        self.caseload = CaseloadRepository(self.session)
        return self

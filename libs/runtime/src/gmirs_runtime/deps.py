"""FastAPI dependencies every service shares, declared once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request

from gmirs_runtime.db import UnitOfWork


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work per request (the app's bootstrap sets `state.unit_of_work`).

    Routes commit explicitly; anything left uncommitted when the request ends is rolled back.
    """
    factory: Callable[[], UnitOfWork] = request.app.state.unit_of_work
    async with factory() as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]

"""A unit of work on real PostgreSQL: a lone read can skip the transaction block; steps run in
the transaction just before it commits."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gmirs_runtime.db import UnitOfWork

_XACT_ID = text("SELECT pg_current_xact_id()::text")


async def _in_own_transaction(uow: UnitOfWork) -> bool:
    """Whether each statement runs as its own transaction (outside a BEGIN ... block)."""
    first = await uow.session.scalar(_XACT_ID)
    return bool(first != await uow.session.scalar(_XACT_ID))


async def test_a_lone_read_runs_without_a_transaction_block(service_db) -> None:
    async with service_db.uow() as uow:
        await uow.read_without_transaction()
        assert await _in_own_transaction(uow)


async def test_a_unit_of_work_otherwise_opens_a_transaction_block(service_db) -> None:
    async with service_db.uow() as uow:
        assert not await _in_own_transaction(uow)


async def test_the_mode_must_be_chosen_before_the_first_statement(service_db) -> None:
    async with service_db.uow() as uow:
        await uow.session.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError):
            await uow.read_without_transaction()


async def test_the_connection_goes_back_to_the_pool_transactional(service_db) -> None:
    for _ in range(3):  # a pool of connections: whichever comes back must not stay in autocommit
        async with service_db.uow() as uow:
            await uow.read_without_transaction()
            await _in_own_transaction(uow)
    async with service_db.uow() as uow:
        assert not await _in_own_transaction(uow)


async def test_before_commit_steps_run_inside_the_transaction_and_not_after_a_rollback(
    service_db,
) -> None:
    seen: list[str] = []

    async def step(uow: UnitOfWork, name: str) -> None:
        seen.append(name)
        assert uow.session.in_transaction()
        seen.append(str(await uow.session.scalar(_XACT_ID)))

    async with service_db.uow() as uow:
        written = str(await uow.session.scalar(_XACT_ID))
        uow.before_commit(lambda: step(uow, "first"))
        uow.before_commit(lambda: step(uow, "second"))
        assert seen == []
        await uow.commit()
        assert seen == ["first", written, "second", written]  # in order, in the write's own
        await uow.commit()  # a step runs once
        assert len(seen) == 4
    async with service_db.uow() as uow:
        uow.before_commit(lambda: step(uow, "rolled back"))
        await uow.rollback()
        await uow.commit()
    assert "rolled back" not in seen

"""Precompiled reads on real PostgreSQL: each shape compiled once and bound by name, on
connections checked out of the engine's pool past SQLAlchemy's Session; a connection a read
left half-way is closed, not handed to the next read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, Select, Table, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gmirs_runtime.db import create_engine
from gmirs_runtime.precompiled import DirectConnections, Shapes, fetch


@pytest.fixture
async def engine(database_url) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        database_url, schema="public", application_name="precompiled-test", pool_size=1
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_shape_is_compiled_once_and_bound_by_name(engine) -> None:
    name = f"numbers_{uuid.uuid4().hex[:8]}"
    numbers = Table(name, MetaData(), Column("n", Integer))
    built: list[bool] = []

    def statement(even_only: bool) -> Select[tuple[int | None]]:
        built.append(even_only)
        query = select(numbers.c.n).where(numbers.c.n <= bindparam("top"))
        if even_only:
            query = query.where(numbers.c.n % 2 == 0)
        return query.order_by(numbers.c.n)

    shapes = Shapes(statement)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {name} AS SELECT generate_series(1, 10) AS n"))
    reads = DirectConnections(engine)
    for top, even_only, expected in (
        (5, True, [2, 4]),
        (3, False, [1, 2, 3]),
        (9, True, [2, 4, 6, 8]),
    ):
        async with reads.connection() as connection:
            rows = await fetch(connection, shapes[even_only], {"top": top, "unused": 1})
            assert [row["n"] for row in rows] == expected
    assert built == [True, False]  # two shapes, each built once


async def _backend(reads: DirectConnections) -> int:
    async with reads.connection() as connection:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def test_a_refused_statement_keeps_its_connection_a_cancelled_read_closes_it(
    engine,
) -> None:
    reads = DirectConnections(engine)
    first = await _backend(reads)
    assert await _backend(reads) == first  # handed back and out again (a pool of two)
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with reads.connection() as connection:
            await connection.fetchval("SELECT 1 / 0")
    assert await _backend(reads) == first  # PostgreSQL refused a statement: still usable

    async def slow_read() -> None:
        async with reads.connection() as connection:
            await connection.fetchval("SELECT pg_sleep(30)")

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(slow_read(), timeout=0.5)
    after = await _backend(reads)
    assert after != first  # the half-read connection was closed, not handed out again
    async with reads.connection() as connection:
        assert await connection.fetchval("SELECT 41 + 1") == 42


class _Refused(Exception):
    """What a route raises between statements (a 404 or a 409 problem)."""


async def test_a_request_refused_between_statements_keeps_its_connection(engine) -> None:
    direct = DirectConnections(engine)
    first = await _backend(direct)
    for _ in range(3):
        with pytest.raises(_Refused):
            async with direct.connection() as connection:
                assert await connection.fetchval("SELECT 1") == 1
                raise _Refused
        assert await _backend(direct) == first  # handed out again, not closed and reopened

"""Dead pooled connections on real PostgreSQL: checked after idling, and the pool dropped on a disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gmirs_runtime.db import asyncpg_dsn, create_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def _pooled_pids(engine: AsyncEngine, count: int) -> set[int]:
    """Open `count` connections at once, note their server pids, and return them all to the pool."""
    conns = [await engine.connect() for _ in range(count)]
    try:
        return {int(await c.scalar(text("SELECT pg_backend_pid()"))) for c in conns}
    finally:
        for conn in conns:
            await conn.close()


async def _terminate(database_url: str, pids: set[int]) -> None:
    """What a server restart or a dropped network does to a pooled connection."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        for pid in pids:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


@asynccontextmanager
async def _engine_with_dead_pool(
    database_url: str, *, pool_size: int, ping_after_idle: float
) -> AsyncIterator[tuple[AsyncEngine, set[int]]]:
    """An engine whose `pool_size` pooled connections were all cut by the server (and their pids)."""
    engine = create_engine(
        database_url,
        schema="public",
        application_name="t",
        pool_size=pool_size,
        ping_after_idle=ping_after_idle,
    )
    try:
        dead = await _pooled_pids(engine, pool_size)
        await _terminate(database_url, dead)
        yield engine, dead
    finally:
        await engine.dispose()


async def test_a_connection_that_died_while_idle_is_replaced_before_anyone_uses_it(
    database_url,
) -> None:
    async with _engine_with_dead_pool(database_url, pool_size=1, ping_after_idle=0.2) as (
        engine,
        dead,
    ):
        await asyncio.sleep(0.3)  # idle past the threshold: checked on checkout
        assert await _backend_pid(engine) not in dead  # no error reached the caller


async def test_a_busy_connection_is_not_pinged_and_one_disconnect_renews_the_whole_pool(
    database_url,
) -> None:
    async with _engine_with_dead_pool(database_url, pool_size=2, ping_after_idle=60) as (
        engine,
        dead,
    ):
        with pytest.raises(DBAPIError) as failure:  # used again at once: no ping, so it fails
            await _backend_pid(engine)
        assert failure.value.connection_invalidated
        assert await _backend_pid(engine) not in dead  # the other dead one was dropped too


async def test_a_peak_s_connections_are_kept_for_the_next_one_not_reopened(database_url) -> None:
    # Twice pool_size connections may be open; once opened, every one of them is reused: a
    # steady load that dips and rises again must not open (and close) connections as it goes.
    engine = create_engine(database_url, schema="public", application_name="t", pool_size=2)
    try:
        first_peak = await _pooled_pids(engine, 4)
        second_peak = await _pooled_pids(engine, 4)
        assert len(first_peak) == 4
        assert second_peak == first_peak
        assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]
    finally:
        await engine.dispose()

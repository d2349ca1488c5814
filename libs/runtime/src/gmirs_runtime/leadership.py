"""One replica at a time: a session-level advisory lock held for the length of a piece of work.

Work that is safe but wasteful to run in every replica (walking a remote API on a schedule) runs
where the lock is won, and the other replicas skip that round. The lock lives on a connection of
its own outside any transaction, so holding it through minutes of HTTP calls keeps no transaction
open; if that connection drops, PostgreSQL releases the lock and another replica may take over
(the work is idempotent, so an overlap costs calls, never correctness).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_TRY_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended(:name, 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:name, 0))")


@asynccontextmanager
async def sole_runner(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yields True in the one replica that holds the lock `name` for the block, False elsewhere."""
    async with engine.connect() as connection:
        conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
        won = bool(await conn.scalar(_TRY_LOCK, {"name": name}))
        try:
            yield won
        finally:
            if won:
                await conn.execute(_UNLOCK, {"name": name})

"""Hot reads compiled once per query shape and sent straight through asyncpg.

Building a SQLAlchemy statement, keying its compiled-SQL cache and turning the result into rows
cost the caseload list more of the process's CPU than HTTP, the query and the JSON together did
(a quarter of it). A route that runs one statement in many shapes (filters present or not) builds
each shape once, with named bind parameters, and sends it with the request's values. asyncpg
prepares each statement once per connection and gives back its own records.

For a lone read, or a write of one statement, run without a transaction on a connection
`DirectConnections` checks out of the engine's pool past SQLAlchemy's Session:
opening a session, setting it to autocommit and closing it cost more than the statement (about
230 against 80 microseconds of CPU for a `SELECT 1` with its checkout, measured in-process).
A `jsonb` value is given as JSON text, as the engine's own codec expects it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


_GIVEN = object()
"""Marks a bind parameter whose value comes with each call (a `bindparam` built without one)."""


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    parameters: tuple[tuple[str, Any], ...]
    """Each `$n`'s name and, for a literal written into the statement, its value (else _GIVEN)."""

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] if v is _GIVEN else v for name, v in self.parameters]


def compile_statement(statement: ClauseElement) -> Compiled:
    compiled = statement.compile(dialect=_DIALECT)
    names = getattr(compiled, "positiontup", None) or ()  # a SQLCompiler's, in `$n` order
    binds = getattr(compiled, "binds", {})
    parameters = tuple(
        (name, _GIVEN if binds[name].required else binds[name].effective_value) for name in names
    )
    return Compiled(compiled.string, parameters)


class Shapes:
    """The compiled statement of each shape, built on first use by `build(shape)`."""

    def __init__(self, build: Callable[[Any], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[Hashable, Compiled] = {}

    def __getitem__(self, shape: Hashable) -> Compiled:
        found = self._compiled.get(shape)
        if found is None:
            found = self._compiled[shape] = compile_statement(self._build(shape))
        return found


class DirectConnections:
    """asyncpg connections from an engine's own pool, for statements without a transaction: a
    lone read, or a read and then a write made only if what was read is unchanged.

    Checked out of the pool the sessions use, so its size, its fairness to waiters (`fair_pool`)
    and its ping of idle connections hold. A connection comes back to the pool when the block
    ends, also when PostgreSQL refused a statement or the caller refused the request between
    statements (a 404 or a 409). If the block was
    cancelled or timed out (a statement may be left half-read) or the connection was lost, it is
    closed instead, and the pool opens another.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine.pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        checked_out = await greenlet_spawn(self._pool.connect)
        reusable = True
        try:
            yield checked_out.driver_connection
        except BaseException as error:
            reusable = _leaves_connection_usable(error)
            raise
        finally:  # invalidating closes the connection and gives its place back to the pool
            await greenlet_spawn(checked_out.close if reusable else checked_out.invalidate)


def _leaves_connection_usable(error: BaseException) -> bool:
    lost = (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        OSError,  # TimeoutError among them
    )
    return isinstance(error, Exception) and not isinstance(error, lost)


async def fetch(
    connection: asyncpg.Connection, compiled: Compiled, values: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The statement's rows (asyncpg records: read by column name)."""
    rows: Sequence[Mapping[str, Any]] = await connection.fetch(
        compiled.sql, *compiled.arguments(values)
    )
    return rows

"""Hot reads compiled once per query shape and sent straight through asyncpg.

Building a SQLAlchemy statement, keying its compiled-SQL cache and turning the result into rows
cost the caseload list more of the process's CPU than HTTP, the query and the JSON together did
(a quarter of it). A route that runs one statement in many shapes (filters present or not) builds
each shape once, with named bind parameters, and sends it with the request's values. asyncpg
prepares each statement once per connection and gives back its own records.

Only for a lone read run without a transaction (`UnitOfWork.read_without_transaction`): a raw
statement would not be part of a transaction SQLAlchemy had begun lazily on the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

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


async def fetch(
    session: AsyncSession, compiled: Compiled, values: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The statement's rows (asyncpg records: read by column name), on the session's connection."""
    raw = await (await session.connection()).get_raw_connection()
    if not getattr(raw.dbapi_connection, "autocommit", False):
        raise RuntimeError("a precompiled read runs only without a transaction")
    driver = raw.driver_connection
    assert driver is not None
    rows: Sequence[Mapping[str, Any]] = await driver.fetch(
        compiled.sql, *compiled.arguments(values)
    )
    return rows

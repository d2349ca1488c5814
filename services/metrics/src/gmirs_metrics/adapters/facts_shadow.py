"""Shadow tables for a rebuild, and the one transaction that puts them in place of the live ones.

A rebuild fills empty copies of the fact tables and of the inbox in a schema of its own (the
builder's search_path puts that schema first, so the projection's unqualified statements write
there). The copies have the live tables' columns, defaults, constraints and indexes under the
same names, so after the switch the schema looks exactly as the migrations left it. The switch
drops each live table and moves its copy into the service's schema, all in one transaction:
readers wait for it for a moment and then see the new tables; nobody sees a mix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gmirs_metrics.adapters.facts_tables import FACT_TABLES

REBUILT_TABLES: tuple[str, ...] = (*(t.name for t in FACT_TABLES), "inbox")
"""Everything a generation of the projection owns: its facts and the record of what it applied."""

_SCHEMA_EXISTS = text("SELECT 1 FROM pg_namespace WHERE nspname = :schema")
_CONSTRAINTS = text(
    """
    SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
    JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
    WHERE n.nspname = :schema AND r.relname = :table AND c.contype IN ('p', 'u', 'c', 'x')
    ORDER BY c.conname
    """
)
_INDEXES = text(
    """
    SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class r ON r.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = r.relnamespace
    WHERE n.nspname = :schema AND r.relname = :table
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    ORDER BY i.relname
    """
)
_INDEX_TARGET = re.compile(r" ON (?:ONLY )?\S+ USING ")


def quote(name: str) -> str:
    """An identifier quoted for PostgreSQL (names here come from settings and declarations)."""
    return '"' + name.replace('"', '""') + '"'


async def prepare_shadow(
    conn: AsyncConnection, *, live: str, shadow: str, tables: Sequence[str] = REBUILT_TABLES
) -> None:
    """Empty copies of `tables` from schema `live` in schema `shadow` (created if missing).

    Deployments create the shadow schema for the service's role (it may not create schemas);
    any copies a stopped rebuild left behind are dropped first.
    """
    if not await conn.scalar(_SCHEMA_EXISTS, {"schema": shadow}):
        await conn.execute(text(f"CREATE SCHEMA {quote(shadow)}"))
    for table in tables:
        await conn.execute(text(f"DROP TABLE IF EXISTS {quote(shadow)}.{quote(table)}"))
        await _copy_table(conn, live, shadow, table)


async def _copy_table(conn: AsyncConnection, live: str, shadow: str, table: str) -> None:
    source, target = f"{quote(live)}.{quote(table)}", f"{quote(shadow)}.{quote(table)}"
    await conn.execute(
        text(
            f"CREATE TABLE {target} (LIKE {source} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
        )
    )
    names = {"schema": live, "table": table}
    for name, definition in (await conn.execute(_CONSTRAINTS, names)).all():
        await conn.execute(text(f"ALTER TABLE {target} ADD CONSTRAINT {quote(name)} {definition}"))
    for _, definition in (await conn.execute(_INDEXES, names)).all():
        retargeted = _INDEX_TARGET.sub(f" ON {target} USING ", str(definition), count=1)
        await conn.execute(text(retargeted))


async def drop_shadow(conn: AsyncConnection, *, shadow: str) -> None:
    """Drop the copies a rebuild made (after a failed or abandoned rebuild)."""
    for table in REBUILT_TABLES:
        await conn.execute(text(f"DROP TABLE IF EXISTS {quote(shadow)}.{quote(table)}"))


async def swap_in(
    conn: AsyncConnection, *, live: str, shadow: str, tables: Sequence[str] = REBUILT_TABLES
) -> None:
    """In the caller's transaction: drop each live table and move its shadow copy in its place."""
    for table in tables:
        await conn.execute(text(f"DROP TABLE {quote(live)}.{quote(table)}"))
        await conn.execute(
            text(f"ALTER TABLE {quote(shadow)}.{quote(table)} SET SCHEMA {quote(live)}")
        )

"""Alembic, once for every service: each service migrates only its own schema.

A service's `migrations/env.py` calls `run_env(...)`; `upgrade(...)` runs it programmatically
(the `migrate` command, tests). Migrations are a deploy step, never part of application start.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from gmirs_runtime.db import sqlalchemy_url


def alembic_config(script_location: Path, url: str, schema: str) -> Config:
    """A config pointing at a service's migrations folder, its database and its schema."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    config.set_main_option("gmirs.schema", schema)
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(script_location: Path, url: str, schema: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (blocking; run in a thread from async code)."""
    command.upgrade(alembic_config(script_location, url, schema), revision)


def downgrade(script_location: Path, url: str, schema: str, revision: str) -> None:
    command.downgrade(alembic_config(script_location, url, schema), revision)


def run_env(target_metadata: MetaData | None = None) -> None:
    """Body of every service's env.py: online migrations in the service schema, async driver."""
    config = context.config
    schema = config.get_main_option("gmirs.schema")
    url = config.get_main_option("sqlalchemy.url")
    if not schema or not url:
        raise RuntimeError("run migrations through gmirs_runtime.migrations.upgrade")
    asyncio.run(_run_online(url, schema, target_metadata))


async def _run_online(url: str, schema: str, target_metadata: MetaData | None) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
            await conn.run_sync(_migrate, schema, target_metadata)
    finally:
        await engine.dispose()


def _migrate(conn: Connection, schema: str, target_metadata: MetaData | None) -> None:
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        version_table_schema=schema,
        include_schemas=False,
    )
    context.run_migrations()


def current_schema() -> str:
    """The schema being migrated, for use inside a migration's upgrade()/downgrade()."""
    schema = context.config.get_main_option("gmirs.schema")
    if not schema:
        raise RuntimeError("no gmirs.schema in the alembic config")
    return schema

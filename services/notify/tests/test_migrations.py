"""The schema migrates up, down and up again, so a failed deploy can be rolled back."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from gmirs_notify.bootstrap import MIGRATIONS
from gmirs_runtime.db import create_engine
from gmirs_runtime.migrations import downgrade, upgrade

TABLES = {
    "subscriptions",
    "deliveries",
    "delivery_attempts",
    "reports",
    "report_attempts",
    "practitioners",
    "outbox",
    "inbox",
    "audit_log",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, schema="notify", application_name="test")
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'notify'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def test_up_down_up(database_url: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "notify")
    assert await _tables(database_url) >= TABLES
    await asyncio.to_thread(downgrade, MIGRATIONS, database_url, "notify", "base")
    assert await _tables(database_url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "notify")
    assert await _tables(database_url) >= TABLES

"""Revision 0003 gives cases opened before it a lifecycle, and rolls back cleanly."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_case.adapters.lifecycle import LifecycleRepository
from gmirs_case.bootstrap import MIGRATIONS
from gmirs_case.domain.lifecycle import CaseState
from gmirs_runtime.db import create_engine
from gmirs_runtime.migrations import downgrade, upgrade

SCHEMA = "casework"
INSERT_CASE = (
    "INSERT INTO cases (id, referral_id, hub_id, probation_delivery_unit, crn, opened_at, version)"
    " VALUES (:id, :r, 'bolton', 'Bolton', 'X123456', '2026-11-30T10:00:00Z', 1)"
)


async def test_existing_cases_are_allocated_since_they_opened_and_it_rolls_back(
    database_url: str,
) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA, "0002")
    engine = create_engine(database_url, schema=SCHEMA, application_name="test")
    case_id = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(text(INSERT_CASE), {"id": case_id, "r": uuid.uuid4()})
        await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA)
        async with engine.connect() as conn:
            lifecycle = await LifecycleRepository(AsyncSession(conn)).get(case_id)
        assert lifecycle.state is CaseState.ALLOCATED
        assert lifecycle.reached[CaseState.RECEIVED] == lifecycle.since
        await asyncio.to_thread(downgrade, MIGRATIONS, database_url, SCHEMA, "0002")
        async with engine.connect() as conn:
            tables = await conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": SCHEMA}
            )
            assert "case_lifecycle" not in set(tables)
    finally:
        await engine.dispose()

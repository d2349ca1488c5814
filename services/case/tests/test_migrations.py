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
            lifecycle = await LifecycleRepository(AsyncSession(conn), {}).get(case_id)
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


async def test_revision_0015_gives_existing_cases_their_state_and_keeps_it_following(
    database_url: str,
) -> None:
    """Cases opened before 0015 get their lifecycle's state on `cases`; the trigger then copies
    every change; downgrading drops the column, the trigger and its function."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA, "0014")
    engine = create_engine(database_url, schema=SCHEMA, application_name="test")
    case_id = uuid.uuid4()
    state_of = text("SELECT state FROM cases WHERE id = :id")
    try:
        async with engine.begin() as conn:
            await conn.execute(text(INSERT_CASE), {"id": case_id, "r": uuid.uuid4()})
            await conn.execute(
                text(
                    "INSERT INTO case_lifecycle (case_id, state, since, reached, referral_sent_at)"
                    " VALUES (:id, 'contacted', now(), '{}'::jsonb, now())"
                ),
                {"id": case_id},
            )
        await asyncio.to_thread(upgrade, MIGRATIONS, database_url, SCHEMA, "0015")
        async with engine.begin() as conn:
            assert (await conn.execute(state_of, {"id": case_id})).scalar_one() == "contacted"
            await conn.execute(
                text("UPDATE case_lifecycle SET state = 'closed' WHERE case_id = :id"),
                {"id": case_id},
            )
            assert (await conn.execute(state_of, {"id": case_id})).scalar_one() == "closed"
        await asyncio.to_thread(downgrade, MIGRATIONS, database_url, SCHEMA, "0014")
        async with engine.connect() as conn:
            columns = await conn.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = :s AND table_name = 'cases'"
                ),
                {"s": SCHEMA},
            )
            functions = await conn.scalars(
                text("SELECT proname FROM pg_proc WHERE proname = 'case_state_follows_lifecycle'")
            )
            assert "state" not in set(columns)
            assert list(functions) == []
    finally:
        await engine.dispose()

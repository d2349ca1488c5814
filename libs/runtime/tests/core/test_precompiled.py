"""Precompiled reads on real PostgreSQL: each shape compiled once and bound by name, and refused
inside a transaction (which a raw statement would not be part of)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, Select, Table, bindparam, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from gmirs_runtime.db import UnitOfWork, create_engine
from gmirs_runtime.precompiled import Shapes, fetch


async def test_a_shape_is_compiled_once_and_refused_inside_a_transaction(database_url) -> None:
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
    engine = create_engine(database_url, schema="public", application_name="precompiled-test")
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE TABLE {name} AS SELECT generate_series(1, 10) AS n"))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        for top, even_only, expected in (
            (5, True, [2, 4]),
            (3, False, [1, 2, 3]),
            (9, True, [2, 4, 6, 8]),
        ):
            async with UnitOfWork(sessions, source="test") as uow:
                await uow.read_without_transaction()
                rows = await fetch(uow.session, shapes[even_only], {"top": top, "unused": 1})
                assert [row["n"] for row in rows] == expected
        assert built == [True, False]  # two shapes, each built once
        async with UnitOfWork(sessions, source="test") as uow:
            await uow.session.execute(text("SELECT 1"))  # SQLAlchemy has begun a transaction
            with pytest.raises(RuntimeError, match="without a transaction"):
                await fetch(uow.session, shapes[False], {"top": 1})
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        await engine.dispose()

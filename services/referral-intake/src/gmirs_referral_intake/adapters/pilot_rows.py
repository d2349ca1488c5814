"""What became of each row of each pilot file (table `pilot_import_rows`, migration 0004).

A row's record is written in the same transaction as the referral it created, so "recorded"
means "done": a re-run skips recorded rows and an interrupted run resumes after the last one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    CursorResult,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_referral_intake.adapters.pilot_csv import ReportLine

pilot_import_rows = Table(
    "pilot_import_rows",
    MetaData(),
    Column("file_sha256", Text, primary_key=True),
    Column("row_number", Integer, primary_key=True),
    Column("referral_ref", Text),
    Column("status", Text, nullable=False),
    Column("reason", Text),
    Column("referral_id", Uuid),
    Column("rm_progress", JSONB),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)
_ROWS = pilot_import_rows.c


async def recorded_rows(session: AsyncSession, file_sha256: str) -> dict[int, ReportLine]:
    """Rows of this file that earlier runs finished, by row number."""
    query = select(
        _ROWS.row_number, _ROWS.referral_ref, _ROWS.status, _ROWS.referral_id, _ROWS.reason
    ).where(_ROWS.file_sha256 == file_sha256)
    rows = (await session.execute(query)).all()
    return {row.row_number: ReportLine(*row) for row in rows}


async def record_row(
    session: AsyncSession,
    *,
    file_sha256: str,
    line: ReportLine,
    rm_progress: dict[str, Any] | None,
) -> bool:
    """Record a row's outcome in the caller's transaction; False if another run recorded it."""
    statement = (
        insert(pilot_import_rows)
        .values(
            file_sha256=file_sha256,
            row_number=line.row_number,
            referral_ref=line.referral_ref,
            status=line.status,
            reason=line.reason,
            referral_id=line.referral_id,
            rm_progress=rm_progress,
            imported_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=[_ROWS.file_sha256, _ROWS.row_number])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1

"""The R&M write-backs: one row per hub-recorded non-attendance on an R&M referral.

A row due at once notifies `writebacks_channel(schema)` as it is added, so the worker starts on it
when the transaction that added it commits.

`next_at` is when the worker must next take the row (NULL once it is done or with a person);
a claim moves it a lease ahead in its own transaction, so a worker killed mid-call leaves the row
to be taken again when the lease ends, at the step last committed. The manual-entry queue is the
rows at step `manual`.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Integer, Table, Text, Uuid, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import metadata
from gmirs_notify.domain.rm_writeback import Step, WriteBack


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


rm_writebacks = Table(
    "rm_writebacks",
    metadata,
    Column("report_id", Uuid, primary_key=True),
    Column("hub_id", Text, nullable=False),
    Column("rm_referral_id", Uuid, nullable=False),
    Column("rm_appointment_id", Uuid),
    Column("reference_number", Text),
    Column("crn", Text, nullable=False),
    Column("appointment_kind", Text, nullable=False),
    Column("session_number", Integer),
    _ts("appointment_starts_at", nullable=False),
    _ts("appointment_ends_at", nullable=False),
    _ts("due_at", nullable=False),
    Column("attended", Text, nullable=False),
    Column("session_happened", Boolean, nullable=False),
    Column("no_session_reason", Text),
    Column("notify_pp_of_concerns", Boolean, nullable=False),
    Column("recorded_by", Text),
    Column("step", Text, nullable=False),
    _ts("next_at"),
    Column("tries", Integer, nullable=False),
    Column("last_status", Integer),
    Column("last_reason", Text),
    _ts("manual_since"),
    _ts("manual_done_at"),
    Column("manual_done_by", Text),
    _ts("created_at", nullable=False),
)
_FIELDS = tuple(WriteBack.__dataclass_fields__)
CHANNEL = "gmirs_rm_writebacks"
_WAKE = text(f"SELECT pg_notify('{CHANNEL}_' || current_schema(), '')")


def writebacks_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which new write-backs wake the schema's workers."""
    return f"{CHANNEL}_{schema}"


class RmWriteBackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, write_back: WriteBack, *, now: datetime) -> None:
        """Keep a new write-back, due at once (at the manual step if it cannot be written)."""
        values = _row(write_back) | {
            "next_at": None if write_back.step is Step.MANUAL else now,
            "created_at": now,
        }
        await self._session.execute(insert(rm_writebacks).values(**values).on_conflict_do_nothing())
        if values["next_at"] is not None:
            # Delivered when this transaction commits: the row is there for the woken worker.
            await self._session.execute(_WAKE)

    async def claim_due(self, *, now: datetime, limit: int, lease: timedelta) -> list[WriteBack]:
        """Rows due now, leased to this worker (rows other workers hold are skipped)."""
        query = (
            select(rm_writebacks)
            .where(rm_writebacks.c.next_at <= now)
            .order_by(rm_writebacks.c.next_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found = [_write_back(row) for row in (await self._session.execute(query)).mappings()]
        if found:
            await self._session.execute(
                update(rm_writebacks)
                .where(rm_writebacks.c.report_id.in_([w.report_id for w in found]))
                .values(next_at=now + lease)
            )
        return found

    async def get(self, report_id: uuid.UUID, *, for_update: bool = False) -> WriteBack | None:
        query = select(rm_writebacks).where(rm_writebacks.c.report_id == report_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().first()
        return _write_back(row) if row else None

    async def save(self, write_back: WriteBack, *, next_at: datetime | None) -> None:
        await self._session.execute(
            update(rm_writebacks)
            .where(rm_writebacks.c.report_id == write_back.report_id)
            .values(**_row(write_back), next_at=next_at)
        )

    async def manual_queue(self, hub_id: str, *, limit: int, offset: int) -> list[WriteBack]:
        """What the hub must enter in R&M by hand, earliest deadline first."""
        query = (
            select(rm_writebacks)
            .where(rm_writebacks.c.hub_id == hub_id, rm_writebacks.c.step == Step.MANUAL.value)
            .order_by(rm_writebacks.c.due_at, rm_writebacks.c.report_id)
            .limit(limit)
            .offset(offset)
        )
        return [_write_back(row) for row in (await self._session.execute(query)).mappings()]


def _row(write_back: WriteBack) -> dict[str, Any]:
    values = asdict(write_back)
    values["step"] = write_back.step.value
    return values


def _write_back(row: Any) -> WriteBack:
    values = {name: row[name] for name in _FIELDS}
    return WriteBack(**(values | {"step": Step(row["step"])}))

"""Each case's lifecycle row, and R&M progress held until its case exists.

The lifecycle is stored flat (one row per case, the first time each state was reached as a
JSON object of state -> ISO time) so the list can filter by state and metrics can read it.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Uuid, delete, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import CaseRow, _ts
from gmirs_case.domain.achievement import OutcomeAchievement
from gmirs_case.domain.lifecycle import CaseState, Lifecycle


class LifecycleRow(SQLModel, table=True):
    __tablename__ = "case_lifecycle"

    case_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    state: str = Field(index=True)
    since: datetime = Field(sa_column=_ts())
    reached: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    closure_reason: str | None = None
    closure_settled: bool = False
    rm_withdrawal_code: str | None = None
    rm_delivery_state: str | None = None
    closed_by: str | None = None
    plan_agreed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    outcomes: dict[str, int] | None = Field(default=None, sa_column=Column(JSONB))
    referral_sent_at: datetime = Field(sa_column=_ts())


class PendingRmProgressRow(SQLModel, table=True):
    """An R&M progress event for a referral with no case yet, kept to apply when it opens."""

    __tablename__ = "pending_rm_progress"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: uuid.UUID = Field(index=True)
    event_id: uuid.UUID = Field(unique=True)
    ce_type: str
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    held_at: datetime = Field(sa_column=_ts())


class LifecycleRepository:
    def __init__(self, session: AsyncSession, written: dict[uuid.UUID, int]) -> None:
        self._session = session
        self._written = written
        """The versions this transaction moved cases to (shared with `CaseRepository`)."""
        self._known: dict[uuid.UUID, Any] = {}
        """Lifecycle rows read with their case's locked row, until this transaction saves one."""

    def known(self, case_id: uuid.UUID, row: Any) -> None:
        """Keep the lifecycle read with the case's row locked: `get` needs no statement then
        (every write of a lifecycle locks its case first, so the row cannot change meanwhile)."""
        self._known[case_id] = row

    def forget(self) -> None:
        """Drop what `known` kept (the transaction that locked the cases has ended)."""
        self._known.clear()

    async def get(self, case_id: uuid.UUID) -> Lifecycle:
        """The case's lifecycle (the caller has already found, and locked, the case)."""
        if case_id in self._known:
            return lifecycle_of(self._known[case_id])
        row = await self._session.get(LifecycleRow, case_id)
        if row is None:
            raise LookupError(f"case {case_id} has no lifecycle")
        return lifecycle_of(row)

    async def save(self, case_id: uuid.UUID, lifecycle: Lifecycle) -> None:
        """Insert or replace the case's lifecycle; the referral's sent time is when it was received.

        Replacing it moves the case's version in the same statement, whoever moves it (a hub's
        command, R&M's progress, the person's exit survey): the case's `ETag` changes with its
        lifecycle, and a locked read can tell it waited for this write (`read_is_stale`). The
        first lifecycle of a new case leaves its version at 1.
        """
        self._known.pop(case_id, None)
        values = lifecycle_values(case_id, lifecycle)
        cases = CaseRow.__table__  # type: ignore[attr-defined]
        existing = select(col(LifecycleRow.case_id)).where(col(LifecycleRow.case_id) == case_id)
        bump = (
            update(cases)
            .where(cases.c.id == case_id, existing.exists())
            .values(version=cases.c.version + 1)
            .returning(cases.c.version)
            .cte("case_version_bumped")
        )
        statement = insert(LifecycleRow).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["case_id"],
            set_={k: statement.excluded[k] for k in values if k != "case_id"},
        )
        bumped = statement.add_cte(bump).returning(select(bump.c.version).scalar_subquery())
        version = (await self._session.execute(bumped)).scalar_one()
        if version is not None:
            self._written[case_id] = version

    async def hold(
        self, referral_id: uuid.UUID, event_id: uuid.UUID, ce_type: str, data: Any, now: datetime
    ) -> None:
        """Keep a progress event until its case opens (once, however often it is delivered)."""
        statement = insert(PendingRmProgressRow).values(
            referral_id=referral_id, event_id=event_id, ce_type=ce_type, data=data, held_at=now
        )
        await self._session.execute(statement.on_conflict_do_nothing(index_elements=["event_id"]))

    async def take_held(self, referral_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
        """Remove and return the progress held for a referral, in the order it arrived."""
        statement = (
            delete(PendingRmProgressRow)
            .where(col(PendingRmProgressRow.referral_id) == referral_id)
            .returning(
                col(PendingRmProgressRow.id),
                col(PendingRmProgressRow.ce_type),
                col(PendingRmProgressRow.data),
            )
        )
        rows = (await self._session.execute(statement)).all()
        return [(ce_type, data) for _, ce_type, data in sorted(rows)]


def lifecycle_of(row: Any) -> Lifecycle:
    """The lifecycle from a row holding its columns (a `LifecycleRow`, or a joined read's row)."""
    reached = {CaseState(k): datetime.fromisoformat(v) for k, v in row.reached.items()}
    outcomes = OutcomeAchievement(**row.outcomes) if row.outcomes else None
    return from_record(Lifecycle, row, reached=reached, outcomes=outcomes)


def lifecycle_values(case_id: uuid.UUID, lifecycle: Lifecycle) -> dict[str, Any]:
    values = record_of(lifecycle)
    values["reached"] = {state.value: at.isoformat() for state, at in lifecycle.reached.items()}
    values["outcomes"] = asdict(lifecycle.outcomes) if lifecycle.outcomes else None
    return {
        **values,
        "case_id": case_id,
        "referral_sent_at": lifecycle.reached[CaseState.RECEIVED],
    }

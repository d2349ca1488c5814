"""Loads and stores cases, always within one hub's scope unless the caller sees every hub.

Scoping lives here, in one place, so no route can forget it: a hub asking for another hub's
case gets nothing, exactly as if the case did not exist.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import CursorResult, Insert, TextClause, Uuid, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gmirs_case.adapters import appointments as stored
from gmirs_case.adapters import case_rows
from gmirs_case.adapters.case_rows import ATTENDANCE_COLUMNS
from gmirs_case.adapters.lifecycle import LifecycleRepository
from gmirs_case.adapters.records import columns_of, record_of
from gmirs_case.adapters.tables import AppointmentRow, CaseRow
from gmirs_case.domain.model import Appointment, Attendance, Case

ALL_HUBS = None


class CaseRepository:
    def __init__(
        self,
        session: AsyncSession,
        lifecycles: LifecycleRepository,
        written: dict[uuid.UUID, int],
    ) -> None:
        self._session = session
        self._lifecycles = lifecycles
        self._locked: dict[uuid.UUID, tuple[Case, int]] = {}
        """Cases this transaction has locked with `lock` and not yet handed out or written."""
        self._written = written
        """The versions this transaction's own statements moved cases to (`version_written`),
        shared with the lifecycle repository, whose saves move them too."""

    async def add(self, case: Case) -> bool:
        """Insert a new case; False if one already exists for the referral."""
        statement = (
            insert(CaseRow)
            .values(**_case_values(case))
            .on_conflict_do_nothing(index_elements=["referral_id"])
        )
        result = await self._session.execute(statement)
        assert isinstance(result, CursorResult)
        return result.rowcount == 1

    async def get(
        self, case_id: uuid.UUID, *, hub_id: str | None, for_update: bool = False
    ) -> Case | None:
        """The case if it exists and is visible to `hub_id` (None: every hub)."""
        found = await self.get_versioned(case_id, hub_id=hub_id, for_update=for_update)
        return found[0] if found is not None else None

    async def get_versioned(
        self, case_id: uuid.UUID, *, hub_id: str | None, for_update: bool = False
    ) -> tuple[Case, int] | None:
        """The case and its version as read in the same statement (its `ETag`), if visible.

        The version comes with the case row, not from a read of its own: one round trip fewer,
        and the `ETag` never names a version newer than the case it is sent with. A case this
        transaction locked with `lock` is handed out (once) without reading it again.
        """
        if for_update and case_id in self._locked:
            case, version = self._locked.pop(case_id)
            return (case, version) if hub_id is ALL_HUBS or case.hub_id == hub_id else None
        return await self._find("id", case_id, hub_id=hub_id, for_update=for_update)

    async def lock(self, case_id: uuid.UUID, *, hub_id: str | None) -> int | None:
        """Lock the case for this transaction's write; its version, or None if not visible.

        The case is read whole while it is locked and kept for the write's own `get(...,
        for_update=True)`: the write guard's lock and the handler's read are one statement.
        """
        found = await self._find("id", case_id, hub_id=hub_id, for_update=True)
        if found is None:
            return None
        self._locked[case_id] = found
        return found[1]

    def forget(self) -> None:
        """Drop the cases `lock` kept and the versions written (their transaction has ended)."""
        self._locked.clear()
        self._written.clear()

    async def for_referral(self, referral_id: uuid.UUID) -> Case | None:
        """The referral's case, locked (the consumer applies R&M progress to it)."""
        found = await self._find("referral_id", referral_id, hub_id=ALL_HUBS, for_update=True)
        return found[0] if found is not None else None

    async def move_to_hub(self, case_id: uuid.UUID, hub_id: str) -> None:
        self._locked.clear()
        moved = await self._session.execute(
            update(CaseRow)
            .where(col(CaseRow.id) == case_id)
            .values(hub_id=hub_id, version=col(CaseRow.version) + 1)
            .returning(col(CaseRow.version))
        )
        version = moved.scalar_one_or_none()
        if version is not None:
            self._written[case_id] = version

    async def _find(
        self, key: str, value: uuid.UUID, *, hub_id: str | None, for_update: bool
    ) -> tuple[Case, int] | None:
        """One statement: the case, its appointments with their history, and its lifecycle
        (kept for `uow.lifecycles` when the case is locked, as nothing else can change it)."""
        parameters: dict[str, Any] = {key: value}
        if hub_id is not ALL_HUBS:
            parameters["hub_id"] = hub_id
        statement = _case_statement(key, hub_id is not ALL_HUBS, for_update)
        row = (await self._session.execute(statement, parameters)).first()
        if row is not None and for_update and case_rows.read_is_stale(row):
            row = (await self._session.execute(statement, parameters)).first()
        if row is None:
            return None
        if for_update and case_rows.has_lifecycle(row):
            self._lifecycles.known(row.id, row)
        return case_rows.case_in(row), row.version

    async def save_appointment(self, case: Case, appointment: Appointment) -> None:
        """Insert or update one appointment and bump the case version, in one statement.

        The version's UPDATE rides along as a data-modifying CTE (PostgreSQL runs it exactly
        once, to completion, whether or not it is referenced): one round trip, not two. The
        statement is built once per set of columns and its values are passed as parameters:
        building it with the values inside cost SQLAlchemy a fresh cache key over every value
        on each write (5 % of the case process's samples on the caseload bench).
        """
        self._locked.clear()
        values = _appointment_values(case.id, appointment)
        parameters = {_PARAMETER + name: value for name, value in values.items()}
        written = await self._session.execute(
            _appointment_upsert(tuple(values)), {**parameters, _BUMPED_CASE: case.id}
        )
        self._written[case.id] = written.scalar_one()

    def version_written(self, case_id: uuid.UUID) -> int | None:
        """The version this transaction last moved the case to, if it moved it (the upsert
        returns it): the write guard then answers it as the `ETag` without another UPDATE."""
        return self._written.get(case_id)


_BUMPED_CASE = "bumped_case_id"
_PARAMETER = "appointment_"
"""The upsert's own parameter names: not column names, which the CTE's UPDATE would take as
columns to set."""


@functools.cache
def _case_statement(key: str, scoped: bool, lock: bool) -> TextClause:
    """`case_rows.case_select`, built once so SQLAlchemy compiles it once."""
    sql = case_rows.case_select(key, scoped=scoped, lock=lock)
    return text(sql).bindparams(bindparam(key, type_=Uuid))


@functools.cache
def _appointment_upsert(columns: tuple[str, ...]) -> Insert:
    """The upsert of an appointment's `columns`, bumping its case's version (`_BUMPED_CASE`)."""
    cases = CaseRow.__table__  # type: ignore[attr-defined]
    bump = (
        update(cases)
        .where(cases.c.id == bindparam(_BUMPED_CASE))
        .values(version=cases.c.version + 1)
        .returning(cases.c.version)
        .cte("case_version_bumped")
    )
    statement = insert(AppointmentRow.__table__).values(  # type: ignore[attr-defined]
        {name: bindparam(_PARAMETER + name) for name in columns}
    )
    upsert = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={k: statement.excluded[k] for k in columns if k not in {"id", "case_id"}},
    ).add_cte(bump)
    return upsert.returning(select(bump.c.version).scalar_subquery())


def _case_values(case: Case) -> dict[str, Any]:
    return {**record_of(case, leave_out={"appointments"}), "version": 1}


def _appointment_values(case_id: uuid.UUID, a: Appointment) -> dict[str, Any]:
    attendance = (
        record_of(a.attendance, rename=ATTENDANCE_COLUMNS)
        if a.attendance
        else dict.fromkeys(columns_of(Attendance, rename=ATTENDANCE_COLUMNS))
    )
    own = record_of(a, leave_out={"attendance", *stored.NESTED})
    return {**own, "case_id": case_id, **attendance, **stored.nested_values(a)}

"""The evidence requests table and its repository (one row per request, the answer in place)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    MetaData,
    RowMapping,
    Table,
    Text,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_case.domain.evidence_requests import Answer, EvidenceRequest

metadata = MetaData()

evidence_requests = Table(
    "evidence_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("asked", Text, nullable=False),
    Column("hub_id", Text, index=True),
    Column("case_id", Uuid),  # the migration makes it a foreign key to cases (SET NULL)
    Column("requested_by", Text, nullable=False, index=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("counted_from", Date, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("answer", Text),
    Column("answered_at", DateTime(timezone=True)),
    Column("answered_by", Text),
    Column("on_time", Boolean),
)
_T = evidence_requests.c


class EvidenceScope:
    """Which requests a caller may see: all (None everywhere), a hub's, or a commissioner's."""

    def __init__(self, *, hub_id: str | None = None, requested_by: str | None = None) -> None:
        self.hub_id = hub_id
        self.requested_by = requested_by

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.hub_id is not None:
            found.append(_T.hub_id == self.hub_id)
        if self.requested_by is not None:
            found.append(_T.requested_by == self.requested_by)
        return found


class EvidenceRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: EvidenceRequest) -> None:
        values = {name: getattr(request, name) for name in _COLUMNS}
        await self._session.execute(insert(evidence_requests).values(**values))

    async def get(
        self, request_id: uuid.UUID, scope: EvidenceScope, *, for_update: bool = False
    ) -> EvidenceRequest | None:
        """The request if the scope may see it (else None: the same as a missing one)."""
        query = select(evidence_requests).where(_T.id == request_id, *scope.conditions())
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else _request(row)

    async def save_answer(self, request: EvidenceRequest) -> None:
        answer = request.answer
        assert answer is not None, "only an answered request is saved again"
        await self._session.execute(
            update(evidence_requests)
            .where(_T.id == request.id)
            .values(
                answer=answer.text,
                answered_at=answer.answered_at,
                answered_by=answer.answered_by,
                on_time=answer.on_time,
            )
        )

    async def list(
        self,
        scope: EvidenceScope,
        *,
        hub_id: str | None,
        is_open: bool | None,
        overdue: bool | None,
        now: datetime,
        limit: int,
        offset: int,
    ) -> tuple[list[EvidenceRequest], int]:
        """A page of the scope's requests, soonest due first, and their total; optionally one
        hub's, open (or answered) ones, and overdue (or not overdue) ones at `now`."""
        conditions = scope.conditions()
        if hub_id is not None:
            conditions.append(_T.hub_id == hub_id)
        if is_open is not None:
            conditions.append(_T.answered_at.is_(None) if is_open else _T.answered_at.isnot(None))
        is_overdue = (_T.answered_at.is_(None)) & (_T.due_at <= now)
        if overdue is not None:
            conditions.append(is_overdue if overdue else ~is_overdue)
        query = select(evidence_requests).where(*conditions).order_by(_T.due_at, _T.id)
        rows = (await self._session.execute(query.limit(limit).offset(offset))).mappings()
        counted = select(func.count()).select_from(evidence_requests).where(*conditions)
        total = (await self._session.execute(counted)).scalar_one()
        return [_request(row) for row in rows], int(total)


_COLUMNS = (
    "id",
    "asked",
    "hub_id",
    "case_id",
    "requested_by",
    "requested_at",
    "recorded_at",
    "counted_from",
    "due_at",
)


def _request(row: RowMapping) -> EvidenceRequest:
    answer = None
    if row["answered_at"] is not None:
        answer = Answer(row["answer"], row["answered_at"], row["answered_by"], row["on_time"])
    return EvidenceRequest(**{name: row[name] for name in _COLUMNS}, answer=answer)

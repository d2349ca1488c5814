"""Tables and repository for the person on a case and the caseworker assignments.

The case itself is looked up (and hub-scoped) through CaseRepository first; these rows are only
ever read for a case the caller may see.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gmirs_case.adapters.tables import CaseRow
from gmirs_case.domain.people import CasePerson, WorkerAssignment, search_name

metadata = MetaData()

case_people = Table(
    "case_people",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("crn", Text, nullable=False),
    Column("given_name", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("search_name", Text, nullable=False),
    Column("date_of_birth", Date),
    Column("referral", JSONB, nullable=False),
    Column("contact", JSONB, nullable=False),
    Column("contact_version", Integer, nullable=False),
    Column("contact_updated_at", DateTime(timezone=True)),
    Column("contact_updated_by", Text),
)

worker_assignments = Table(
    "worker_assignments",
    metadata,
    Column("referral_id", Uuid, primary_key=True),
    Column("worker", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("assigned_by", Text, nullable=False),
)


class PeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, person: CasePerson) -> None:
        values = {
            **asdict(person),
            "search_name": search_name(person.given_name, person.family_name),
        }
        await self._session.execute(
            insert(case_people).values(**values).on_conflict_do_nothing(index_elements=["case_id"])
        )

    async def get(self, case_id: uuid.UUID) -> CasePerson | None:
        row = (
            (
                await self._session.execute(
                    select(case_people).where(case_people.c.case_id == case_id)
                )
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        return CasePerson(**{k: v for k, v in row.items() if k != "search_name"})

    async def save_contact(
        self, case_id: uuid.UUID, contact: dict[str, Any], *, version: int, by: str, at: datetime
    ) -> int | None:
        """Store `contact` if the stored version is still `version`; the new version, or None."""
        statement = (
            update(case_people)
            .where(case_people.c.case_id == case_id, case_people.c.contact_version == version)
            .values(
                contact=contact,
                contact_version=version + 1,
                contact_updated_at=at,
                contact_updated_by=by,
            )
            .returning(case_people.c.contact_version)
        )
        new_version: int | None = (await self._session.execute(statement)).scalar_one_or_none()
        return new_version

    async def assignment(self, referral_id: uuid.UUID) -> WorkerAssignment | None:
        query = select(worker_assignments).where(worker_assignments.c.referral_id == referral_id)
        row = (await self._session.execute(query.with_for_update())).mappings().one_or_none()
        return None if row is None else WorkerAssignment(**row)

    async def save_assignment(self, assignment: WorkerAssignment) -> None:
        values = asdict(assignment)
        statement = insert(worker_assignments).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["referral_id"],
                set_={k: statement.excluded[k] for k in values if k != "referral_id"},
            )
        )

    async def case_of_referral(self, referral_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        """The case opened for a referral (its id and hub), if one is open yet."""
        query = select(col(CaseRow.id), col(CaseRow.hub_id)).where(
            col(CaseRow.referral_id) == referral_id
        )
        row = (await self._session.execute(query)).one_or_none()
        return None if row is None else (row[0], row[1])

"""An appointment's place, cancellation and earlier times as stored (beside its own row).

The place's address is one JSON document; a cancellation is three flat columns; each move adds
a row to `appointment_reschedules`, never changed afterwards, so the history reads back in order.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    Table,
    Text,
    Uuid,
    exists,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_case.adapters.records import from_record, record_of
from gmirs_case.adapters.tables import AppointmentRow
from gmirs_case.domain.appointment_values import Address, Cancellation, Rescheduled
from gmirs_case.domain.model import Appointment

metadata = MetaData()


def history_table(name: str, owner: str) -> Table:
    """A table of earlier times, one row per move of its owner (appointment or group session)."""
    return Table(
        name,
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column(owner, Uuid, nullable=False),
        Column("previous_starts_at", DateTime(timezone=True), nullable=False),
        Column("previous_ends_at", DateTime(timezone=True), nullable=False),
        Column("rescheduled_at", DateTime(timezone=True), nullable=False),
        Column("requested_by", Text, nullable=False),
        Column("reason", Text),
    )


HISTORY_COLUMNS = (
    "previous_starts_at",
    "previous_ends_at",
    "rescheduled_at",
    "requested_by",
    "reason",
)
"""The columns of one earlier time (a `Rescheduled`), in every history table."""

appointment_reschedules = history_table("appointment_reschedules", "appointment_id")
appointment_reschedules.append_column(Column("case_id", Uuid, nullable=False))

CANCELLATION_COLUMNS = {
    "reason": "cancellation_reason",
    "note": "cancellation_note",
    "cancelled_at": "cancelled_at",
}
NESTED = frozenset({"address", "cancellation", "reschedules"})
"""The appointment's fields that are not one column each."""


def nested_values(owner: Appointment | Any) -> dict[str, Any]:
    """The address as JSON and the cancellation flattened (an appointment or a group session)."""
    cancellation = owner.cancellation
    return {
        "address": asdict(owner.address) if owner.address else None,
        **(
            record_of(cancellation, rename=CANCELLATION_COLUMNS)
            if cancellation
            else dict.fromkeys(CANCELLATION_COLUMNS.values())
        ),
    }


def nested_of(row: Any) -> dict[str, Any]:
    """The inverse of `nested_values` for a stored row (without the history)."""
    cancellation = None
    if row.cancelled_at is not None:
        cancellation = from_record(Cancellation, row, rename=CANCELLATION_COLUMNS)
    return {
        "address": Address(**row.address) if row.address else None,
        "cancellation": cancellation,
    }


def rescheduled_of(row: Any) -> Rescheduled:
    return from_record(Rescheduled, row)


async def add_reschedule(
    session: AsyncSession, case_id: uuid.UUID, appointment_id: uuid.UUID, earlier: Rescheduled
) -> None:
    values = record_of(earlier)
    await session.execute(
        insert(appointment_reschedules).values(
            case_id=case_id, appointment_id=appointment_id, **values
        )
    )


async def rm_appointment_taken(session: AsyncSession, rm_appointment_id: uuid.UUID) -> bool:
    """Whether any appointment (of any case) already names this R&M appointment."""
    query = select(exists().where(AppointmentRow.rm_appointment_id == rm_appointment_id))  # type: ignore[arg-type]
    return bool((await session.execute(query)).scalar())

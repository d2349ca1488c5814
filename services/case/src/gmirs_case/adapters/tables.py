"""The case service's tables (schema `case`, set by the connection's search_path)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


def case_reference() -> Column:  # type: ignore[type-arg]
    """A case id column that goes with its case (erasing a case erases what hangs off it)."""
    return Column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False)


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    id: uuid.UUID = Field(primary_key=True)
    referral_id: uuid.UUID = Field(unique=True)
    hub_id: str = Field(index=True)
    probation_delivery_unit: str
    crn: str
    reference_number: str | None = None
    rm_referral_id: uuid.UUID | None = None
    opened_at: datetime = Field(sa_column=_ts())
    version: int = 1
    state: str | None = None
    """The lifecycle's state, copied by a trigger on `case_lifecycle` (revision 0015) for the
    caseload to filter and show without a join; never written here."""
    worker: str | None = None
    """The assigned worker, copied from `worker_assignments` by triggers (revision 0016) for the
    caseload's worker filter; never written here."""


class AppointmentRow(SQLModel, table=True):
    __tablename__ = "appointments"

    id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    kind: str
    session_number: int | None = None
    starts_at: datetime = Field(sa_column=_ts())
    ends_at: datetime = Field(sa_column=_ts())
    delivery_type: str | None = None
    booked_at: datetime = Field(sa_column=_ts())
    attended: str | None = None
    session_happened: bool | None = None
    no_session_reason: str | None = None
    notify_pp_of_concerns: bool | None = None
    attendance_recorded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    rm_appointment_id: uuid.UUID | None = Field(default=None, unique=True)
    session_type: str = "one-to-one"
    nps_office_code: str | None = None
    address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    group_session_id: uuid.UUID | None = None
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    cancellation_reason: str | None = None
    cancellation_note: str | None = None

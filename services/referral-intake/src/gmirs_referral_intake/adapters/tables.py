"""Intake records (schema `intake`): one row per referral, whatever its source."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class ReferralRecord(SQLModel, table=True):
    __tablename__ = "referrals"

    id: uuid.UUID = Field(primary_key=True)
    source: str
    external_key: str = Field(unique=True)
    fingerprint: str
    hub_id: str | None = Field(default=None, index=True)
    probation_delivery_unit: str | None = None  # null: the source's unit is not one of ours
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    referral: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


@dataclass(frozen=True, slots=True)
class Referral:
    """A `referrals` row as plain data, which is what handlers pass around and answer with.

    The repository writes and reads these with Core statements: building an ORM instance per
    referral cost more CPU than its share of the insert.
    """

    id: uuid.UUID
    source: str
    external_key: str
    fingerprint: str
    hub_id: str | None
    probation_delivery_unit: str | None
    received_at: datetime
    referral: dict[str, Any]

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _REFERRAL_COLUMNS}


_REFERRAL_COLUMNS = tuple(field.name for field in fields(Referral))

"""Payloads on `notify.delivery-events.v1`, produced by notify."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field

from gmirs_contracts.base import ContractModel

TOPIC = "notify.delivery-events.v1"


class NonAttendanceReported(ContractModel):
    """`gmirs.notify.non-attendance-reported.v1`: a probation endpoint acknowledged a report (2xx).

    `within_deadline` is judged against `report_due_by`, which feeds the 24-hour KPI.
    """

    report_id: UUID
    case_id: UUID
    appointment_id: UUID
    subscription_id: UUID
    webhook_id: Annotated[str, Field(min_length=1)]
    acknowledged_at: AwareDatetime
    report_due_by: AwareDatetime
    within_deadline: bool
    attempts: Annotated[int, Field(ge=1)]

"""Operators' view of reports: timing, channels, causes; ids and hub only, no personal data."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel

from gmirs_notify.domain.report import Attempt, Report

ReportStatusName = Literal["open", "at_risk", "breached", "acknowledged"]
ChannelName = Literal["webhook", "rm_writeback", "manual_entry", "notify_email", "rm_recorded"]
CauseName = Literal["not-attempted", "failing", "refused", "awaiting-acknowledgement"]


class ReportAttemptRead(BaseModel):
    channel: ChannelName
    at: AwareDatetime
    result: Literal["acknowledged", "accepted", "failed", "refused"]
    detail: str | None

    @classmethod
    def of(cls, a: Attempt) -> ReportAttemptRead:
        return cls(channel=a.channel.value, at=a.at, result=a.result.value, detail=a.detail)


class ReportRead(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    referral_id: uuid.UUID
    appointment_id: uuid.UUID
    hub_id: str
    reference_number: str | None
    origin: Literal["hub", "refer-and-monitor"]
    status: ReportStatusName
    completing_channels: list[ChannelName]
    appointment_ends_at: AwareDatetime
    due_at: AwareDatetime
    acknowledged_at: AwareDatetime | None
    acknowledged_channel: ChannelName | None
    within_deadline: bool | None
    escalated_at: AwareDatetime | None
    escalation_cause: CauseName | None
    escalation_detail: str | None
    breached_at: AwareDatetime | None
    breach_cause: CauseName | None
    breach_detail: str | None
    attempts: list[ReportAttemptRead]

    @classmethod
    def of(cls, r: Report) -> ReportRead:
        return cls(
            id=r.id,
            case_id=r.case_id,
            referral_id=r.referral_id,
            appointment_id=r.appointment_id,
            hub_id=r.hub_id,
            reference_number=r.reference_number,
            origin=r.origin.value,
            status=r.status.value,
            completing_channels=sorted(c.value for c in r.completing),
            appointment_ends_at=r.appointment_ends_at,
            due_at=r.due_at,
            acknowledged_at=r.acknowledged_at,
            acknowledged_channel=_value(r.acknowledged_channel),
            within_deadline=r.within_deadline,
            escalated_at=r.escalated_at,
            escalation_cause=_value(r.escalation_cause),
            escalation_detail=r.escalation_detail,
            breached_at=r.breached_at,
            breach_cause=_value(r.breach_cause),
            breach_detail=r.breach_detail,
            attempts=[ReportAttemptRead.of(a) for a in r.attempts],
        )


class ReportPage(BaseModel):
    items: list[ReportRead]
    total: int
    limit: int
    offset: int


def _value(member: StrEnum | None) -> Any:
    """An enum's value for a Literal field (validated by the model)."""
    return None if member is None else member.value

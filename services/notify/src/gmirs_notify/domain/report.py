"""The statutory report of one non-attendance: its deadline, every channel's attempts, and its fate.

One report per non-attendance, whatever the channels: due 24 hours after the appointment's end
(computed by case as `report_due_by`). Which channel's acknowledgement completes it depends on
where the referral lives, because the report that counts is the one the probation practitioner
reads:

- a referral in Refer and Monitor: R&M accepting the platform's write-back (`rm_writeback`), or
  a named person confirming they entered it in R&M by hand (`manual_entry`);
- a referral without an R&M id (direct or pilot): GOV.UK Notify reporting the email to the
  referring practitioner delivered (`notify_email`);
- a non-attendance recorded in R&M itself is already there: complete on arrival (`rm_recorded`).

Webhooks to probation systems are always an extra: their attempts are kept, never sufficient.
Escalation comes `escalate_before` the deadline (20 hours after the end by default) or at once
when a channel refuses for good; an unacknowledged report at its deadline is a breach, with its
cause. Every decision here is pure: the caller passes `now`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Channel(StrEnum):
    WEBHOOK = "webhook"
    RM_WRITEBACK = "rm_writeback"
    MANUAL_ENTRY = "manual_entry"
    NOTIFY_EMAIL = "notify_email"
    RM_RECORDED = "rm_recorded"
    """Not a channel we drive: the provider recorded the non-attendance in R&M itself."""


class Origin(StrEnum):
    HUB = "hub"
    REFER_AND_MONITOR = "refer-and-monitor"


class AttemptResult(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    """The channel's receiver has it (2xx, R&M accepted, Notify delivered, person confirmed)."""
    ACCEPTED = "accepted"
    """Taken for delivery but not yet acknowledged (Notify accepted the email)."""
    FAILED = "failed"
    """Worth trying again."""
    REFUSED = "refused"
    """Refused for good (410, retries exhausted, R&M 400/422, Notify permanent failure)."""


class ReportStatus(StrEnum):
    OPEN = "open"
    AT_RISK = "at_risk"
    ACKNOWLEDGED = "acknowledged"
    BREACHED = "breached"


class Cause(StrEnum):
    """Why a report was escalated or breached, from its completing channels' attempts."""

    NOT_ATTEMPTED = "not-attempted"
    FAILING = "failing"
    REFUSED = "refused"
    AWAITING_ACKNOWLEDGEMENT = "awaiting-acknowledgement"


@dataclass(frozen=True, slots=True)
class Attempt:
    channel: Channel
    at: datetime
    result: AttemptResult
    detail: str | None = None
    """A status code or error class; never personal data."""


@dataclass(frozen=True, slots=True)
class Escalated:
    report_id: uuid.UUID
    at: datetime
    cause: Cause
    detail: str


@dataclass(frozen=True, slots=True)
class Breached:
    report_id: uuid.UUID
    at: datetime
    cause: Cause
    detail: str


@dataclass(frozen=True, slots=True)
class Acknowledged:
    report_id: uuid.UUID
    at: datetime
    channel: Channel


Change = Escalated | Breached | Acknowledged


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    escalate_before: timedelta = timedelta(hours=4)
    """Escalate this long before the deadline: 20 hours after the appointment's end."""


def completing_channels(origin: Origin, rm_referral_id: uuid.UUID | None) -> frozenset[Channel]:
    """The channels whose acknowledgement completes the statutory report."""
    if origin is Origin.REFER_AND_MONITOR:
        return frozenset({Channel.RM_RECORDED})
    if rm_referral_id is None:
        return frozenset({Channel.NOTIFY_EMAIL})
    return frozenset({Channel.RM_WRITEBACK, Channel.MANUAL_ENTRY})


@dataclass(slots=True)
class Report:
    id: uuid.UUID
    case_id: uuid.UUID
    appointment_id: uuid.UUID
    rm_appointment_id: uuid.UUID | None
    referral_id: uuid.UUID
    rm_referral_id: uuid.UUID | None
    hub_id: str
    reference_number: str | None
    origin: Origin
    appointment_ends_at: datetime
    due_at: datetime
    created_at: datetime
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged_at: datetime | None = None
    acknowledged_channel: Channel | None = None
    escalated_at: datetime | None = None
    escalation_cause: Cause | None = None
    escalation_detail: str | None = None
    breached_at: datetime | None = None
    breach_cause: Cause | None = None
    breach_detail: str | None = None

    @property
    def completing(self) -> frozenset[Channel]:
        return completing_channels(self.origin, self.rm_referral_id)

    @property
    def status(self) -> ReportStatus:
        if self.acknowledged_at is not None:
            return ReportStatus.ACKNOWLEDGED
        if self.breached_at is not None:
            return ReportStatus.BREACHED
        if self.escalated_at is not None:
            return ReportStatus.AT_RISK
        return ReportStatus.OPEN

    @property
    def within_deadline(self) -> bool | None:
        """The KPI question (None while unacknowledged)."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at <= self.due_at

    def arrived(self, now: datetime) -> list[Change]:
        """What the report's arrival itself settles: an R&M-recorded one is already in R&M."""
        if self.origin is Origin.REFER_AND_MONITOR:
            return self.record(Attempt(Channel.RM_RECORDED, now, AttemptResult.ACKNOWLEDGED), now)
        return []

    def record(self, attempt: Attempt, now: datetime) -> list[Change]:
        """Keep an attempt; acknowledge on a completing channel, escalate at once on a refusal."""
        self.attempts.append(attempt)
        if self.acknowledged_at is not None:
            return []
        if attempt.result is AttemptResult.ACKNOWLEDGED and attempt.channel in self.completing:
            self.acknowledged_at = attempt.at
            self.acknowledged_channel = attempt.channel
            return [Acknowledged(self.id, attempt.at, attempt.channel)]
        if attempt.result is AttemptResult.REFUSED:
            return self._escalate(now, Cause.REFUSED, _describe([attempt]))
        return []

    def tick(self, now: datetime, policy: ReportPolicy) -> list[Change]:
        """The clock's judgement: escalate when the deadline is near, breach once it has passed."""
        if self.acknowledged_at is not None:
            return []
        changes: list[Change] = []
        if now >= self.due_at - policy.escalate_before:
            changes += self._escalate(now, *self.cause())
        if now >= self.due_at and self.breached_at is None:
            self.breached_at = now
            self.breach_cause, self.breach_detail = self.cause()
            changes.append(Breached(self.id, now, self.breach_cause, self.breach_detail))
        return changes

    def next_check_at(self, policy: ReportPolicy) -> datetime | None:
        """When the clock must next look at this report (None once nothing more can happen)."""
        if self.acknowledged_at is not None or self.breached_at is not None:
            return None
        if self.escalated_at is None:
            return self.due_at - policy.escalate_before
        return self.due_at

    def cause(self) -> tuple[Cause, str]:
        """Why the report is not through, judged from its completing channels' attempts."""
        tried = [a for a in self.attempts if a.channel in self.completing]
        others = [a for a in self.attempts if a.channel not in self.completing]
        if not tried:
            channels = ", ".join(sorted(self.completing))
            return Cause.NOT_ATTEMPTED, f"no attempt on {channels}" + _also(others)
        last = tried[-1]
        cause = {
            AttemptResult.REFUSED: Cause.REFUSED,
            AttemptResult.FAILED: Cause.FAILING,
        }.get(last.result, Cause.AWAITING_ACKNOWLEDGEMENT)
        return cause, _describe(tried) + _also(others)

    def _escalate(self, now: datetime, cause: Cause, detail: str) -> list[Change]:
        if self.escalated_at is not None:
            return []
        self.escalated_at, self.escalation_cause, self.escalation_detail = now, cause, detail
        return [Escalated(self.id, now, cause, detail)]


def _describe(attempts: list[Attempt]) -> str:
    """`channel: result (detail) xN` per channel's last result, e.g. `webhook: failed (503) x3`."""
    parts = []
    for channel in dict.fromkeys(a.channel for a in attempts):
        mine = [a for a in attempts if a.channel is channel]
        last = mine[-1]
        detail = f" ({last.detail})" if last.detail else ""
        parts.append(f"{channel}: {last.result}{detail} x{len(mine)}")
    return "; ".join(parts)


def _also(others: list[Attempt]) -> str:
    return f"; also {_describe(others)}" if others else ""

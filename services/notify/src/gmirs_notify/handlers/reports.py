"""The report of each non-attendance: started once, fed every channel's attempts, judged by the clock.

Every change the domain decides (acknowledged, escalated, breached) is published as a delivery
event in the same transaction that stores it, so metrics sees exactly what notify recorded.
The R&M write-back (`handlers.rm_writeback`) records its attempts on the report like the webhook
does; R&M's echo of it (the platform's own submit coming back as an R&M event) is recognised by
the R&M appointment id the report carries.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Protocol

from gmirs_contracts.case import AttendanceRecorded
from gmirs_notify.adapters import events
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import (
    Attempt,
    AttemptResult,
    Change,
    Channel,
    Escalated,
    Origin,
    Report,
    ReportPolicy,
)
from gmirs_runtime import audit

log = logging.getLogger(__name__)
ECHO = "rm-event"
"""The detail of an rm_writeback acknowledgement proved by R&M's own event (the echo)."""


class ReportChannel(Protocol):
    """A channel that can complete a report (the R&M write-back, the Notify email)."""

    channel: Channel

    async def submit(self, report: Report) -> Attempt:
        """One attempt; the result says whether it was acknowledged, failed or refused."""
        ...


def publish_changes(uow: NotifyUnitOfWork, report: Report, changes: list[Change]) -> None:
    for change in changes:
        contract, payload = events.report_event(report, change)
        uow.publish(contract, payload, aggregate_type=events.AGGREGATE, aggregate_id=report.case_id)
        if isinstance(change, Escalated):
            log.error(
                "non-attendance report at risk",
                extra={"report_id": str(report.id), "cause": change.cause.value},
            )


async def start_report(
    attendance: AttendanceRecorded,
    event_id: uuid.UUID,
    uow: NotifyUnitOfWork,
    *,
    now: datetime,
    policy: ReportPolicy,
) -> Report | None:
    """Start the non-attendance's report; None if it has one already (a replay, or R&M's echo
    of the platform's own write-back, which instead proves R&M accepted it)."""
    if await _was_echo(attendance, uow, now=now, policy=policy):
        return None
    report = _report_of(attendance, report_id=uuid.uuid4(), now=now)
    changes = report.arrived(now)
    if not await uow.reports.start(report, event_id=event_id, policy=policy):
        return None
    publish_changes(uow, report, changes)
    return report


async def record_channel_attempt(
    uow: NotifyUnitOfWork,
    *,
    case_id: uuid.UUID,
    appointment_id: uuid.UUID,
    attempt: Attempt,
    now: datetime,
    policy: ReportPolicy,
) -> Report | None:
    """Keep one channel's attempt on the appointment's report (None if it has no report: a
    delivery created before reports existed)."""
    report = await uow.reports.for_appointment(case_id, appointment_id)
    if report is None:
        return None
    publish_changes(uow, report, report.record(attempt, now))
    await uow.reports.save(report, policy=policy)
    return report


async def judge_due(
    uow: NotifyUnitOfWork, *, now: datetime, policy: ReportPolicy, limit: int
) -> list[Report]:
    """The clock's round: escalate and breach what is due (locked rows are left to others)."""
    due = await uow.reports.claim_due(now=now, limit=limit)
    for report in due:
        publish_changes(uow, report, report.tick(now, policy))
        await uow.reports.save(report, policy=policy)
    return due


class ReportNotFoundError(Exception):
    pass


class ReportCompleteError(Exception):
    """The report is acknowledged: there is nothing left to retry."""


async def retry_now(
    uow: NotifyUnitOfWork, report_id: uuid.UUID, *, actor: str, now: datetime
) -> Report:
    """An operator's "retry now": pending webhook deliveries fall due, an unsent escalation
    email is tried again, and the clock judges the report at once. Audited."""
    report = await uow.reports.get(report_id)
    if report is None:
        raise ReportNotFoundError(str(report_id))
    if report.acknowledged_at is not None:
        raise ReportCompleteError(str(report_id))
    # Deliveries before the report: the order a delivery's attempt locks them (no deadlock).
    await uow.deliveries.retry_now(report.case_id, report.appointment_id, now=now)
    await uow.reports.retry_now(report.id, now=now)
    await audit.record(
        uow.session,
        actor=actor,
        action="report.retried",
        resource_type="report",
        resource_id=str(report.id),
    )
    return report


async def _was_echo(
    attendance: AttendanceRecorded, uow: NotifyUnitOfWork, *, now: datetime, policy: ReportPolicy
) -> bool:
    if attendance.source != Origin.REFER_AND_MONITOR.value or attendance.rm_appointment_id is None:
        return False
    echoed = await uow.reports.for_rm_appointment(attendance.case_id, attendance.rm_appointment_id)
    if echoed is None:
        return False
    if echoed.acknowledged_at is None:
        acknowledged = Attempt(Channel.RM_WRITEBACK, now, AttemptResult.ACKNOWLEDGED, ECHO)
        publish_changes(uow, echoed, echoed.record(acknowledged, now))
        await uow.reports.save(echoed, policy=policy)
    return True


def _report_of(attendance: AttendanceRecorded, *, report_id: uuid.UUID, now: datetime) -> Report:
    return Report(
        id=report_id,
        case_id=attendance.case_id,
        appointment_id=attendance.appointment_id,
        rm_appointment_id=attendance.rm_appointment_id,
        referral_id=attendance.referral_id,
        rm_referral_id=attendance.rm_referral_id,
        hub_id=attendance.hub_id,
        reference_number=attendance.reference_number,
        origin=Origin(attendance.source),
        appointment_ends_at=attendance.appointment_ends_at,
        due_at=attendance.report_due_by,
        created_at=now,
    )

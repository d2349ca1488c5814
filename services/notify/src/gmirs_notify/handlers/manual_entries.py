"""Manual entry: a person in the hub enters in R&M what R&M refused to take from the platform,
and confirms it here; the confirmation completes the report (channel `manual_entry`).

Confirming twice is harmless (the second answers the same); confirming a report that is not on
the queue (still being written back, or already in R&M) is refused. Audited.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import Attempt, AttemptResult, Channel, ReportPolicy
from gmirs_notify.domain.rm_writeback import Step, WriteBack
from gmirs_notify.handlers.reports import publish_changes
from gmirs_runtime import audit

ALL_HUBS = None


class ManualEntryNotFoundError(Exception):
    pass


class NotOnQueueError(Exception):
    """The report is not waiting for a manual entry."""


async def confirm_done(
    uow: NotifyUnitOfWork,
    report_id: uuid.UUID,
    *,
    actor: str,
    hub_scope: str | None,
    now: datetime,
    policy: ReportPolicy,
) -> WriteBack:
    """The person entered it in R&M: complete the report once."""
    write_back = await uow.rm_writebacks.get(report_id, for_update=True)
    if write_back is None or hub_scope not in (ALL_HUBS, write_back.hub_id):
        raise ManualEntryNotFoundError(str(report_id))
    if write_back.step is Step.MANUAL_DONE:
        return write_back
    if write_back.step is not Step.MANUAL:
        raise NotOnQueueError(str(report_id))
    report = await uow.reports.get(report_id, for_update=True)
    if report is None:
        raise ManualEntryNotFoundError(str(report_id))
    attempt = Attempt(Channel.MANUAL_ENTRY, now, AttemptResult.ACKNOWLEDGED, "confirmed")
    publish_changes(uow, report, report.record(attempt, now))
    await uow.reports.save(report, policy=policy)
    done = replace(write_back, step=Step.MANUAL_DONE, manual_done_at=now, manual_done_by=actor)
    await uow.rm_writebacks.save(done, next_at=None)
    await audit.record(
        uow.session,
        actor=actor,
        action="manual-entry.confirmed",
        resource_type="report",
        resource_id=str(report_id),
    )
    return done

"""A recorded non-attendance starts its report, its R&M write-back (hub-recorded, on an R&M
referral) and one pending delivery per subscribed endpoint.

Both happen once per non-attendance: the report is unique on case and appointment, and a
delivery is created only with a new report (so R&M's echo of the platform's own write-back
reaches no endpoint twice). The webhook body is built here, once, so every retry sends the same
bytes; the current trace is stored with each delivery so the outbound call continues it.
Endpoints are chosen by event type, hub and probation delivery unit; consent never applies (the
statutory report goes whatever the person agreed to share).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from gmirs_contracts.case import AttendanceRecorded
from gmirs_notify.adapters import events
from gmirs_notify.adapters.deliveries import NewDelivery
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.domain.subscription import NON_ATTENDANCE_RECORDED
from gmirs_notify.handlers.clock import Clock
from gmirs_notify.handlers.reports import start_report
from gmirs_notify.handlers.rm_writeback import write_back_of
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.telemetry import current_traceparent

log = logging.getLogger(__name__)


class NonAttendanceRecorder:
    """The consumer's handler for `attendance-recorded` (the clock and policy injected;
    `rm_ui_base_url` addresses the alert's link into R&M)."""

    def __init__(self, *, policy: ReportPolicy, clock: Clock, rm_ui_base_url: str) -> None:
        self._policy = policy
        self._clock = clock
        self._rm_ui_base_url = rm_ui_base_url

    async def __call__(
        self, attendance: AttendanceRecorded, event: Event, uow: NotifyUnitOfWork
    ) -> None:
        if not attendance.non_attendance:
            return
        now = self._clock()
        report = await start_report(attendance, event.id, uow, now=now, policy=self._policy)
        if report is None:
            return
        write_back = write_back_of(attendance, report)
        if write_back is not None:
            await uow.rm_writebacks.add(write_back, now=now)
        await self._deliver_to_subscribers(attendance, event, uow, now=now)

    async def _deliver_to_subscribers(
        self, attendance: AttendanceRecorded, event: Event, uow: NotifyUnitOfWork, *, now: datetime
    ) -> None:
        subscribers, session_number = await uow.subscriptions.for_alert(
            NON_ATTENDANCE_RECORDED,
            hub_id=attendance.hub_id,
            case_id=attendance.case_id,
            appointment_id=attendance.appointment_id,
        )
        if not subscribers:
            log.warning(
                "non-attendance has no subscribed endpoint", extra={"event_id": str(event.id)}
            )
            return
        body = events.probation_alert(
            attendance,
            created_at=now,
            session_number=session_number,
            rm_ui_base_url=self._rm_ui_base_url,
        ).to_data()
        traceparent, tracestate = current_traceparent()
        new = [
            NewDelivery(
                id=uuid.uuid4(),
                subscription_id=subscription.id,
                event_id=event.id,
                case_id=attendance.case_id,
                appointment_id=attendance.appointment_id,
                event_type=NON_ATTENDANCE_RECORDED,
                body=body,
                due_at=attendance.report_due_by,
                created_at=now,
                traceparent=traceparent,
                tracestate=tracestate,
            )
            for subscription in subscribers
        ]
        await uow.deliveries.add_new(new)

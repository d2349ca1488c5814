"""A recorded non-attendance becomes one pending delivery per subscribed endpoint (once).

The webhook body is built here, once, so every retry sends the same bytes; the current trace is
stored with each delivery so the outbound call, whenever it happens, continues the same trace.
Endpoints are chosen by event type, hub and probation delivery unit; consent never applies (the
statutory report goes whatever the person agreed to share).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from gmirs_contracts.case import AttendanceRecorded
from gmirs_notify.adapters import events
from gmirs_notify.adapters.deliveries import NewDelivery
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.subscription import NON_ATTENDANCE_RECORDED
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.telemetry import current_traceparent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NonAttendanceRecorder:
    """The consumer's handler; `rm_ui_base_url` addresses the alert's link into R&M."""

    rm_ui_base_url: str

    async def __call__(
        self, attendance: AttendanceRecorded, event: Event, uow: NotifyUnitOfWork
    ) -> None:
        if not attendance.non_attendance:
            return
        unit = await uow.case_facts.unit_of(attendance.case_id)
        subscribers = await uow.subscriptions.active_for(
            NON_ATTENDANCE_RECORDED, attendance.hub_id, unit
        )
        if not subscribers:
            # Nobody can be told: an operator must know, since the 24-hour clock is running.
            log.warning(
                "non-attendance has no subscribed endpoint", extra={"event_id": str(event.id)}
            )
            return
        now = datetime.now(UTC)
        body = events.probation_alert(
            attendance,
            created_at=now,
            session_number=await uow.case_facts.session_of(attendance.appointment_id),
            rm_ui_base_url=self.rm_ui_base_url,
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

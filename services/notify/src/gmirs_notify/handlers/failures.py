"""A delivery that fails for good never ends silently: this is the one place that says so.

Every permanent failure (the endpoint answered 410, retries ran out past the deadline, the
endpoint was removed or stayed disabled with reports still waiting) passes through
`delivery_failed`, in the transaction that failed the delivery: the row already holds
`status = failed`, `failure_reason` and `failed_at` (the record); here a non-attendance report's
webhook channel is told it was refused, which escalates the report at once (the report model's
one escalation path for a refusal: `Report.record`), and the failure is logged at error level and
counted on `gmirs.notify.deliveries.failed` (the alarm).
"""

from __future__ import annotations

import logging
from datetime import datetime

from opentelemetry import metrics

from gmirs_notify.adapters.deliveries import FailedDelivery
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import Attempt, AttemptResult, Channel, ReportPolicy
from gmirs_notify.domain.subscription import NON_ATTENDANCE_RECORDED
from gmirs_notify.handlers.reports import record_channel_attempt

log = logging.getLogger(__name__)
_failed = metrics.get_meter(__name__).create_counter(
    "gmirs.notify.deliveries.failed",
    unit="{delivery}",
    description="Webhook deliveries that failed for good, by reason.",
)


async def delivery_failed(
    uow: NotifyUnitOfWork,
    delivery: FailedDelivery,
    reason: str,
    *,
    now: datetime,
    policy: ReportPolicy,
    detail: str | None = None,
) -> None:
    """Escalate the delivery's report (if it carries one) and record loudly that the delivery
    will not be attempted again (no personal data). `detail` defaults to the reason."""
    if delivery.event_type == NON_ATTENDANCE_RECORDED and delivery.appointment_id is not None:
        await record_channel_attempt(
            uow,
            case_id=delivery.case_id,
            appointment_id=delivery.appointment_id,
            attempt=Attempt(Channel.WEBHOOK, now, AttemptResult.REFUSED, detail or reason),
            now=now,
            policy=policy,
        )
    log.error(
        "webhook delivery failed for good",
        extra={
            "delivery_id": str(delivery.id),
            "subscription_id": str(delivery.subscription_id),
            "failure_reason": reason,
        },
    )
    _failed.add(1, {"reason": reason})

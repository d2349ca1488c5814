"""A delivery that fails for good never ends silently: this is the one place that says so.

Every permanent failure (the endpoint answered 410, retries ran out past the deadline, the
endpoint was removed with reports still waiting) passes through `delivery_failed`: the delivery
row already holds `status = failed`, `failure_reason` and `failed_at` (the record); here it is
logged at error level and counted on `gmirs.notify.deliveries.failed` (the alarm). The 24-hour
report model escalates from here: `escalate(report)` is called at the marked seam.
"""

from __future__ import annotations

import logging
import uuid

from opentelemetry import metrics

log = logging.getLogger(__name__)
_failed = metrics.get_meter(__name__).create_counter(
    "gmirs.notify.deliveries.failed",
    unit="{delivery}",
    description="Webhook deliveries that failed for good, by reason.",
)


def delivery_failed(delivery_id: uuid.UUID, subscription_id: uuid.UUID, reason: str) -> None:
    """Record loudly that a delivery will not be attempted again (no personal data)."""
    log.error(
        "webhook delivery failed for good",
        extra={
            "delivery_id": str(delivery_id),
            "subscription_id": str(subscription_id),
            "failure_reason": reason,
        },
    )
    _failed.add(1, {"reason": reason})
    # Seam for the 24-hour report model (branch notifyclock): escalate(report) is called here.

"""The pending retrier: messages pushed to us over HTTP whose processing failed transiently.

The HTTP answer was 202 and the message is kept in `pending_messages`; this worker retries each
when its backoff runs out, until it is processed or proves unusable (then it is quarantined).
Claims are leases taken with SKIP LOCKED, so replicas can run side by side, and a replica that
dies mid-retry leaves its messages due again when their lease ends.
"""

from __future__ import annotations

import asyncio
import logging

from opentelemetry import trace
from sqlalchemy.exc import SQLAlchemyError

from gmirs_referral_intake.handlers.rm_receiving import ReceiptStatus, RmReceiver
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


class PendingRetrier:
    """`run(stop)` is the worker; `retry_due()` retries one batch (for tests and tools)."""

    def __init__(
        self,
        settings: IntakeSettings,
        receiver: RmReceiver,
        *,
        batch_size: int = 20,
        poll_seconds: float | None = None,
    ) -> None:
        self._receiver = receiver
        self._batch = batch_size
        self._poll = poll_seconds or min(1.0, settings.retry_initial_seconds)
        # Long enough for a retry to finish (R&M timeouts, a token fetch and a commit).
        self._lease = 3 * settings.rm_timeout_seconds + 30

    async def run(self, stop: asyncio.Event) -> None:
        """Retry due messages until `stop` is set; database failures only delay the next round."""
        while not stop.is_set():
            try:
                retried = await self.retry_due()
            except (OSError, SQLAlchemyError) as exc:
                log.warning("pending retry interrupted", extra={"error_class": type(exc).__name__})
                retried = 0
            if retried < self._batch:  # a full batch suggests more are due: go again at once
                await first_of(stop, timeout=self._poll)

    async def retry_due(self) -> int:
        """Retry every due message (up to one batch); return how many were claimed."""
        claimed = await self._receiver.claim_pending(limit=self._batch, lease=self._lease)
        if claimed:
            with tracer.start_as_current_span("pending-messages retry") as span:
                span.set_attribute("gmirs.retried", len(claimed))
                results = await asyncio.gather(
                    *(self._receiver.retry(m) for m in claimed), return_exceptions=True
                )
            for result in results:
                if isinstance(result, BaseException):  # its lease runs out and it is retried
                    log.error("pending retry failed", extra={"error_class": type(result).__name__})
                elif result.status is not ReceiptStatus.PENDING:
                    log.info("pending message resolved", extra={"status": result.status.value})
        return len(claimed)

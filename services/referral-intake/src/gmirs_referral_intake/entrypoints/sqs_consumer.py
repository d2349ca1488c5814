"""The SQS consumer: R&M domain events from our queue, each deleted only once it is safe to.

A message is deleted after its events are committed to our outbox, or after it was quarantined;
never before. While processing is slow its visibility is extended so no other consumer takes it.
A transient failure leaves the message in the queue, hidden for a backoff delay and shown to
operators as pending. The queue's own redrive policy stays in charge of giving up: on the last
receive before SQS would move the message to its DLQ, we quarantine a copy with the reason, so the
DLQ holds the message and our quarantine says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from gmirs_referral_intake.adapters.sqs import SQS_ERRORS, QueueMessage, SqsQueue
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.handlers.rm_receiving import RmReceiver
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
T = TypeVar("T")
SOURCE = "sqs"


def sqs_pending_key(message: QueueMessage) -> str:
    return f"sqs:{message.message_id}"


class SqsConsumer:
    """`run(stop)` is the worker; `pollers` long-polls run side by side on one client."""

    def __init__(self, settings: IntakeSettings, receiver: RmReceiver, *, pollers: int = 1) -> None:
        if not settings.sqs_queue_url:
            raise ValueError("sqs_queue_url is not set")
        self._settings = settings
        self._receiver = receiver
        self._pollers = pollers
        self._visibility = settings.sqs_visibility_timeout_seconds
        self._max_receives = settings.sqs_max_receive_count

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; messages in hand are finished, then the client closes."""
        async with SqsQueue.connect(self._settings) as queue:
            actual = await queue.max_receive_count()
            if actual is not None and actual != self._max_receives:
                log.warning("sqs_max_receive_count differs from the queue's; using the queue's")
                self._max_receives = actual
            await asyncio.gather(*(self._poll(queue, stop) for _ in range(self._pollers)))

    async def _poll(self, queue: SqsQueue, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                messages = await self._receive(queue, stop)
                if messages:
                    await self.handle_batch(queue, messages)
                failures = 0
            except SQS_ERRORS as exc:
                failures += 1
                log.warning("sqs unavailable", extra={"error_class": type(exc).__name__})
                await first_of(stop, timeout=self._receiver.backoff.delay(failures))

    async def _receive(self, queue: SqsQueue, stop: asyncio.Event) -> list[QueueMessage]:
        """A long poll that a stop request cuts short (unreceived messages just stay queued)."""
        receiving = asyncio.ensure_future(
            queue.receive(
                wait_seconds=self._settings.sqs_wait_seconds, visibility_seconds=self._visibility
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not receiving.done():
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
            return []
        return receiving.result()

    async def handle_batch(self, queue: SqsQueue, messages: list[QueueMessage]) -> None:
        """Handle a batch concurrently, then delete in one call what may be deleted."""
        verdicts = await asyncio.gather(*(self._handle(queue, m) for m in messages))
        done = [message for message, delete in zip(messages, verdicts, strict=True) if delete]
        if done and await queue.delete(done):
            log.warning("sqs refused some deletes; those messages will be received again")

    async def _handle(self, queue: SqsQueue, message: QueueMessage) -> bool:
        """Whether `message` may be deleted (processed or quarantined)."""
        attributes = {"messaging.system": "aws_sqs", "messaging.message.id": message.message_id}
        with tracer.start_as_current_span(
            "rm-events process", kind=SpanKind.CONSUMER, attributes=attributes
        ):
            try:
                return await self._process(queue, message)
            except Exception as exc:  # ours (database down, a bug): SQS redelivers it later
                log.error("sqs message not handled", extra={"error_class": type(exc).__name__})
                return False

    async def _process(self, queue: SqsQueue, message: QueueMessage) -> bool:
        try:
            envelope = self._receiver.parse(message.body)
            await self._with_heartbeat(queue, message, self._receiver.process(envelope))
        except UnusableMessageError as exc:
            await self._receiver.quarantine(
                source=SOURCE, raw=message.body, reason=exc.reason, pending_key=self._key(message)
            )
            return True
        except TransientFailureError as exc:
            await self._transient(queue, message, str(exc))
            return False
        if message.receive_count > 1:  # only a redelivered message can have a pending row
            await self._receiver.clear_pending(sqs_pending_key(message))
        return True

    async def _transient(self, queue: SqsQueue, message: QueueMessage, reason: str) -> None:
        if message.receive_count >= self._max_receives:
            why = (
                f"{reason}; still failing after {message.receive_count} receives"
                " (the message itself goes to the queue's DLQ)"
            )
            await self._receiver.quarantine(
                source=SOURCE, raw=message.body, reason=why, pending_key=sqs_pending_key(message)
            )
            await queue.change_visibility(message, 0)  # the next receive hands it to the DLQ
            return
        delay = max(
            self._receiver.backoff.delay(message.receive_count),
            spread_delay(
                message.receive_count,
                self._max_receives,
                self._settings.sqs_outage_tolerance_seconds,
            ),
        )
        await self._receiver.record_pending(
            key=sqs_pending_key(message),
            source=SOURCE,
            raw=message.body,
            reason=reason,
            retry_in=delay,
            attempts=message.receive_count,
        )
        await queue.change_visibility(message, delay)

    def _key(self, message: QueueMessage) -> str | None:
        return sqs_pending_key(message) if message.receive_count > 1 else None

    async def _with_heartbeat(
        self, queue: SqsQueue, message: QueueMessage, work: Awaitable[T]
    ) -> T:
        """Await `work`, extending the message's visibility every third of the timeout it runs on
        (two chances before it lapses, so one slow call to SQS does not expose the message)."""
        task = asyncio.ensure_future(work)
        interval = max(1.0, self._visibility / 3)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=interval)
                if done:
                    return task.result()
                try:
                    await queue.change_visibility(message, self._visibility)
                except SQS_ERRORS as exc:
                    log.warning(
                        "sqs visibility not extended", extra={"error_class": type(exc).__name__}
                    )
        finally:
            if not task.done():
                task.cancel()


def spread_delay(receive_count: int, max_receives: int, tolerance_seconds: float) -> float:
    """How long to hide a message after a transient failure, so its receives outlast an outage.

    SQS moves a message to the DLQ after `max_receives` receives, so retrying on the backoff alone
    would spend them in seconds while R&M is down. Doubling waits that add up to
    `tolerance_seconds` over the allowed receives mean an outage shorter than that costs nothing.
    """
    waits = max(max_receives - 1, 1)
    return float(tolerance_seconds * 2 ** (min(receive_count, waits) - 1) / (2**waits - 1))

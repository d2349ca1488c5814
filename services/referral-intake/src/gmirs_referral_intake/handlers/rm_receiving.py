"""What happens to an R&M message, whichever way it arrived: processed, pending, or quarantined.

Processing (helper F's `process_rm_event`, passed in as `process`) fetches the detail from R&M
and commits our events to the outbox. Around it this decides the fate of failures: a message that
can never be processed is quarantined with its reason; one that failed transiently is kept as
pending and retried with backoff. Nothing is dropped and nothing is held twice.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from gmirs_referral_intake.adapters import pending, quarantine
from gmirs_referral_intake.adapters.pending import PendingMessage
from gmirs_referral_intake.domain.retry import Backoff
from gmirs_referral_intake.domain.rm_envelope import RmEnvelope
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.domain.sns import envelope_from_text
from gmirs_referral_intake.handlers.rm_events import RmEventOutcome
from gmirs_runtime.db import UnitOfWork

log = logging.getLogger(__name__)

ProcessEnvelope = Callable[[RmEnvelope], Awaitable[RmEventOutcome]]
"""Process one envelope: fetch from R&M, commit our events (see handlers/rm_events.py)."""


class ReceiptStatus(enum.Enum):
    PUBLISHED = "published"
    DUPLICATE = "duplicate"
    PENDING = "pending"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Receipt:
    status: ReceiptStatus
    identity: uuid.UUID | None = None
    """The R&M event's identity, when the message could be read."""
    record_id: uuid.UUID | None = None
    """The pending or quarantine row, for those statuses."""
    reason: str | None = None


def event_pending_key(envelope: RmEnvelope) -> str:
    """One pending row per event, however many times it is pushed while R&M is down."""
    return f"event:{envelope.identity}"


class RmReceiver:
    """Receives R&M messages for every entrypoint (SNS push, bare envelopes, SQS, retries)."""

    def __init__(
        self,
        *,
        process: ProcessEnvelope,
        unit_of_work: Callable[[], UnitOfWork],
        backoff: Backoff,
        accepted_topics: Collection[str] = (),
    ) -> None:
        self._process = process
        self._unit_of_work = unit_of_work
        self.backoff = backoff
        self._topics = frozenset(accepted_topics)

    def parse(self, raw: str) -> RmEnvelope:
        """The envelope in `raw` (SNS Notification or bare); UnusableMessageError if none."""
        return envelope_from_text(raw, accepted_topics=self._topics)

    async def process(self, envelope: RmEnvelope) -> ReceiptStatus:
        outcome = await self._process(envelope)
        return ReceiptStatus(outcome.value)

    async def receive(self, *, source: str, raw: str) -> Receipt:
        """Process a pushed message; keep it as pending or quarantine it if that fails."""
        try:
            envelope = self.parse(raw)
        except UnusableMessageError as exc:
            return await self._quarantined(source, raw, exc.reason)
        try:
            status = await self.process(envelope)
        except UnusableMessageError as exc:
            return await self._quarantined(source, raw, exc.reason, envelope)
        except TransientFailureError as exc:
            retry_in = self.backoff.delay(1)
            pending_id = await self.record_pending(
                key=event_pending_key(envelope),
                source=source,
                raw=raw,
                reason=str(exc),
                retry_in=retry_in,
            )
            # Reasons name fields and kinds of failure, never values, so they may be logged.
            log.warning(
                "rm message pending (%s): %s",
                source,
                exc,
                extra={"event_id": str(envelope.identity)},
            )
            return Receipt(ReceiptStatus.PENDING, envelope.identity, pending_id, str(exc))
        return Receipt(status, envelope.identity)

    async def retry(self, message: PendingMessage) -> Receipt:
        """Retry a pending message: done, quarantined, or rescheduled further off."""
        row = message.summary
        try:
            envelope = self.parse(message.raw)
            status = await self.process(envelope)
        except UnusableMessageError as exc:
            held = await self.quarantine(
                source=row.source, raw=message.raw, reason=exc.reason, pending_id=row.id
            )
            return Receipt(ReceiptStatus.QUARANTINED, None, held, exc.reason)
        except Exception as exc:  # transient, or a failure of ours: either way, try again later
            reason = str(exc) if isinstance(exc, TransientFailureError) else type(exc).__name__
            async with self._unit_of_work() as uow:
                retry_in = self.backoff.delay(row.attempts + 1)
                await pending.reschedule(uow.session, row.id, reason=reason, retry_in=retry_in)
                await uow.commit()
            return Receipt(ReceiptStatus.PENDING, None, row.id, reason)
        async with self._unit_of_work() as uow:
            await pending.remove(uow.session, row.id)
            await uow.commit()
        return Receipt(status, envelope.identity)

    async def quarantine(
        self,
        *,
        source: str,
        raw: str,
        reason: str,
        pending_id: uuid.UUID | None = None,
        pending_key: str | None = None,
    ) -> uuid.UUID:
        """Hold `raw` with `reason` (and drop its pending row, if any) in one transaction."""
        async with self._unit_of_work() as uow:
            held = await quarantine.hold(uow.session, source=source, raw=raw, reason=reason)
            if pending_id is not None:
                await pending.remove(uow.session, pending_id)
            if pending_key is not None:
                await pending.clear(uow.session, key=pending_key)
            await uow.commit()
        log.warning("rm message quarantined (%s): %s", source, reason)
        return held

    async def record_pending(
        self,
        *,
        key: str,
        source: str,
        raw: str,
        reason: str,
        retry_in: float,
        attempts: int | None = None,
    ) -> uuid.UUID:
        async with self._unit_of_work() as uow:
            pending_id = await pending.record(
                uow.session,
                key=key,
                source=source,
                raw=raw,
                reason=reason,
                retry_in=retry_in,
                attempts=attempts,
            )
            await uow.commit()
        return pending_id

    async def clear_pending(self, key: str) -> None:
        async with self._unit_of_work() as uow:
            await pending.clear(uow.session, key=key)
            await uow.commit()

    async def claim_pending(self, *, limit: int, lease: float) -> list[PendingMessage]:
        async with self._unit_of_work() as uow:
            claimed = await pending.claim_due(uow.session, limit=limit, lease=lease)
            await uow.commit()
        return claimed

    async def _quarantined(
        self, source: str, raw: str, reason: str, envelope: RmEnvelope | None = None
    ) -> Receipt:
        held = await self.quarantine(source=source, raw=raw, reason=reason)
        identity = envelope.identity if envelope else None
        return Receipt(ReceiptStatus.QUARANTINED, identity, held, reason)

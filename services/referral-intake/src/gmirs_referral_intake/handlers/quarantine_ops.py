"""Operators' actions on quarantined and pending messages, for the API and the CLI alike.

Every action is audited with who did it and the reason they gave; viewing is the only action
that shows a message's content. A replay reads the message again exactly as it was first read
and processes it; the message leaves the quarantine only if that succeeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gmirs_referral_intake.adapters import pending, quarantine
from gmirs_referral_intake.adapters.pending import PendingSummary
from gmirs_referral_intake.adapters.quarantine import (
    DISCARDED,
    HELD,
    REPLAYED,
    QuarantinedMessage,
    QuarantineSummary,
)
from gmirs_referral_intake.domain.rm_errors import TransientFailureError, UnusableMessageError
from gmirs_referral_intake.handlers.rm_receiving import RmReceiver
from gmirs_runtime import audit
from gmirs_runtime.db import UnitOfWork

Replayer = Callable[[str], Awaitable[str]]
"""Process a quarantined message's raw text again; return the outcome (e.g. "published")."""

RESOURCE = "quarantined-message"
ENVELOPE_SOURCES = ("sqs", "sns-http", "bare", "poller")
"""Sources whose raw text is an R&M envelope (the poller holds a referral as its `sent` event)."""


class UnknownQuarantinedMessageError(Exception):
    """No quarantined message has that id."""


class NotHeldError(Exception):
    """The message was already replayed or discarded."""


class ReplayUnsupportedError(Exception):
    """Messages from this source cannot be replayed here (e.g. re-run the import instead)."""


@dataclass(frozen=True)
class ReplayResult:
    replayed: bool
    outcome: str | None
    """What processing did, when replayed (published / duplicate)."""
    reason: str | None
    """Why the message is still held, when not replayed."""
    message: QuarantineSummary


class QuarantineOperations:
    """List, view, replay and discard quarantined messages; list pending ones."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        receiver: RmReceiver,
        replayers: Mapping[str, Replayer] | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._receiver = receiver
        envelope = dict.fromkeys(ENVELOPE_SOURCES, self._replay_envelope)
        self._replayers: dict[str, Replayer] = {**envelope, **(replayers or {})}

    async def list_messages(
        self, *, actor: str, status: str | None = HELD, limit: int = 100
    ) -> list[QuarantineSummary]:
        async with self._unit_of_work() as uow:
            items = await quarantine.list_summaries(uow.session, status=status, limit=limit)
            await audit.record(
                uow.session, actor=actor, action="quarantine.listed", resource_type=RESOURCE
            )
            await uow.commit()
        return items

    async def list_pending(self, *, actor: str, limit: int = 100) -> list[PendingSummary]:
        async with self._unit_of_work() as uow:
            items = await pending.list_summaries(uow.session, limit=limit)
            await audit.record(
                uow.session, actor=actor, action="pending.listed", resource_type="pending-message"
            )
            await uow.commit()
        return items

    async def view(self, message_id: uuid.UUID, *, actor: str, reason: str) -> QuarantinedMessage:
        """The message with its raw content; the access is audited."""
        async with self._unit_of_work() as uow:
            message = await self._get(uow, message_id)
            await self._audit(uow, actor, "quarantine.viewed", message_id, reason)
            await uow.commit()
        return message

    async def replay(self, message_id: uuid.UUID, *, actor: str, reason: str) -> ReplayResult:
        """Process a held message again; TransientFailureError if R&M is still unavailable."""
        async with self._unit_of_work() as uow:
            message = await self._get(uow, message_id)
        if message.summary.status != HELD:
            raise NotHeldError(message.summary.status)
        replayer = self._replayers.get(message.summary.source)
        if replayer is None:
            raise ReplayUnsupportedError(message.summary.source)
        try:
            outcome = await replayer(message.raw)
        except UnusableMessageError as exc:
            return await self._still_held(message, actor, reason, exc.reason)
        except TransientFailureError:
            async with self._unit_of_work() as uow:
                await self._audit(uow, actor, "quarantine.replay-failed", message_id, reason)
                await uow.commit()
            raise
        async with self._unit_of_work() as uow:
            resolved = await quarantine.resolve(
                uow.session, message_id, status=REPLAYED, actor=actor
            )
            await self._audit(uow, actor, "quarantine.replayed", message_id, reason)
            await uow.commit()
        return ReplayResult(True, outcome, None, resolved or message.summary)

    async def discard(self, message_id: uuid.UUID, *, actor: str, reason: str) -> QuarantineSummary:
        """Give a held message up for good (it stays on record, marked discarded)."""
        async with self._unit_of_work() as uow:
            message = await self._get(uow, message_id)
            resolved = await quarantine.resolve(
                uow.session, message_id, status=DISCARDED, actor=actor
            )
            if resolved is None:
                raise NotHeldError(message.summary.status)
            await self._audit(uow, actor, "quarantine.discarded", message_id, reason)
            await uow.commit()
        return resolved

    async def _replay_envelope(self, raw: str) -> str:
        status = await self._receiver.process(self._receiver.parse(raw))
        return status.value

    async def _still_held(
        self, message: QuarantinedMessage, actor: str, reason: str, why: str
    ) -> ReplayResult:
        message_id = message.summary.id
        async with self._unit_of_work() as uow:
            await quarantine.note_failed_replay(uow.session, message_id, reason=why)
            await self._audit(uow, actor, "quarantine.replay-failed", message_id, reason)
            current = await quarantine.get(uow.session, message_id)
            await uow.commit()
        return ReplayResult(False, None, why, current.summary if current else message.summary)

    @staticmethod
    async def _get(uow: UnitOfWork, message_id: uuid.UUID) -> QuarantinedMessage:
        message = await quarantine.get(uow.session, message_id)
        if message is None:
            raise UnknownQuarantinedMessageError(str(message_id))
        return message

    @staticmethod
    async def _audit(
        uow: UnitOfWork, actor: str, action: str, message_id: uuid.UUID, reason: str
    ) -> None:
        await audit.record(
            uow.session,
            actor=actor,
            action=action,
            resource_type=RESOURCE,
            resource_id=str(message_id),
            reason=reason,
        )

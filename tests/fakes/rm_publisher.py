"""Sends the simulator's events out, and keeps a record of every one for tests to inspect.

R&M publishes fire-and-forget: a failed publish is logged, never retried. The simulator does the
same, recording the failure, and adds what tests need: hold events to release them later in any
order, withhold them for good (reconciliation must find the referral), and send duplicates.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import httpx
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from tests.fakes.rm_faults import Delivery, Faults
from tests.fakes.rm_model import now
from tests.fakes.rm_sns import SnsPublisher, SnsPusher

Channel = Literal["sns", "push"]
_log = logging.getLogger("fake.rm_simulator")


@dataclass
class Publication:
    """One event (or raw message) and what became of it on each channel."""

    seq: int
    event_type: str | None
    message: str  # the exact SNS Message text
    envelope: dict[str, Any] | None  # the bare envelope, None for raw messages
    state: str  # published | held | withheld
    channels: list[str]
    duplicate: bool = False
    sns_message_id: str | None = None
    sns_error: str | None = None
    push_status: int | None = None
    push_error: str | None = None
    push_message_id: str | None = None
    tampered: bool = False
    recorded_at: str = field(default_factory=lambda: now().isoformat())

    def describe(self) -> dict[str, Any]:
        return asdict(self)


class Publisher:
    def __init__(self, sns: SnsPublisher | None, pusher: SnsPusher | None, faults: Faults) -> None:
        self.sns = sns
        self.pusher = pusher
        self.faults = faults
        self.publications: list[Publication] = []
        self._held: list[Publication] = []
        self._lock = asyncio.Lock()  # one at a time, so the log order is the send order

    @property
    def channels(self) -> list[Channel]:
        found: list[Channel] = []
        if self.sns is not None:
            found.append("sns")
        if self.pusher is not None:
            found.append("push")
        return found

    def reset(self, faults: Faults) -> None:
        self.faults = faults
        self.publications.clear()
        self._held.clear()

    async def publish_events(
        self,
        envelopes: Sequence[dict[str, Any]],
        *,
        delivery: Delivery | None = None,
        channels: Sequence[Channel] | None = None,
    ) -> list[Publication]:
        """Publish envelopes in order (or hold / withhold them) on the chosen channels."""
        items = [(json.dumps(e, separators=(",", ":")), str(e["eventType"]), e) for e in envelopes]
        return await self._send_all(items, delivery, channels)

    async def publish_raw(
        self, message: str, event_type: str | None, *, channels: Sequence[Channel] | None = None
    ) -> list[Publication]:
        """Publish any text (malformed JSON, an unknown type...) with an optional eventType attribute."""
        return await self._send_all([(message, event_type, None)], "publish", channels)

    async def release(self, *, reverse: bool) -> list[Publication]:
        """Send every held publication, oldest first or newest first."""
        async with self._lock:
            held, self._held = self._held, []
            ordered = list(reversed(held)) if reverse else held
            for publication in ordered:
                publication.state = "published"
                await self._send(publication)
                self.publications.remove(publication)
                self.publications.append(publication)  # the log shows send order
            return ordered

    async def _send_all(
        self,
        items: Iterable[tuple[str, str | None, dict[str, Any] | None]],
        delivery: Delivery | None,
        channels: Sequence[Channel] | None,
    ) -> list[Publication]:
        chosen = list(channels) if channels is not None else self.channels
        state = delivery or self.faults.delivery
        sent: list[Publication] = []
        async with self._lock:
            for message, event_type, envelope in items:
                copies = 1
                if state == "publish" and self.faults.duplicate_next > 0:
                    self.faults.duplicate_next -= 1
                    copies = 2
                for copy in range(copies):
                    publication = self._record(message, event_type, envelope, state, chosen)
                    publication.duplicate = copy > 0
                    sent.append(publication)
                    if state == "hold":
                        self._held.append(publication)
                    elif state == "publish":
                        await self._send(publication)
        return sent

    def _record(
        self,
        message: str,
        event_type: str | None,
        envelope: dict[str, Any] | None,
        state: str,
        channels: list[Channel],
    ) -> Publication:
        state_name = {"publish": "published", "hold": "held", "withhold": "withheld"}[state]
        publication = Publication(
            len(self.publications) + 1, event_type, message, envelope, state_name, list(channels)
        )
        self.publications.append(publication)
        return publication

    async def _send(self, publication: Publication) -> None:
        if "sns" in publication.channels and self.sns is not None:
            try:
                publication.sns_message_id = await self.sns.publish(
                    publication.message, publication.event_type
                )
            except (BotoCoreError, ClientError) as exc:
                publication.sns_error = type(exc).__name__
                _log.warning("sns publish failed seq=%d: %s", publication.seq, type(exc).__name__)
        if "push" in publication.channels and self.pusher is not None:
            await self._push(publication)
        _log.info("published seq=%d type=%s", publication.seq, publication.event_type)

    async def _push(self, publication: Publication) -> None:
        assert self.pusher is not None
        tamper = self.faults.tamper_next_pushes > 0
        if tamper:
            self.faults.tamper_next_pushes -= 1
        body = self.pusher.notification(
            publication.message,
            publication.event_type,
            version=self.faults.signature_version,
            tamper=tamper,
        )
        publication.tampered = tamper
        publication.push_message_id = str(body["MessageId"])
        try:
            publication.push_status = await self.pusher.push(body)
        except httpx.HTTPError as exc:
            publication.push_error = type(exc).__name__
            _log.warning("push failed seq=%d: %s", publication.seq, type(exc).__name__)

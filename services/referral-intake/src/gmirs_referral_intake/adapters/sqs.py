"""Our SQS queue (subscribed to the HMPPS domain-events topic), through aiobotocore.

Credentials come from settings when given (moto locally) and otherwise from the default AWS
chain (a pod's web identity in the cloud), so no key needs to exist in production config.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiobotocore.session import get_session  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

    from gmirs_referral_intake.settings import IntakeSettings

log = logging.getLogger(__name__)
MAX_BATCH = 10  # SQS's limit for receive and delete batches
MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's limit
SQS_ERRORS = (BotoCoreError, ClientError, OSError)
"""What a call to SQS may raise when SQS (or the network to it) fails."""


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    """How many times SQS has handed this message out, this time included."""


class SqsQueue:
    """One queue; create with `async with SqsQueue.connect(settings) as queue`."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    @classmethod
    @asynccontextmanager
    async def connect(cls, settings: IntakeSettings) -> AsyncIterator[SqsQueue]:
        if not settings.sqs_queue_url:
            raise ValueError("sqs_queue_url is not set")
        async with get_session().create_client("sqs", **client_options(settings)) as client:
            yield cls(client, settings.sqs_queue_url)

    async def receive(self, *, wait_seconds: int, visibility_seconds: int) -> list[QueueMessage]:
        """Up to ten messages, long-polling up to `wait_seconds` for the first."""
        response = await self._client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=MAX_BATCH,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            QueueMessage(
                message_id=m["MessageId"],
                receipt_handle=m["ReceiptHandle"],
                body=m.get("Body", ""),
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            )
            for m in response.get("Messages", [])
            if "MessageId" in m and "ReceiptHandle" in m
        ]

    async def delete(self, messages: Sequence[QueueMessage]) -> int:
        """Delete `messages` in batches; return how many SQS refused (they will come back)."""
        failed = 0
        for start in range(0, len(messages), MAX_BATCH):
            batch = messages[start : start + MAX_BATCH]
            response = await self._client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch)
                ],
            )
            failed += len(response.get("Failed", []))
        return failed

    async def change_visibility(self, message: QueueMessage, seconds: float) -> None:
        """Hide `message` for `seconds` from now (0 makes it visible again at once)."""
        timeout = max(0, min(MAX_VISIBILITY_SECONDS, round(seconds)))
        await self._client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=timeout
        )

    async def max_receive_count(self) -> int | None:
        """The queue's redrive maxReceiveCount, or None if it has no DLQ or we may not read it."""
        try:
            response = await self._client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
            )
            policy = json.loads(response.get("Attributes", {}).get("RedrivePolicy", "{}"))
            return int(policy["maxReceiveCount"])
        except (*SQS_ERRORS, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "queue redrive policy unreadable", extra={"error_class": type(exc).__name__}
            )
            return None


def client_options(settings: IntakeSettings) -> dict[str, Any]:
    """aiobotocore client arguments; the read timeout outlasts a long poll."""
    options: dict[str, Any] = {
        "region_name": settings.aws_region,
        "config": AioConfig(
            connect_timeout=settings.rm_timeout_seconds,
            read_timeout=settings.sqs_wait_seconds + 10,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    }
    if settings.aws_endpoint_url:
        options["endpoint_url"] = settings.aws_endpoint_url
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        options["aws_access_key_id"] = settings.aws_access_key_id.get_secret_value()
        options["aws_secret_access_key"] = settings.aws_secret_access_key.get_secret_value()
    return options

"""Sends one signed webhook attempt and reports its outcome; never raises for the receiver's faults.

Headers follow Standard Webhooks: `webhook-id` is constant across retries, `webhook-timestamp` is
this attempt's time, and `webhook-signature` carries one `v1,` signature per active secret, so a
subscriber mid-rotation can verify with either. Redirects are not followed (a 3xx is a failure),
and each attempt is a CLIENT span whose W3C context travels in the request headers.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.util.types import AttributeValue
from standardwebhooks import Webhook

from gmirs_notify.adapters.deliveries import ClaimedDelivery
from gmirs_notify.adapters.guard import GuardedTransport
from gmirs_notify.domain.delivery import AttemptOutcome
from gmirs_notify.domain.targets import TargetPolicy, TargetRefusedError
from gmirs_runtime.telemetry import inject_http_headers

tracer = trace.get_tracer(__name__)
THROTTLING = frozenset({429, 503})
MAX_DRAINED_BYTES = 64 * 1024
USER_AGENT = "gmirs-notify/1 (Standard Webhooks)"


def webhook_headers(
    webhook_id: str, body: str, secrets: tuple[str, ...], timestamp: int
) -> dict[str, str]:
    """The Standard Webhooks headers for `body` as sent at `timestamp` (Unix seconds)."""
    at = datetime.fromtimestamp(timestamp, UTC)
    signature = " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as delay-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - now)


class WebhookSender:
    def __init__(
        self,
        *,
        policy: TargetPolicy,
        timeout_seconds: float,
        max_connections: int = 100,
    ) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=20)
        self._timeout = timeout_seconds
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(policy, limits=limits),
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, claimed: ClaimedDelivery) -> AttemptOutcome:
        """One attempt, as a CLIENT span child of the current context (the report's trace)."""
        return await self.post(
            claimed.url, claimed.body, claimed.webhook_id, claimed.secrets, claimed.attempts
        )

    async def post(
        self, url: str, body: str, webhook_id: str, secrets: tuple[str, ...], attempt: int = 1
    ) -> AttemptOutcome:
        """POST one signed body to `url` (a delivery's attempt, or a ping) and judge nothing."""
        parts = urlsplit(url)
        attributes: dict[str, AttributeValue] = {
            "http.request.method": "POST",
            "server.address": parts.hostname or "",
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
            "webhook.id": webhook_id,
            "webhook.attempt": attempt,
        }
        with tracer.start_as_current_span(
            "POST webhook", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            outcome = await self._attempt(url, body, webhook_id, secrets)
            if outcome.status_code is not None:
                span.set_attribute("http.response.status_code", outcome.status_code)
            if not outcome.acknowledged:
                span.set_attribute("error.type", outcome.error_class or str(outcome.status_code))
                span.set_status(StatusCode.ERROR)
            return outcome

    async def _attempt(
        self, url: str, body: str, webhook_id: str, secrets: tuple[str, ...]
    ) -> AttemptOutcome:
        now = int(time.time())
        headers = webhook_headers(webhook_id, body, secrets, now)
        inject_http_headers(headers)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                status, retry_after = await self._post(url, body, headers)
        except (httpx.HTTPError, httpx.InvalidURL, TargetRefusedError, TimeoutError) as exc:
            return AttemptOutcome(None, type(exc).__name__, duration_ms=_since(started))
        return AttemptOutcome(status, None, retry_after=retry_after, duration_ms=_since(started))

    async def _post(
        self, url: str, body: str, headers: dict[str, str]
    ) -> tuple[int, timedelta | None]:
        async with self._client.stream(
            "POST", url, content=body.encode("utf-8"), headers=headers
        ) as response:
            await _drain(response)
            retry_after = None
            if response.status_code in THROTTLING:
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), datetime.now(UTC)
                )
            return response.status_code, retry_after


async def _drain(response: httpx.Response) -> None:
    """Read a small answer so the connection can be reused; stop early on a large one."""
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > MAX_DRAINED_BYTES:
            return


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)

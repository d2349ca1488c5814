"""GOV.UK Notify through its official client (`notifications-python-client`), off the event loop.

The client is synchronous and not thread-safe, so each call builds its own client in a worker
thread (Notify is used for a handful of escalation emails, not at volume). A 4xx is Notify
refusing the request for good (bad key, template or address: a person must fix the settings);
anything else (5xx, timeouts, connection errors) is worth trying again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from requests import RequestException

DELIVERED = "delivered"
FAILED_FOR_GOOD = frozenset({"permanent-failure", "technical-failure", "validation-failed"})


class NotifyError(Exception):
    """Notify did not take the request; `permanent` when trying again cannot help."""

    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class SentEmail:
    notification_id: str


class GovNotifyClient:
    def __init__(self, *, api_key: str, base_url: str, timeout_seconds: float = 10.0) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout_seconds

    async def send_email(
        self,
        *,
        to: str,
        template_id: str,
        personalisation: Mapping[str, str],
        reference: str | None = None,
    ) -> SentEmail:
        """Ask Notify to send; the answer's id is how its delivery is followed."""

        def send(client: Any) -> Any:
            return client.send_email_notification(
                email_address=to,
                template_id=template_id,
                personalisation=dict(personalisation),
                reference=reference,
            )

        answer = await self._call(send)
        return SentEmail(notification_id=str(answer["id"]))

    async def status(self, notification_id: str) -> str:
        """Notify's status of one email (`created`, `sending`, `delivered`, `...-failure`)."""
        answer = await self._call(lambda client: client.get_notification_by_id(notification_id))
        return str(answer["status"])

    async def _call(self, call: Any) -> Any:
        def run() -> Any:
            client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
                self._api_key, base_url=self._base_url, timeout=self._timeout
            )
            try:
                return call(client)
            finally:
                client.request_session.close()

        try:
            return await asyncio.to_thread(run)
        except APIError as exc:
            status = exc.status_code
            permanent = 400 <= status < 500 and status != 429
            raise NotifyError(f"notify {status}", permanent=permanent) from None
        except RequestException as exc:
            raise NotifyError(type(exc).__name__, permanent=False) from None

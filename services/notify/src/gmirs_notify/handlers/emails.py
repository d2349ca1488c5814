"""Emails through GOV.UK Notify for work claimed from the database, each leased for one try.

The escalation emails and the attendance watchdog's warnings work the same way: after a clock
round, outside any transaction, claim what is unsent (leasing it, so replicas never take the
same row and a failed try is taken again when the lease ends), send each, and record success.
At least once: a crash between Notify's answer and the record sends the email again.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from gmirs_notify.adapters.gov_notify import GovNotifyClient, NotifyError
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")
BATCH = 50
T = TypeVar("T")


def london_time(at: datetime) -> str:
    """A time as a person in England reads it, e.g. `Monday 07 December 2026 at 11:00`."""
    return at.astimezone(LONDON).strftime("%A %d %B %Y at %H:%M")


@dataclass(frozen=True, slots=True)
class EscalationRecipients:
    lead_provider: str | None
    hub_contacts: Mapping[str, str] = field(default_factory=dict)

    def of(self, hub_id: str) -> list[str]:
        """The hub's named contact and the lead provider (those configured)."""
        found = [self.hub_contacts.get(hub_id), self.lead_provider]
        return [address for address in found if address]

    def hub(self, hub_id: str) -> list[str]:
        """The hub's named contact alone (if configured)."""
        found = self.hub_contacts.get(hub_id)
        return [found] if found else []


class LeasedMailer(ABC, Generic[T]):
    """Claim unsent items, email each through Notify, record the ones sent."""

    what = "email"
    """Names the email in log lines."""

    def __init__(
        self,
        *,
        client: GovNotifyClient,
        template_id: str,
        recipients: EscalationRecipients,
        unit_of_work: Callable[[], NotifyUnitOfWork],
        retry_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self._client = client
        self._template_id = template_id
        self._recipients = recipients
        self._unit_of_work = unit_of_work
        self._retry_after = retry_after

    @abstractmethod
    async def claim(
        self, uow: NotifyUnitOfWork, *, now: datetime, limit: int, lease: timedelta
    ) -> list[T]: ...

    @abstractmethod
    async def sent(self, uow: NotifyUnitOfWork, item: T, *, at: datetime) -> None: ...

    @abstractmethod
    def recipients(self, item: T) -> list[str]: ...

    @abstractmethod
    def personalisation(self, item: T) -> dict[str, str]:
        """The template's fields: ids, hub, times; never the person's personal data."""

    @abstractmethod
    def reference(self, item: T) -> str:
        """Notify's `reference` for the email: an id, never personal data."""

    async def __call__(self, now: datetime) -> None:
        """Email everything unsent (the report clock calls this after a round)."""
        async with self._unit_of_work() as uow:
            claimed = await self.claim(uow, now=now, limit=BATCH, lease=self._retry_after)
            await uow.commit()
        for item in claimed:
            if await self._send(item):
                async with self._unit_of_work() as uow:
                    await self.sent(uow, item, at=now)
                    await uow.commit()

    async def _send(self, item: T) -> bool:
        recipients = self.recipients(item)
        if not recipients:
            log.error(f"no {self.what} recipient configured", extra={"ref": self.reference(item)})
            return False
        try:
            for address in recipients:
                await self._client.send_email(
                    to=address,
                    template_id=self._template_id,
                    personalisation=self.personalisation(item),
                    reference=self.reference(item),
                )
        except NotifyError as exc:
            level = logging.ERROR if exc.permanent else logging.WARNING
            log.log(
                level,
                f"{self.what} not sent",
                extra={"ref": self.reference(item), "error": exc.detail},
            )
            return False
        return True

"""Escalation emails: the hub's named contact and the lead provider hear of a report at risk.

Sent through GOV.UK Notify after the report clock's round, outside any transaction; each
escalated report is leased for one try, so a failed send is tried again when the lease ends
(at least once: a crash between sending and recording may send an email twice). The email
carries what a person needs to act and no more: the case reference, the hub, the deadline and
the cause; never the person's name, date of birth or CRN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gmirs_notify.adapters.gov_notify import GovNotifyClient, NotifyError
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import Report

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")
BATCH = 50


@dataclass(frozen=True, slots=True)
class EscalationRecipients:
    lead_provider: str | None
    hub_contacts: Mapping[str, str] = field(default_factory=dict)

    def of(self, hub_id: str) -> list[str]:
        found = [self.hub_contacts.get(hub_id), self.lead_provider]
        return [address for address in found if address]


def personalisation(report: Report) -> dict[str, str]:
    """The template's fields: ids, hub, deadline and cause; no personal data of the person."""
    due = report.due_at.astimezone(LONDON)
    return {
        "case_reference": report.reference_number or str(report.case_id),
        "hub": report.hub_id,
        "due_at": due.strftime("%A %d %B %Y at %H:%M (%Z)"),
        "cause": report.escalation_cause.value if report.escalation_cause else "",
    }


class EscalationMailer:
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

    async def __call__(self, now: datetime) -> None:
        """Email every escalation not yet emailed (the report clock calls this after a round)."""
        async with self._unit_of_work() as uow:
            claimed = await uow.reports.claim_unnotified_escalations(
                now=now, limit=BATCH, lease=self._retry_after
            )
            await uow.commit()
        for report in claimed:
            if await self._send(report):
                async with self._unit_of_work() as uow:
                    await uow.reports.escalation_notified(report.id, at=now)
                    await uow.commit()

    async def _send(self, report: Report) -> bool:
        recipients = self._recipients.of(report.hub_id)
        if not recipients:
            log.error("no escalation recipient configured", extra={"hub_id": report.hub_id})
            return False
        try:
            for address in recipients:
                await self._client.send_email(
                    to=address,
                    template_id=self._template_id,
                    personalisation=personalisation(report),
                    reference=str(report.id),
                )
        except NotifyError as exc:
            level = logging.ERROR if exc.permanent else logging.WARNING
            log.log(
                level,
                "escalation email not sent",
                extra={"report_id": str(report.id), "error": exc.detail},
            )
            return False
        return True

"""Escalation emails: the hub's named contact and the lead provider hear of a report at risk.

Sent through GOV.UK Notify after the report clock's round, outside any transaction
(`handlers/emails.LeasedMailer`). The email carries what a person needs to act and no more: the
case reference, the hub, the deadline and the cause; never the person's name, date of birth or
CRN.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import Report
from gmirs_notify.handlers.emails import LONDON, EscalationRecipients, LeasedMailer

__all__ = ["EscalationMailer", "EscalationRecipients", "personalisation"]


def personalisation(report: Report) -> dict[str, str]:
    """The template's fields: ids, hub, deadline and cause; no personal data of the person."""
    due = report.due_at.astimezone(LONDON)
    return {
        "case_reference": report.reference_number or str(report.case_id),
        "hub": report.hub_id,
        "due_at": due.strftime("%A %d %B %Y at %H:%M (%Z)"),
        "cause": report.escalation_cause.value if report.escalation_cause else "",
    }


class EscalationMailer(LeasedMailer[Report]):
    what = "escalation email"

    async def claim(
        self, uow: NotifyUnitOfWork, *, now: datetime, limit: int, lease: timedelta
    ) -> list[Report]:
        return await uow.reports.claim_unnotified_escalations(now=now, limit=limit, lease=lease)

    async def sent(self, uow: NotifyUnitOfWork, item: Report, *, at: datetime) -> None:
        await uow.reports.escalation_notified(item.id, at=at)

    def recipients(self, item: Report) -> list[str]:
        return self._recipients.of(item.hub_id)

    def personalisation(self, item: Report) -> dict[str, str]:
        return personalisation(item)

    def reference(self, item: Report) -> str:
        return str(item.id)

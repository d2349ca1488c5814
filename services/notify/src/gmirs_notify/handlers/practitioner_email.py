"""The report by email: for a referral without an R&M id, GOV.UK Notify tells the referring
practitioner, and Notify reporting the email delivered completes the report.

Runs after each report clock round, outside any transaction for the Notify calls. Each due
report is leased for one step: send the email (an `accepted` attempt; a 4xx from Notify is a
refusal, which escalates at once), or follow its status (`delivered` acknowledges,
`permanent-failure` / `technical-failure` refuse, `temporary-failure` is sent again). A report
whose practitioner is not known yet (intake's referral-received not arrived) waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from gmirs_notify.adapters.gov_notify import (
    DELIVERED,
    FAILED_FOR_GOOD,
    GovNotifyClient,
    NotifyError,
)
from gmirs_notify.adapters.practitioner_emails import DueEmail
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import Attempt, AttemptResult, Channel, ReportPolicy
from gmirs_notify.handlers.emails import london_time
from gmirs_notify.handlers.reports import record_channel_attempt

log = logging.getLogger(__name__)
BATCH = 50
STILL_SENDING = frozenset({"created", "sending", "pending"})


def practitioner_personalisation(due: DueEmail) -> dict[str, str]:
    """What the practitioner needs to act: reference, hub, when; never the person's details."""
    return {
        "case_reference": due.reference_number or str(due.case_id),
        "hub": due.hub_id,
        "appointment_ended_at": london_time(due.appointment_ends_at),
    }


class PractitionerEmail:
    channel = Channel.NOTIFY_EMAIL

    def __init__(
        self,
        *,
        client: GovNotifyClient,
        template_id: str,
        unit_of_work: Callable[[], NotifyUnitOfWork],
        policy: ReportPolicy,
        follow_every: timedelta = timedelta(seconds=30),
        retry_after: timedelta = timedelta(minutes=1),
    ) -> None:
        self._client = client
        self._template_id = template_id
        self._unit_of_work = unit_of_work
        self._policy = policy
        self._follow_every = follow_every
        self._retry_after = retry_after

    async def __call__(self, now: datetime) -> None:
        async with self._unit_of_work() as uow:
            claimed = await uow.emails.claim_due(now=now, limit=BATCH, lease=self._retry_after)
            await uow.commit()
        for due in claimed:
            if due.notification_id is None:
                await self._send(due, now)
            else:
                await self._follow(due, due.notification_id, now)

    async def _send(self, due: DueEmail, now: datetime) -> None:
        if due.email is None:
            return  # the lease ends and it is tried again once intake's referral has arrived
        try:
            sent = await self._client.send_email(
                to=due.email,
                template_id=self._template_id,
                personalisation=practitioner_personalisation(due),
                reference=str(due.report_id),
            )
        except NotifyError as exc:
            result = AttemptResult.REFUSED if exc.permanent else AttemptResult.FAILED
            await self._record(due, result, exc.detail, now, notification_id=None)
            return
        await self._record(due, AttemptResult.ACCEPTED, None, now, sent.notification_id)

    async def _follow(self, due: DueEmail, notification_id: str, now: datetime) -> None:
        try:
            status = await self._client.status(notification_id)
        except NotifyError as exc:
            log.warning(
                "notify status unknown",
                extra={"report_id": str(due.report_id), "error": exc.detail},
            )
            return
        if status in STILL_SENDING:
            async with self._unit_of_work() as uow:
                await uow.emails.follow(
                    due.report_id, notification_id=notification_id, next_at=now + self._follow_every
                )
                await uow.commit()
            return
        if status == DELIVERED:
            await self._record(due, AttemptResult.ACKNOWLEDGED, status, now, notification_id)
        elif status in FAILED_FOR_GOOD:
            await self._record(due, AttemptResult.REFUSED, status, now, notification_id)
        else:  # temporary-failure: Notify gave up on this one; send it again
            await self._record(due, AttemptResult.FAILED, status, now, notification_id=None)

    async def _record(
        self,
        due: DueEmail,
        result: AttemptResult,
        detail: str | None,
        now: datetime,
        notification_id: str | None,
    ) -> None:
        """Keep the attempt on the report and decide the channel's next step."""
        if result is AttemptResult.ACCEPTED:
            next_at: datetime | None = now + self._follow_every
        elif result is AttemptResult.FAILED:
            next_at = now + self._retry_after
        else:
            next_at = None  # acknowledged or refused: nothing more to do by email
        async with self._unit_of_work() as uow:
            await record_channel_attempt(
                uow,
                case_id=due.case_id,
                appointment_id=due.appointment_id,
                attempt=Attempt(Channel.NOTIFY_EMAIL, now, result, detail),
                now=now,
                policy=self._policy,
            )
            await uow.emails.follow(due.report_id, notification_id=notification_id, next_at=next_at)
            await uow.commit()

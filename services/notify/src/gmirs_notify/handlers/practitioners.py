"""Intake's referral-received: keep the referring practitioner's address where the report will go
by email (a referral without an R&M id), and nothing else about the referral or the person."""

from __future__ import annotations

from gmirs_contracts.intake import ReferralReceived
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.handlers.clock import Clock
from gmirs_runtime.eventing.envelope import Event


class PractitionerRecorder:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def __call__(
        self, received: ReferralReceived, event: Event, uow: NotifyUnitOfWork
    ) -> None:
        if received.rm_referral_id is not None:
            return  # its report goes to R&M, not by email
        email = str(received.referring_practitioner.email)
        await uow.emails.remember(received.referral_id, email, at=self._clock())

"""The report clock: a worker that escalates reports at risk and records breaches, on time.

Each round judges the reports whose `next_check_at` has come (claimed with SKIP LOCKED, so any
number of replicas can run it), then runs its after-round steps: the attendance watchdog (its
own SKIP LOCKED claim) and the steps that talk to GOV.UK Notify (escalation emails, the report
by email, the watchdog's warning) outside the round's transaction. Time comes
from the injected clock, so tests move it forward instead of waiting; the loop only polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.reports import judge_due
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
BATCH = 200

AfterRound = Callable[[datetime], Awaitable[None]]


class ReportClock:
    def __init__(
        self,
        *,
        unit_of_work: Callable[[], NotifyUnitOfWork],
        policy: ReportPolicy,
        poll_seconds: float,
        clock: Clock = utc_now,
        after_round: Sequence[AfterRound] = (),
    ) -> None:
        self._unit_of_work = unit_of_work
        self._policy = policy
        self._poll = poll_seconds
        self._clock = clock
        self._after_round = after_round

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.round()
            except (OSError, TimeoutError, SQLAlchemyError) as exc:
                log.warning("report clock interrupted", extra={"error_class": type(exc).__name__})
            await first_of(stop, timeout=self._poll)

    async def round(self) -> int:
        """Judge everything due now, a batch per transaction; returns how many were judged."""
        now = self._clock()
        judged = 0
        while True:
            async with self._unit_of_work() as uow:
                batch = await judge_due(uow, now=now, policy=self._policy, limit=BATCH)
                await uow.commit()
            judged += len(batch)
            if len(batch) < BATCH:
                break
        for step in self._after_round:
            await step(now)
        return judged

"""The dispatcher worker: sends due deliveries, a bounded number at a time, as soon as they are due.

New deliveries wake it through LISTEN/NOTIFY (a trigger notifies on insert, so the wake arrives
only after the consumer's transaction commits); retries wake it because it sleeps exactly until
the earliest `next_attempt_at`; polling every `poll_seconds` backs both up. Claims are leases
taken with SKIP LOCKED, so any number of replicas can run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from gmirs_notify.adapters.deliveries import ClaimedDelivery
from gmirs_notify.adapters.tables import deliveries_channel
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.deadline import DeadlinePolicy
from gmirs_notify.domain.delivery import ENDPOINT_DISABLED, DeliveryStatus
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.deliver import Deliverer, report_at_risk
from gmirs_notify.handlers.failures import delivery_failed
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
MIN_SLEEP_SECONDS = 0.02


class Dispatcher:
    def __init__(
        self,
        *,
        dsn: str,
        schema: str,
        unit_of_work: Callable[[], NotifyUnitOfWork],
        deliverer: Deliverer,
        policy: DeadlinePolicy,
        lease: timedelta,
        poll_seconds: float = 1.0,
        max_in_flight: int = 50,
        retry_seconds: float = 2.0,
        finish_seconds: float = 15.0,
        clock: Clock = utc_now,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._unit_of_work = unit_of_work
        self._deliverer = deliverer
        self._policy = policy
        self._lease = lease
        self._poll = poll_seconds
        self._max_in_flight = max_in_flight
        self._retry = retry_seconds
        self._finish = finish_seconds
        self._clock = clock
        self._report_policy = ReportPolicy(escalate_before=policy.escalate_before)
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._last_sweep = float("-inf")
        self._saturated = False
        """The last round claimed as many as it had free slots (more may be waiting)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, reconnecting after database failures; then finish sends."""
        try:
            while not stop.is_set():
                try:
                    await self._listen(stop)
                except (OSError, TimeoutError, asyncpg.PostgresError, SQLAlchemyError) as exc:
                    log.warning("dispatcher interrupted", extra={"error_class": type(exc).__name__})
                    await first_of(stop, timeout=self._retry)
        finally:
            await self._finish_in_flight()

    async def _listen(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(
            self._dsn,
            server_settings={"search_path": self._schema, "application_name": "dispatcher"},
        )
        try:
            await conn.add_listener(deliveries_channel(self._schema), self._on_notify)
            while not stop.is_set():
                self._wake.clear()
                sleep = await self._tick()
                await first_of(stop, self._wake, timeout=sleep)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _tick(self) -> float:
        """Claim what is due (up to the free slots) and escalate what is at risk; return the
        number of seconds until something next falls due (at most the poll interval)."""
        now = self._clock()
        at_risk = await self._sweep(now)
        free = self._max_in_flight - len(self._inflight)
        async with self._unit_of_work() as uow:
            claimed, next_due = await uow.deliveries.claim_due(
                now=now, limit=free, lease=self._lease
            )
            await uow.commit()
        self._saturated = len(claimed) >= free
        for delivery in claimed:
            self._start(delivery)
        for delivery_id in at_risk:
            report_at_risk(delivery_id)
        return self._sleep_until(next_due, now)

    async def _sweep(self, now: datetime) -> list[uuid.UUID]:
        """Escalate failing reports whose deadline is near, and fail those that waited for a
        disabled endpoint past the give-up time (their reports told, in the same transaction);
        at most once per poll interval."""
        if time.monotonic() - self._last_sweep < self._poll:
            return []
        self._last_sweep = time.monotonic()
        async with self._unit_of_work() as uow:
            at_risk = await uow.deliveries.escalate_at_risk(
                now=now, escalate_before=self._policy.escalate_before
            )
            abandoned = await uow.deliveries.fail_waiting_too_long(
                now=now, give_up_after=self._policy.give_up_after
            )
            for delivery in abandoned:
                await delivery_failed(
                    uow, delivery, ENDPOINT_DISABLED, now=now, policy=self._report_policy
                )
            await uow.commit()
        return at_risk

    def _sleep_until(self, next_due: datetime | None, now: datetime) -> float:
        if next_due is None:
            return self._poll
        seconds = (next_due - now).total_seconds()
        return min(self._poll, max(MIN_SLEEP_SECONDS, seconds))

    def _start(self, claimed: ClaimedDelivery) -> None:
        task = asyncio.create_task(self._deliver(claimed), name=f"deliver:{claimed.webhook_id}")
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    async def _deliver(self, claimed: ClaimedDelivery) -> None:
        verdict = None
        try:
            verdict = await self._deliverer.deliver(claimed)
        except Exception as exc:
            # The lease runs out and the delivery falls due again: logged, never lost.
            log.error(
                "delivery attempt not recorded",
                extra={"error_class": type(exc).__name__, "attempt": claimed.attempts},
            )
        if self._saturated or verdict is None or verdict.status is DeliveryStatus.PENDING:
            # A slot others wait for is free, or this delivery has another attempt to come: look
            # again now. A delivery done for good after a round that left nothing due needs no
            # new round (new rows wake the dispatcher themselves).
            self._wake.set()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _finish_in_flight(self) -> None:
        """Let sends under way finish (each is bounded by the HTTP timeout) before stopping."""
        if not self._inflight:
            return
        _, late = await asyncio.wait(set(self._inflight), timeout=self._finish)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

"""The R&M write-back worker: each hub-recorded non-attendance goes into R&M once, as the worker
who recorded it, or to a person in the hub to enter by hand.

Each due row is leased, then taken through R&M's three calls (attendance, session feedback,
submit); the step reached is committed after each call, so a worker killed mid-call resumes at
that step and a repeated submit is answered 409 by R&M, never accepted twice. R&M's answers:
- 2xx: next step; the submit acknowledges the report (channel `rm_writeback`).
- 409: the feedback is already submitted; the session is read back, and if R&M shows this
  non-attendance submitted the report is acknowledged, else a person must look.
- 400 / 422: kept with R&M's reason, no more tries; a refusal (the report escalates at once)
  and the manual-entry queue.
- 403 with the worker's own token (R&M cannot map them to a user with access): the same.
- 5xx, 429, timeouts, HMPPS Auth down: a failed attempt, tried again with backoff until the
  deadline, then handed to a person.
A row without R&M's appointment id (or without a worker's login) cannot be written: it goes to
the manual queue when it is created (`write_back_of`).

A new row wakes the worker at once (LISTEN/NOTIFY, sent when the consumer's transaction commits;
polling backs it up), the rows of a round are written side by side (each holds its own lease),
and a full round is followed by the next one without waiting: at hundreds of non-attendances a
second, one row after another behind a poll fell minutes behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from gmirs_contracts.case import AttendanceRecorded
from gmirs_notify.adapters.rm_client import RmAnswer, RmFeedbackClient, RmUnreachableError
from gmirs_notify.adapters.rm_writebacks import writebacks_channel
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.report import (
    Attempt,
    AttemptResult,
    Channel,
    Origin,
    Report,
    ReportPolicy,
)
from gmirs_notify.domain.rm_writeback import NEXT, Step, WriteBack, appointment_in
from gmirs_notify.handlers.clock import Clock, utc_now
from gmirs_notify.handlers.reports import publish_changes
from gmirs_runtime.waits import first_of

log = logging.getLogger(__name__)
BATCH = 20
REFUSED_STATUSES = frozenset({400, 403, 404, 422})


def write_back_of(attendance: AttendanceRecorded, report: Report) -> WriteBack | None:
    """The write-back a new report needs: hub-recorded on an R&M referral (else None)."""
    if report.origin is not Origin.HUB or attendance.rm_referral_id is None:
        return None
    writable = attendance.rm_appointment_id is not None and attendance.recorded_by is not None
    return WriteBack(
        report_id=report.id,
        hub_id=attendance.hub_id,
        rm_referral_id=attendance.rm_referral_id,
        rm_appointment_id=attendance.rm_appointment_id,
        reference_number=attendance.reference_number,
        crn=attendance.crn,
        appointment_kind=attendance.appointment_kind,
        session_number=attendance.session_number,
        appointment_starts_at=attendance.appointment_starts_at,
        appointment_ends_at=attendance.appointment_ends_at,
        due_at=attendance.report_due_by,
        attended=attendance.attended,
        session_happened=attendance.session_happened,
        no_session_reason=attendance.no_session_reason,
        notify_pp_of_concerns=attendance.notify_pp_of_concerns,
        recorded_by=attendance.recorded_by,
        step=Step.ATTENDANCE if writable else Step.MANUAL,
        last_reason=None if writable else "no R&M appointment id or recording worker yet",
        manual_since=None if writable else report.created_at,
    )


class RmWriteBack:
    channel = Channel.RM_WRITEBACK

    def __init__(
        self,
        *,
        client: RmFeedbackClient,
        unit_of_work: Callable[[], NotifyUnitOfWork],
        policy: ReportPolicy,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        first_retry: timedelta = timedelta(seconds=5),
        max_retry: timedelta = timedelta(minutes=5),
        clock: Clock = utc_now,
        listen: tuple[str, str] | None = None,
    ) -> None:
        """`listen`: the (asyncpg DSN, schema) whose new rows wake the worker; None polls only."""
        self._client = client
        self._unit_of_work = unit_of_work
        self._policy = policy
        self._poll = poll_seconds
        self._lease = lease
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._clock = clock
        self._listen_to = listen
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self._listening():
                    await self._rounds(stop)
            except (OSError, TimeoutError, SQLAlchemyError, asyncpg.PostgresError) as exc:
                log.warning("R&M write-back interrupted", extra={"error_class": type(exc).__name__})
                await first_of(stop, timeout=self._poll)

    async def _rounds(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            if await self.round() < BATCH:
                await first_of(stop, self._wake, timeout=self._poll)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        """New rows set the wake event while inside (nothing to listen to: polling only)."""
        if self._listen_to is None:
            yield
            return
        dsn, schema = self._listen_to
        settings = {"search_path": schema, "application_name": "rm-writeback"}
        conn = await asyncpg.connect(dsn, server_settings=settings)
        try:
            await conn.add_listener(writebacks_channel(schema), lambda *_: self._wake.set())
            yield
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def round(self) -> int:
        """Take every due write-back as far as R&M lets it, side by side; returns how many were
        taken. A failure of one is raised once all of them have finished."""
        async with self._unit_of_work() as uow:
            due = await uow.rm_writebacks.claim_due(
                now=self._clock(), limit=BATCH, lease=self._lease
            )
            await uow.commit()
        outcomes = await asyncio.gather(*map(self.advance, due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(due)

    async def advance(self, write_back: WriteBack) -> None:
        """The calls left for this write-back, from the step last committed."""
        while write_back.step in (Step.ATTENDANCE, Step.SESSION_FEEDBACK, Step.SUBMIT):
            step = write_back.step
            method, path = write_back.path(step)
            try:
                answer = await self._client.call(
                    method, path, username=write_back.recorded_by or "", body=write_back.body(step)
                )
            except RmUnreachableError as exc:
                await self._failed(write_back, None, str(exc))
                return
            if answer.status < 300:
                following = NEXT.get(step, Step.DONE)
                write_back = replace(write_back, step=following, last_status=answer.status)
                if following is Step.DONE:
                    await self._finish(write_back, AttemptResult.ACKNOWLEDGED, "submitted")
                else:
                    await self._save(write_back, next_at=self._clock())
                continue
            await self._judge(write_back, answer)
            return

    async def _judge(self, write_back: WriteBack, answer: RmAnswer) -> None:
        if answer.status == 409:
            await self._reconcile(write_back)
        elif answer.status in REFUSED_STATUSES:
            await self._to_person(write_back, answer.status, answer.reason)
        else:
            await self._failed(write_back, answer.status, answer.reason)

    async def _reconcile(self, write_back: WriteBack) -> None:
        """409: R&M has feedback submitted; acknowledge if it is this non-attendance."""
        path, rm_appointment_id = write_back.read_back_path(), write_back.rm_appointment_id
        if path is None or rm_appointment_id is None:
            await self._to_person(write_back, 409, "409, and the session has no number to read")
            return
        try:
            read = await self._client.call("GET", path, username=write_back.recorded_by or "")
        except RmUnreachableError as exc:
            await self._failed(write_back, 409, f"read back: {exc}")
            return
        if read.status != 200 or read.body is None:
            await self._failed(write_back, read.status, "409, and the session could not be read")
            return
        appointment = appointment_in(read.body, rm_appointment_id)
        if appointment is not None and write_back.submitted_in(appointment):
            done = replace(write_back, step=Step.DONE, last_status=409)
            await self._finish(done, AttemptResult.ACKNOWLEDGED, "409 reconciled")
            return
        reason = "409: R&M holds different feedback for this appointment"
        await self._to_person(write_back, 409, reason)

    async def _to_person(self, write_back: WriteBack, status: int, reason: str) -> None:
        now = self._clock()
        manual = replace(
            write_back, step=Step.MANUAL, last_status=status, last_reason=reason, manual_since=now
        )
        log.warning(
            "R&M refused the write-back; manual entry",
            extra={"report_id": str(write_back.report_id), "status": status},
        )
        await self._finish(manual, AttemptResult.REFUSED, f"{status}")

    async def _failed(self, write_back: WriteBack, status: int | None, reason: str) -> None:
        """Worth another try, with backoff; past the deadline it goes to a person."""
        now = self._clock()
        tries = write_back.tries + 1
        failed = replace(write_back, tries=tries, last_status=status, last_reason=reason)
        if now >= write_back.due_at:
            await self._to_person(failed, status or 0, reason)
            return
        delay = min(self._first_retry * 2 ** (tries - 1), self._max_retry)
        async with self._unit_of_work() as uow:
            await self._attempt(uow, failed, AttemptResult.FAILED, str(status or "unreachable"))
            await uow.rm_writebacks.save(failed, next_at=now + delay)
            await uow.commit()

    async def _finish(self, write_back: WriteBack, result: AttemptResult, detail: str) -> None:
        async with self._unit_of_work() as uow:
            await self._attempt(uow, write_back, result, detail)
            await uow.rm_writebacks.save(write_back, next_at=None)
            await uow.commit()

    async def _save(self, write_back: WriteBack, *, next_at: datetime) -> None:
        async with self._unit_of_work() as uow:
            await uow.rm_writebacks.save(write_back, next_at=next_at + self._lease)
            await uow.commit()

    async def _attempt(
        self, uow: NotifyUnitOfWork, write_back: WriteBack, result: AttemptResult, detail: str
    ) -> Report | None:
        report = await uow.reports.get(write_back.report_id, for_update=True)
        if report is None:
            return None
        now = self._clock()
        attempt = Attempt(Channel.RM_WRITEBACK, now, result, detail)
        publish_changes(uow, report, report.record(attempt, now))
        await uow.reports.save(report, policy=self._policy)
        return report

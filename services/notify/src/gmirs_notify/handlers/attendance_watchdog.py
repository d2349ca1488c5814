"""The attendance watchdog: watches follow case's appointment events; the clock warns the hub.

Case publishes every appointment (initial assessments, sessions, each person's place on a group
or family session) as `appointment-booked`, `-rescheduled`, `-cancelled` and
`attendance-recorded` (from the hub, or from R&M through intake), so these four keep one watch
per appointment. After each report clock round, the watches still unrecorded
`WatchdogPolicy.after` their end are warned, once: `attendance-watchdog-warned` is published in
the transaction that marks them, and the hub's named contact is emailed through GOV.UK Notify
(the case reference, hub and end time: no name, date of birth or CRN).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from gmirs_contracts.case import AppointmentBooked, AttendanceRecorded
from gmirs_contracts.case_appointments import AppointmentCancelled, AppointmentRescheduled
from gmirs_contracts.notify import AttendanceWatchdogWarned
from gmirs_contracts.registry import contract_for
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.attendance_watch import Watch, WatchdogPolicy, WatchState
from gmirs_notify.handlers import case_facts
from gmirs_notify.handlers.emails import LeasedMailer, london_time
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.subscriptions import Handler

WARNED = contract_for(AttendanceWatchdogWarned)
AGGREGATE = "case"
BATCH = 200


async def appointment_booked(
    booked: AppointmentBooked, event: Event, uow: NotifyUnitOfWork
) -> None:
    """Remember the session number (for alerts) and arm the appointment's watch."""
    await case_facts.remember_session(booked, event, uow)
    await uow.watches.booked(
        Watch(
            appointment_id=booked.appointment_id,
            case_id=booked.case_id,
            referral_id=booked.referral_id,
            hub_id=booked.hub_id,
            appointment_kind=booked.kind,
            ends_at=booked.ends_at,
            changed_at=booked.booked_at,
        )
    )


async def appointment_rescheduled(
    moved: AppointmentRescheduled, event: Event, uow: NotifyUnitOfWork
) -> None:
    await uow.watches.moved(_watch_of(moved, changed_at=moved.recorded_at))


async def appointment_cancelled(
    cancelled: AppointmentCancelled, event: Event, uow: NotifyUnitOfWork
) -> None:
    watch = _watch_of(cancelled, changed_at=cancelled.recorded_at)
    await uow.watches.closed(_closed(watch, WatchState.CANCELLED, cancelled.recorded_at))


def clearing_the_watch(
    recorder: Handler[AttendanceRecorded, NotifyUnitOfWork],
) -> Handler[AttendanceRecorded, NotifyUnitOfWork]:
    """`attendance-recorded`'s handler: any attendance (attended or not, hub or R&M) closes the
    watch, then `recorder` starts the report of a non-attendance."""

    async def handle(attendance: AttendanceRecorded, event: Event, uow: NotifyUnitOfWork) -> None:
        watch = Watch(
            appointment_id=attendance.appointment_id,
            case_id=attendance.case_id,
            referral_id=attendance.referral_id,
            hub_id=attendance.hub_id,
            appointment_kind=attendance.appointment_kind,
            ends_at=attendance.appointment_ends_at,
            changed_at=attendance.recorded_at,
        )
        await uow.watches.closed(_closed(watch, WatchState.RECORDED, attendance.recorded_at))
        await recorder(attendance, event, uow)

    return handle


class AttendanceWatchdog:
    """The clock's step: warn every watch due now, a batch per transaction."""

    def __init__(
        self, *, unit_of_work: Callable[[], NotifyUnitOfWork], policy: WatchdogPolicy
    ) -> None:
        self._unit_of_work = unit_of_work
        self._policy = policy

    async def __call__(self, now: datetime) -> None:
        while True:
            async with self._unit_of_work() as uow:
                due = await uow.watches.warn_due(now=now, after=self._policy.after, limit=BATCH)
                for watch in due:
                    uow.publish(
                        WARNED,
                        self._warned(watch, now),
                        aggregate_type=AGGREGATE,
                        aggregate_id=watch.case_id,
                    )
                await uow.commit()
            if len(due) < BATCH:
                return

    def _warned(self, watch: Watch, now: datetime) -> AttendanceWatchdogWarned:
        return AttendanceWatchdogWarned(
            case_id=watch.case_id,
            referral_id=watch.referral_id,
            appointment_id=watch.appointment_id,
            hub_id=watch.hub_id,
            appointment_kind=watch.appointment_kind,
            appointment_ends_at=watch.ends_at,
            warned_at=now,
            warned_after_seconds=int(self._policy.after.total_seconds()),
        )


def personalisation(watch: Watch) -> dict[str, str]:
    """The template's fields: the case reference, hub and end time; no personal data."""
    return {
        "case_reference": watch.reference_number or str(watch.case_id),
        "hub": watch.hub_id,
        "appointment_ended_at": london_time(watch.ends_at),
    }


class WatchdogMailer(LeasedMailer[Watch]):
    """The warning to the hub's named contact (a watch recorded meanwhile is not emailed)."""

    what = "attendance watchdog email"

    async def claim(
        self, uow: NotifyUnitOfWork, *, now: datetime, limit: int, lease: timedelta
    ) -> list[Watch]:
        return await uow.watches.claim_unsent(now=now, limit=limit, lease=lease)

    async def sent(self, uow: NotifyUnitOfWork, item: Watch, *, at: datetime) -> None:
        await uow.watches.email_sent(item.appointment_id, at=at)

    def recipients(self, item: Watch) -> list[str]:
        return self._recipients.hub(item.hub_id)

    def personalisation(self, item: Watch) -> dict[str, str]:
        return personalisation(item)

    def reference(self, item: Watch) -> str:
        return str(item.appointment_id)


def _watch_of(
    change: AppointmentRescheduled | AppointmentCancelled, *, changed_at: datetime
) -> Watch:
    return Watch(
        appointment_id=change.appointment_id,
        case_id=change.case_id,
        referral_id=change.referral_id,
        hub_id=change.hub_id,
        appointment_kind=change.kind,
        ends_at=change.ends_at,
        changed_at=changed_at,
    )


def _closed(watch: Watch, state: WatchState, at: datetime) -> Watch:
    return replace(watch, state=state, closed_at=at)

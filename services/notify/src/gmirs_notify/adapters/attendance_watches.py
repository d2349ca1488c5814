"""Attendance watches: one row per appointment, changed only by atomic upserts.

Each case event is one statement whose conflict rule encodes the watch's life
(`domain/attendance_watch.py`), so a redelivered or out-of-order event can never re-arm a closed
watch or move a watch back to an older time. The clock's claim and the email's claim take rows
with `FOR UPDATE SKIP LOCKED`, so replicas never warn or email one watch twice.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import attendance_watches as watches
from gmirs_notify.adapters.tables import case_facts
from gmirs_notify.domain.attendance_watch import OPEN_STATES, Watch, WatchState

_OPEN = [state.value for state in OPEN_STATES]
_FRESH = {"warned_at": None, "email_sent_at": None, "email_retry_at": None}


class AttendanceWatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def booked(self, watch: Watch) -> None:
        """Arm a new watch; a watch that exists (booking redelivered, or a later event came
        first) is left as it is."""
        statement = insert(watches).values(**_row(watch)).on_conflict_do_nothing()
        await self._session.execute(statement)

    async def moved(self, watch: Watch) -> None:
        """Watch the appointment at its new end, unless it is closed or this move is older
        than the time it has."""
        statement = insert(watches).values(**_row(watch))
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["appointment_id"],
            set_={"ends_at": excluded.ends_at, "changed_at": excluded.changed_at}
            | {"state": WatchState.WATCHING.value}
            | _FRESH,
            where=and_(watches.c.state.in_(_OPEN), watches.c.changed_at < excluded.changed_at),
        )
        await self._session.execute(statement)

    async def closed(self, watch: Watch) -> None:
        """Close the watch for good (`watch.state`: recorded or cancelled), creating it closed
        if the appointment's booking has not arrived; attendance also closes a cancelled one."""
        assert watch.state not in OPEN_STATES
        closable = _OPEN + (
            [WatchState.CANCELLED.value] if watch.state is WatchState.RECORDED else []
        )
        statement = insert(watches).values(**_row(watch))
        statement = statement.on_conflict_do_update(
            index_elements=["appointment_id"],
            set_={"state": watch.state.value, "closed_at": watch.closed_at},
            where=watches.c.state.in_(closable),
        )
        await self._session.execute(statement)

    async def warn_due(self, *, now: datetime, after: timedelta, limit: int) -> list[Watch]:
        """Watches still unrecorded `after` their end, marked warned (rows others hold skipped)."""
        query = (
            select(watches)
            .where(watches.c.state == WatchState.WATCHING.value, watches.c.ends_at <= now - after)
            .order_by(watches.c.ends_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        due = [_watch(row) for row in (await self._session.execute(query)).mappings()]
        if due:
            await self._session.execute(
                update(watches)
                .where(watches.c.appointment_id.in_([w.appointment_id for w in due]))
                .values(state=WatchState.WARNED.value, warned_at=now)
            )
        return [replace(w, state=WatchState.WARNED, warned_at=now) for w in due]

    async def claim_unsent(self, *, now: datetime, limit: int, lease: timedelta) -> list[Watch]:
        """Warned watches whose email is not sent (and still unrecorded), leased for one try."""
        due = and_(
            watches.c.state == WatchState.WARNED.value,
            watches.c.email_sent_at.is_(None),
            or_(watches.c.email_retry_at.is_(None), watches.c.email_retry_at <= now),
        )
        query = (
            select(watches, case_facts.c.reference_number)
            .outerjoin(case_facts, case_facts.c.case_id == watches.c.case_id)
            .where(due)
            .order_by(watches.c.warned_at)
            .limit(limit)
            .with_for_update(of=watches, skip_locked=True)
        )
        found = [_watch(row) for row in (await self._session.execute(query)).mappings()]
        if found:
            await self._session.execute(
                update(watches)
                .where(watches.c.appointment_id.in_([w.appointment_id for w in found]))
                .values(email_retry_at=now + lease)
            )
        return found

    async def email_sent(self, appointment_id: uuid.UUID, *, at: datetime) -> None:
        await self._session.execute(
            update(watches)
            .where(watches.c.appointment_id == appointment_id)
            .values(email_sent_at=at)
        )

    async def get(self, appointment_id: uuid.UUID) -> Watch | None:
        query = select(watches).where(watches.c.appointment_id == appointment_id)
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else _watch(row)

    async def page(
        self, *, states: list[WatchState], limit: int, offset: int
    ) -> tuple[list[Watch], int]:
        """A page of watches in `states`, earliest end first, and the total count."""
        wanted = watches.c.state.in_([s.value for s in states])
        query = (
            select(watches)
            .where(wanted)
            .order_by(watches.c.ends_at, watches.c.appointment_id)
            .limit(limit)
            .offset(offset)
        )
        found = [_watch(row) for row in (await self._session.execute(query)).mappings()]
        counted = select(func.count()).select_from(watches).where(wanted)
        return found, int((await self._session.execute(counted)).scalar_one())


def _row(watch: Watch) -> dict[str, Any]:
    return {
        "appointment_id": watch.appointment_id,
        "case_id": watch.case_id,
        "referral_id": watch.referral_id,
        "hub_id": watch.hub_id,
        "appointment_kind": watch.appointment_kind,
        "ends_at": watch.ends_at,
        "changed_at": watch.changed_at,
        "state": watch.state.value,
        "closed_at": watch.closed_at,
    }


def _watch(row: Any) -> Watch:
    return Watch(
        appointment_id=row["appointment_id"],
        case_id=row["case_id"],
        referral_id=row["referral_id"],
        hub_id=row["hub_id"],
        appointment_kind=row["appointment_kind"],
        ends_at=row["ends_at"],
        changed_at=row["changed_at"],
        state=WatchState(row["state"]),
        warned_at=row["warned_at"],
        closed_at=row["closed_at"],
        email_sent_at=row["email_sent_at"],
        reference_number=row.get("reference_number"),
    )

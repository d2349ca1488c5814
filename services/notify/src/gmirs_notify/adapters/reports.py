"""Reports: one row per non-attendance (unique on case and appointment) and its channel attempts.

A report is read with its attempts, changed by the domain, and saved: the row's columns are
rewritten and only the attempts added since it was read are inserted. `next_check_at` is when
the clock must look at it next (NULL once nothing more can happen), so the clock's claim is one
indexed range scan; claims use `FOR UPDATE SKIP LOCKED`, so replicas never judge a report twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    CursorResult,
    Select,
    and_,
    func,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_notify.adapters.tables import report_attempts, reports
from gmirs_notify.domain.report import (
    Attempt,
    AttemptResult,
    Cause,
    Channel,
    Origin,
    Report,
    ReportPolicy,
    ReportStatus,
)

_ENUMS: dict[str, Any] = {
    "origin": Origin,
    "acknowledged_channel": Channel,
    "escalation_cause": Cause,
    "breach_cause": Cause,
}
_FIELDS = tuple(c.name for c in reports.columns if c.name not in {"event_id", "next_check_at"})
_STORED_ONLY = {
    "escalation_notified_at",
    "escalation_email_retry_at",
    "email_notification_id",
    "email_next_at",
}


def status_filter(status: ReportStatus) -> Any:
    """The rows an operator's status filter means (`open`: every unacknowledged report)."""
    unacknowledged = reports.c.acknowledged_at.is_(None)
    return {
        ReportStatus.OPEN: unacknowledged,
        ReportStatus.AT_RISK: and_(
            unacknowledged, reports.c.escalated_at.is_not(None), reports.c.breached_at.is_(None)
        ),
        ReportStatus.BREACHED: reports.c.breached_at.is_not(None),
        ReportStatus.ACKNOWLEDGED: reports.c.acknowledged_at.is_not(None),
    }[status]


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._stored_attempts: dict[uuid.UUID, int] = {}
        self._stored_rows: dict[uuid.UUID, dict[str, Any]] = {}
        """Each report's columns as read or last written (an unchanged one is not rewritten)."""

    async def start(self, report: Report, *, event_id: uuid.UUID, policy: ReportPolicy) -> bool:
        """Insert a new report; False if its case and appointment already have one."""
        values = _row(report) | {
            "event_id": event_id,
            "next_check_at": report.next_check_at(policy),
            "email_next_at": report.created_at
            if Channel.NOTIFY_EMAIL in report.completing
            else None,
        }
        statement = insert(reports).values(**values).on_conflict_do_nothing()
        result = await self._session.execute(statement)
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            return False
        self._stored_attempts[report.id] = 0
        self._stored_rows[report.id] = _row(report) | {"next_check_at": values["next_check_at"]}
        await self._add_attempts(report)
        return True

    async def get(self, report_id: uuid.UUID, *, for_update: bool = False) -> Report | None:
        found = await self._load(reports.c.id == report_id, for_update=for_update)
        return found[0] if found else None

    async def for_appointment(self, case_id: uuid.UUID, appointment_id: uuid.UUID) -> Report | None:
        """The report of one appointment, locked for a change."""
        condition = and_(reports.c.case_id == case_id, reports.c.appointment_id == appointment_id)
        found = await self._load(condition, for_update=True)
        return found[0] if found else None

    async def for_rm_appointment(
        self, case_id: uuid.UUID, rm_appointment_id: uuid.UUID
    ) -> Report | None:
        """The report R&M's appointment already has (the platform's write-back echoed), locked."""
        condition = and_(
            reports.c.case_id == case_id, reports.c.rm_appointment_id == rm_appointment_id
        )
        found = await self._load(condition, for_update=True)
        return found[0] if found else None

    async def claim_due(self, *, now: datetime, limit: int) -> list[Report]:
        """Reports the clock must judge now, locked (rows other replicas hold are skipped)."""
        query = (
            select(reports)
            .where(reports.c.next_check_at <= now)
            .order_by(reports.c.next_check_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._hydrate(query)

    async def save(self, report: Report, *, policy: ReportPolicy) -> None:
        """Write the report's state back (unless no column changed since it was read: a webhook
        attempt, say) and insert the attempts added since it was read."""
        values = _row(report) | {"next_check_at": report.next_check_at(policy)}
        if self._stored_rows.get(report.id) != values:
            await self._session.execute(
                update(reports).where(reports.c.id == report.id).values(**values)
            )
            self._stored_rows[report.id] = values
        await self._add_attempts(report)

    async def set_rm_appointment(self, report_id: uuid.UUID, rm_appointment_id: uuid.UUID) -> None:
        """The write-back learned R&M's appointment id: its echo must then start nothing."""
        self._stored_rows.pop(report_id, None)
        await self._session.execute(
            update(reports)
            .where(reports.c.id == report_id)
            .values(rm_appointment_id=rm_appointment_id)
        )

    async def retry_now(self, report_id: uuid.UUID, *, now: datetime) -> None:
        """Let the clock judge the report at once and retry an unsent escalation email."""
        await self._session.execute(
            update(reports)
            .where(reports.c.id == report_id, reports.c.next_check_at.is_not(None))
            .values(next_check_at=now)
        )
        await self._session.execute(
            update(reports)
            .where(reports.c.id == report_id, reports.c.escalation_notified_at.is_(None))
            .values(escalation_email_retry_at=None)
        )

    async def claim_unnotified_escalations(
        self, *, now: datetime, limit: int, lease: timedelta
    ) -> list[Report]:
        """Escalated reports whose emails are not sent yet, leased for one try (a failed try
        is retried when the lease ends)."""
        due = and_(
            reports.c.escalated_at.is_not(None),
            reports.c.escalation_notified_at.is_(None),
            or_(
                reports.c.escalation_email_retry_at.is_(None),
                reports.c.escalation_email_retry_at <= now,
            ),
        )
        query = (
            select(reports)
            .where(due)
            .order_by(reports.c.escalated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found = await self._hydrate(query)
        if found:
            await self._session.execute(
                update(reports)
                .where(reports.c.id.in_([r.id for r in found]))
                .values(escalation_email_retry_at=now + lease)
            )
        return found

    async def escalation_notified(self, report_id: uuid.UUID, *, at: datetime) -> None:
        await self._session.execute(
            update(reports).where(reports.c.id == report_id).values(escalation_notified_at=at)
        )

    async def page(
        self, *, status: ReportStatus | None, limit: int, offset: int
    ) -> tuple[list[Report], int]:
        """A page of reports, most urgent (earliest due) first, and the total count."""
        query = select(reports)
        counted = select(func.count()).select_from(reports)
        if status is not None:
            query = query.where(status_filter(status))
            counted = counted.where(status_filter(status))
        query = query.order_by(reports.c.due_at, reports.c.id).limit(limit).offset(offset)
        found = await self._hydrate(query, locks=False)
        return found, int((await self._session.execute(counted)).scalar_one())

    async def _load(self, condition: Any, *, for_update: bool) -> list[Report]:
        query = select(reports).where(condition)
        if for_update:
            query = query.with_for_update()
        return await self._hydrate(query, locks=for_update)

    async def _hydrate(self, query: Select[Any], *, locks: bool = True) -> list[Report]:
        """The reports `query` selects, each with its attempts. A query that locks its rows
        reads the attempts in a second statement, after the locks are held: one statement
        would read them from its snapshot, taken before it waited for a lock, and miss the
        attempts of the transaction it waited for. A plain read needs one statement."""
        if not locks:
            rows = (await self._session.execute(query.add_columns(_ATTEMPTS))).mappings().all()
            by_report = {row["id"]: [_attempt(a) for a in row["attempt_list"]] for row in rows}
        else:
            rows = (await self._session.execute(query)).mappings().all()
            by_report = await self._attempts_of([row["id"] for row in rows])
        found = []
        for row in rows:
            report = _report(row, by_report[row["id"]])
            self._stored_attempts[report.id] = len(report.attempts)
            self._stored_rows[report.id] = _row(report) | {"next_check_at": row["next_check_at"]}
            found.append(report)
        return found

    async def _attempts_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Attempt]]:
        by_report: dict[uuid.UUID, list[Attempt]] = {i: [] for i in ids}
        if not ids:
            return by_report
        query = (
            select(report_attempts)
            .where(report_attempts.c.report_id.in_(ids))
            .order_by(report_attempts.c.report_id, report_attempts.c.seq)
        )
        for a in (await self._session.execute(query)).mappings():
            by_report[a["report_id"]].append(
                Attempt(Channel(a["channel"]), a["at"], AttemptResult(a["result"]), a["detail"])
            )
        return by_report

    async def _add_attempts(self, report: Report) -> None:
        stored = self._stored_attempts.get(report.id, 0)
        new = report.attempts[stored:]
        if new:
            rows = [_attempt_row(report.id, stored + i, a) for i, a in enumerate(new)]
            await self._session.execute(insert(report_attempts), rows)
        self._stored_attempts[report.id] = len(report.attempts)


_ATTEMPTS = (
    select(
        type_coerce(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_array(
                            report_attempts.c.channel,
                            report_attempts.c.at,
                            report_attempts.c.result,
                            report_attempts.c.detail,
                        ),
                        report_attempts.c.seq,
                    )
                ),
                text("'[]'::json"),
            ),
            JSON,
        )
    )
    .where(report_attempts.c.report_id == reports.c.id)
    .scalar_subquery()
    .label("attempt_list")
)
"""A report's attempts in order, as a JSON array of [channel, at, result, detail]."""


def _attempt(values: list[Any]) -> Attempt:
    channel, at, result, detail = values
    when = datetime.fromisoformat(at).astimezone(UTC)
    return Attempt(Channel(channel), when, AttemptResult(result), detail)


def _row(report: Report) -> dict[str, Any]:
    values = {name: getattr(report, name) for name in _FIELDS if name not in _STORED_ONLY}
    return {k: v.value if k in _ENUMS and v is not None else v for k, v in values.items()}


def _report(row: Any, attempts: Sequence[Attempt]) -> Report:
    values = {
        name: row[name] for name in _FIELDS if name not in _STORED_ONLY and name != "attempts"
    }
    for name, enum in _ENUMS.items():
        if values[name] is not None:
            values[name] = enum(values[name])
    return Report(**values, attempts=list(attempts))


def _attempt_row(report_id: uuid.UUID, seq: int, attempt: Attempt) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "seq": seq,
        "channel": attempt.channel.value,
        "at": attempt.at,
        "result": attempt.result.value,
        "detail": attempt.detail,
    }

"""Hand the pilot caseload over: each CSV row becomes one referral, once, whatever happens.

Each row is its own transaction: the referral, its outbox event and the row's record commit
together, so an import stopped at any row resumes at the next and a re-run publishes nothing
twice. A row's referral is keyed `pilot:<referral_ref>`, so the same case in another file (a
corrected copy) is recognised; a case intake already holds from R&M (same R&M id or reference
number) is reported as held, not created again.
"""

from __future__ import annotations

import enum
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gmirs_referral_intake.adapters.pilot_columns import header_problems, row_ref
from gmirs_referral_intake.adapters.pilot_csv import CsvRow, PilotFile, PilotFileError, ReportLine
from gmirs_referral_intake.adapters.pilot_rows import record_row, recorded_rows
from gmirs_referral_intake.adapters.repository import ReferralRepository
from gmirs_referral_intake.adapters.rm_store import find_referral, lock_rm_referral
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.handlers.accept_referral import (
    AcceptReferral,
    ConflictingReferralError,
    accept_referral,
)
from gmirs_runtime import audit
from gmirs_runtime.db import UnitOfWork

SOURCE = "pilot-import"


class RowStatus(enum.StrEnum):
    IMPORTED = "imported"  # a new referral, published for its hub
    ALREADY_IMPORTED = "already-imported"  # the same referral_ref was imported before
    ALREADY_HELD = "already-held"  # intake holds this R&M referral already (event or poll)
    REJECTED = "rejected"  # invalid; the reason names the columns
    PENDING = "pending"  # not reached in this run (--limit); a re-run imports it


@dataclass(frozen=True)
class ImportReport:
    file_sha256: str
    lines: tuple[ReportLine, ...]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(line.status for line in self.lines)
        return {status.value: counted[status.value] for status in RowStatus}

    @property
    def complete(self) -> bool:
        return all(line.status != RowStatus.PENDING for line in self.lines)


@dataclass(frozen=True)
class PilotRow:
    """A valid row: the referral to accept and the R&M progress to keep beside it."""

    referral_ref: str
    reference_number: str | None
    rm_referral_id: uuid.UUID | None
    referral: dict[str, Any]  # ReferralReceived fields, as accept_referral takes them
    rm_progress: dict[str, Any]


@dataclass(frozen=True)
class RowRejected:
    referral_ref: str | None  # only when the reference itself is valid
    reasons: tuple[str, ...]


OnRow = Callable[[ReportLine], Awaitable[None]]
ParseRow = Callable[[Mapping[str, str]], PilotRow | RowRejected]
"""Checks a row by the direct-referral rules (entrypoints.pilot_row.parse_row: the entrypoint's
input schema, which this layer does not import)."""


async def import_pilot(
    pilot: PilotFile,
    *,
    parse_row: ParseRow,
    unit_of_work: Callable[[], UnitOfWork],
    routing: HubRouting,
    actor: str,
    limit: int | None = None,
    on_row: OnRow | None = None,
) -> ImportReport:
    """Import the rows no earlier run finished (at most `limit` of them); report every row."""
    problems = header_problems(list(pilot.header))
    if problems:
        raise PilotFileError("; ".join(problems))
    async with unit_of_work() as uow:
        done = await recorded_rows(uow.session, pilot.sha256)
        await audit.record(
            uow.session,
            actor=actor,
            action="pilot-import.run",
            resource_type="pilot-import-file",
            resource_id=pilot.sha256,
        )
        await uow.commit()
    lines: list[ReportLine] = []
    budget = limit
    for row in pilot.rows:
        if row.number in done:
            lines.append(done[row.number])
        elif budget is not None and budget <= 0:
            lines.append(_line(row, None, RowStatus.PENDING, None))
        else:
            line = await _import_row(pilot.sha256, row, parse_row, unit_of_work, routing)
            lines.append(line)
            budget = None if budget is None else budget - 1
            if on_row is not None:
                await on_row(line)
    return ImportReport(pilot.sha256, tuple(lines))


async def _import_row(
    file_sha256: str,
    row: CsvRow,
    parse_row: ParseRow,
    unit_of_work: Callable[[], UnitOfWork],
    routing: HubRouting,
) -> ReportLine:
    """One row in one transaction, recorded with its outcome (or left to the run that got it)."""
    if row.cells is None:
        parsed: PilotRow | RowRejected = RowRejected(None, ("row: not as many cells as columns",))
    else:
        parsed = parse_row(row.cells)
    async with unit_of_work() as uow:
        if isinstance(parsed, RowRejected):
            line = _line(row, parsed.referral_ref, RowStatus.REJECTED, "; ".join(parsed.reasons))
            progress = None
        else:
            line, progress = await _accept(uow, row, parsed, routing), parsed.rm_progress
        if await record_row(uow.session, file_sha256=file_sha256, line=line, rm_progress=progress):
            await uow.commit()
            return line
        await uow.rollback()  # a concurrent run of the same file did this row first
        return (await recorded_rows(uow.session, file_sha256))[row.number]


async def _accept(
    uow: UnitOfWork, row: CsvRow, parsed: PilotRow, routing: HubRouting
) -> ReportLine:
    session, key = uow.session, f"pilot:{parsed.referral_ref}"
    if parsed.rm_referral_id is not None:
        await lock_rm_referral(session, parsed.rm_referral_id)  # as R&M events for it do
    if await ReferralRepository(session).by_external_key(key) is None:
        known = await find_referral(
            session, rm_referral_id=parsed.rm_referral_id, reference_number=parsed.reference_number
        )
        if known is not None:
            reason = "intake already holds this R&M referral"
            return _line(
                row, parsed.referral_ref, RowStatus.ALREADY_HELD, reason, known.referral_id
            )
    command = AcceptReferral(source=SOURCE, external_key=key, referral=parsed.referral)
    try:
        record, created = await accept_referral(command, uow=uow, routing=routing)
    except ConflictingReferralError:
        reason = "referral_ref: imported before with different details"
        return _line(row, parsed.referral_ref, RowStatus.REJECTED, reason)
    if created:
        return _line(row, parsed.referral_ref, RowStatus.IMPORTED, None, record.id)
    if record.external_key != key:  # its reference number arrived meanwhile from another source
        reason = "intake already holds this R&M referral"
        return _line(row, parsed.referral_ref, RowStatus.ALREADY_HELD, reason, record.id)
    reason = "referral_ref: imported before"
    return _line(row, parsed.referral_ref, RowStatus.ALREADY_IMPORTED, reason, record.id)


def _line(
    row: CsvRow,
    referral_ref: str | None,
    status: RowStatus,
    reason: str | None,
    referral_id: uuid.UUID | None = None,
) -> ReportLine:
    if referral_ref is None and row.cells is not None:
        referral_ref = row_ref(row.cells)
    return ReportLine(row.number, referral_ref, status.value, referral_id, reason)

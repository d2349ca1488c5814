"""`gmirs-referral-intake import-pilot FILE --report OUT [--limit N]`: the pilot caseload handover.

Run by the lead provider's operator against the service's database (after `migrate`); the
service itself need not be running, its outbox relay publishes the imported referrals when it
is. Exit status: 0 every row is in intake; 2 some rows were rejected or left for a later run
(the report says which and why); 1 the run could not start (a refused file: nothing imported)
or not finish (the database lost: rows done stay done, a re-run resumes).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

from gmirs_referral_intake.adapters.pilot_csv import (
    PilotFile,
    PilotFileError,
    ReportLine,
    read_pilot_file,
    write_report,
)
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints.pilot_row import parse_row
from gmirs_referral_intake.handlers.pilot_import import ImportReport, RowStatus, import_pilot
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.cli import ExtraCommand
from gmirs_runtime.db import UnitOfWork, create_engine
from gmirs_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)
PROGRESS_EVERY = 100


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the caseload CSV (see docs/pilot-import.md)")
    parser.add_argument("--report", type=Path, required=True, help="where to write the report CSV")
    parser.add_argument(
        "--limit", type=_count, default=None, help="import at most this many new rows in this run"
    )


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


async def _run(settings: ServiceSettings, args: argparse.Namespace) -> int:
    assert isinstance(settings, IntakeSettings)
    try:
        report = await _import(settings, read_pilot_file(args.file), args.limit)
    except PilotFileError as exc:
        print(f"import-pilot: {exc}; nothing was imported", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        print(f"import-pilot: stopped ({type(exc).__name__}); run again to resume", file=sys.stderr)
        return 1
    write_report(args.report, report.lines)
    summary = {"file_sha256": report.file_sha256, "rows": report.counts, "report": str(args.report)}
    print(json.dumps(summary, indent=2))
    clean = report.complete and report.counts[RowStatus.REJECTED] == 0
    return 0 if clean else 2


async def _import(settings: IntakeSettings, pilot: PilotFile, limit: int | None) -> ImportReport:
    """Import with a one-connection engine of its own (nothing else of the service is needed)."""
    engine = create_engine(
        settings.database_url.get_secret_value(),
        schema=settings.database_schema,
        application_name=f"{settings.service_name}-pilot-import",
        pool_size=1,
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    source = f"/gmirs/{settings.service_name}"  # the CloudEvents source the service publishes as
    try:
        return await import_pilot(
            pilot,
            parse_row=parse_row,
            unit_of_work=lambda: UnitOfWork(sessions, source=source),
            routing=HubRouting(pdu_hubs=settings.pdu_hubs, contract_hubs=settings.contract_hubs),
            actor=f"cli:{getpass.getuser()}",
            limit=limit,
            on_row=_Progress(),
        )
    finally:
        await engine.dispose()


class _Progress:
    """A log line every PROGRESS_EVERY rows (counts only: rows hold personal data)."""

    def __init__(self) -> None:
        self.rows = 0

    async def __call__(self, line: ReportLine) -> None:
        self.rows += 1
        if self.rows % PROGRESS_EVERY == 0:
            log.info("pilot import progress", extra={"count": self.rows})


IMPORT_PILOT_COMMAND = ExtraCommand(
    help="import the pilot caseload from a CSV file (idempotent, resumable)",
    configure=_configure,
    run=_run,
)

"""Pilot caseload import against real PostgreSQL and the real broker (the service's relay publishes).

Good, duplicate and bad rows; a re-run that changes nothing; an import stopped part-way and
resumed; a case intake already holds from R&M; the CLI end to end in its own process.
"""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.adapters.pilot_columns import (
    COLUMNS,
    REQUIRED_COLUMNS,
    header_problems,
)
from gmirs_referral_intake.adapters.pilot_csv import (
    PilotFileError,
    ReportLine,
    parse_pilot_bytes,
    write_report,
)
from gmirs_referral_intake.bootstrap import MIGRATIONS, build
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints.pilot_row import parse_row
from gmirs_referral_intake.handlers.accept_referral import AcceptReferral, accept_referral
from gmirs_referral_intake.handlers.pilot_import import (
    ImportReport,
    PilotRow,
    RowRejected,
    import_pilot,
)
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.testing.kafka import eventually, read_topic
from gmirs_runtime.testing.services import RunningService

TOPIC = "intake.referral-events.v1"
RECEIVED = "gmirs.intake.referral-received.v1"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def intake(start_service) -> AsyncIterator[RunningService]:
    async with start_service(
        IntakeSettings,
        build,
        MIGRATIONS,
        contract_hubs={"DN671065_TRAFFORD_PWB": "trafford"},
    ) as service:
        yield service


def row(ref: str, **cells: str) -> dict[str, str]:
    """A valid row (Bolton, one category); `cells` change or add columns."""
    return {
        "referral_ref": ref,
        "service_user_crn": "X100001",
        "date_referral_received": "2026-10-01",
        "given_name": "Alex",
        "family_name": "Example",
        "probation_delivery_unit": "Bolton",
        "service_category": "Emotional Wellbeing",
        "complexity": "Medium complexity",
        "referring_practitioner_name": "Pat Practitioner",
        "referring_practitioner_email": "pat@probation.example",
        **cells,
    }


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    columns = [c for c in COLUMNS if any(c in r for r in rows)]
    lines = [",".join(columns)]
    for cells in rows:
        lines.append(",".join(_quoted(cells.get(c, "")) for c in columns))
    return ("\n".join(lines) + "\n").encode()


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\n') else cell


async def run_import(service: RunningService, data: bytes, **options: Any) -> ImportReport:
    settings = service.infra.settings
    assert isinstance(settings, IntakeSettings)
    return await import_pilot(
        parse_pilot_bytes(data),
        parse_row=parse_row,
        unit_of_work=service.infra.unit_of_work,
        routing=HubRouting(pdu_hubs=settings.pdu_hubs, contract_hubs=settings.contract_hubs),
        actor="test",
        **options,
    )


def by_row(report: ImportReport) -> dict[int, ReportLine]:
    return {line.row_number: line for line in report.lines}


async def scalar(service: RunningService, sql: str) -> Any:
    async with service.infra.engine.connect() as conn:
        return await conn.scalar(text(sql))


async def published_once(service: RunningService, bootstrap: str) -> dict[str, dict[str, Any]]:
    """Wait until the relay published every outbox row; each referral's events, exactly one each."""

    async def all_published() -> bool:
        unpublished = await scalar(
            service, "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
        return bool(unpublished == 0)

    await eventually(all_published, what="outbox drained")
    ids = {str(i) for i in await _referral_ids(service)}
    records = [r for r in await read_topic(bootstrap, TOPIC) if r.key.decode() in ids]
    assert Counter(r.key.decode() for r in records) == dict.fromkeys(ids, 1)
    return {r.key.decode(): orjson.loads(r.value) for r in records}


async def _referral_ids(service: RunningService) -> list[uuid.UUID]:
    async with service.infra.engine.connect() as conn:
        return list((await conn.scalars(text("SELECT id FROM referrals"))).all())


MIXED = [
    row("AB0001PW", crs_contract_reference="DN671065_TRAFFORD_PWB", referral_id=str(uuid.uuid4())),
    row("LEGACY-2", service_user_crn="X100002", probation_delivery_unit="manchester south pdu"),
    row("AB0003PW", service_category_2="Social Inclusion", complexity_2="high"),
    row("AB0001PW", crs_contract_reference="DN671065_TRAFFORD_PWB"),  # same ref, other details
    row("AB0005PW", service_user_crn="7777777", date_referral_received="last week"),
    row("AB0006PW", given_name="", referring_practitioner_email="Pat at probation"),
    row("AB0007PW", intervention_concluded_at="2026-10-20T10:00:00+01:00"),
    row("AB0003PW", service_category_2="Social Inclusion", complexity_2="high"),  # exact repeat
]


async def test_good_duplicate_and_bad_rows(intake, kafka_broker, tmp_path) -> None:
    report = await run_import(intake, csv_bytes(MIXED))
    lines = by_row(report)
    assert {n: line.status for n, line in lines.items()} == {
        2: "imported",
        3: "imported",
        4: "imported",
        5: "rejected",
        6: "rejected",
        7: "rejected",
        8: "rejected",
        9: "already-imported",
    }
    assert lines[9].referral_id == lines[4].referral_id
    assert lines[5].reason == "referral_ref: imported before with different details"
    assert lines[6].reason is not None
    assert lines[6].reason.startswith("service_user_crn: wrong format")
    assert "date_referral_received: not a date" in lines[6].reason
    assert lines[7].reason is not None
    assert "given_name: must not be empty" not in lines[7].reason  # blank means missing
    assert "given_name: required" in lines[7].reason
    assert "referring_practitioner_email: wrong format" in lines[7].reason
    assert (
        lines[8].reason == "intervention_concluded_at: the referral has concluded; not handed over"
    )
    assert report.counts == {
        "imported": 3,
        "already-imported": 1,
        "already-held": 0,
        "rejected": 4,
        "pending": 0,
    }

    events = await published_once(intake, kafka_broker.bootstrap)
    assert len(events) == 3
    for data in events.values():
        validate_event(RECEIVED, data)
        assert data["source"] == "pilot-import"
    trafford = events[str(lines[2].referral_id)]
    assert trafford["hub_id"] == "trafford"  # routed by its contract
    assert trafford["reference_number"] == "AB0001PW"
    assert trafford["rm_referral_id"] == MIXED[0]["referral_id"]
    manchester = events[str(lines[3].referral_id)]
    assert (manchester["hub_id"], manchester["probation_delivery_unit"]) == (
        "manchester",
        "Manchester South",
    )
    assert manchester["reference_number"] is None  # not an R&M reference: key only
    assert [c["complexity"] for c in events[str(lines[4].referral_id)]["service_categories"]] == [
        "medium",
        "high",
    ]

    write_report(tmp_path / "report.csv", report.lines)
    content = (tmp_path / "report.csv").read_text()
    written = list(csv.DictReader(content.splitlines()))
    assert [w["status"] for w in written] == [line.status for line in report.lines]
    assert written[0]["referral_id"] == str(lines[2].referral_id)
    for personal in ("Alex", "Example", "X100001", "7777777", "last week", "Pat at probation"):
        assert personal not in content


async def test_concurrent_runs_import_once_and_a_rerun_changes_nothing(intake) -> None:
    data = csv_bytes(MIXED)
    first, alongside = await asyncio.gather(run_import(intake, data), run_import(intake, data))
    assert first.lines == alongside.lines
    assert first.counts["imported"] == 3
    again = await run_import(intake, data)
    assert again.lines == first.lines
    assert await scalar(intake, "SELECT count(*) FROM outbox") == 3
    assert await scalar(intake, "SELECT count(*) FROM referrals") == 3
    assert await scalar(intake, "SELECT count(*) FROM pilot_import_rows") == len(MIXED)
    runs = "SELECT count(*) FROM audit_log WHERE action = 'pilot-import.run'"
    assert await scalar(intake, runs) == 3


class Interrupted(Exception):
    pass


async def test_an_import_stopped_part_way_resumes_after_the_last_row_done(
    intake, kafka_broker
) -> None:
    rows = [row(f"AC{n:04d}PW", service_user_crn=f"X2{n:05d}") for n in range(1, 9)]
    data = csv_bytes(rows)
    done: list[ReportLine] = []

    async def crash_after_three(line: ReportLine) -> None:
        done.append(line)
        if len(done) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        await run_import(intake, data, on_row=crash_after_three)
    assert await scalar(intake, "SELECT count(*) FROM referrals") == 3

    batch = await run_import(intake, data, limit=2)
    assert [line.status for line in batch.lines] == ["imported"] * 5 + ["pending"] * 3
    assert not batch.complete
    assert batch.lines[:3] == tuple(done)  # the rows done before the stop, as they were

    final = await run_import(intake, data)
    assert final.complete
    assert [line.status for line in final.lines] == ["imported"] * 8
    assert final.lines[:5] == batch.lines[:5]
    events = await published_once(intake, kafka_broker.bootstrap)
    assert sorted(events) == sorted(str(line.referral_id) for line in final.lines)


async def test_a_case_intake_already_holds_is_not_created_again(intake) -> None:
    rm_id = uuid.uuid4()
    held_id = await _referral_from_rm(intake, rm_id, "AD0001PW")
    corrected = [
        row("AD0009PW", referral_id=str(rm_id)),  # R&M id known, under another reference
        row("AD0001PW"),  # reference number known
        row("AD0002PW"),
    ]
    report = await run_import(intake, csv_bytes(corrected))
    assert [(line.status, line.referral_id) for line in report.lines[:2]] == [
        ("already-held", held_id),
        ("already-held", held_id),
    ]
    assert report.lines[2].status == "imported"
    assert await scalar(intake, "SELECT count(*) FROM referrals") == 2


async def _referral_from_rm(service: RunningService, rm_id: uuid.UUID, ref: str) -> uuid.UUID:
    """A referral as the R&M path creates it (key rm:<id>, its R&M id and reference kept)."""
    pilot = parse_row(row(ref))
    assert isinstance(pilot, PilotRow)
    referral = {**pilot.referral, "rm_referral_id": str(rm_id)}
    command = AcceptReferral("refer-and-monitor", f"rm:{rm_id}", referral)
    async with service.infra.unit_of_work() as uow:
        record, created = await accept_referral(command, uow=uow, routing=HubRouting())
        await uow.commit()
    assert created
    return record.id


def test_the_documented_format_is_the_one_the_importer_reads() -> None:
    doc = (REPO / "docs" / "pilot-import.md").read_text()
    for column in COLUMNS:
        if not column.endswith(("_3", "_4")):  # documented as the range `x_2` … `_4`
            assert f"`{column}`" in doc, column
        marked = f"| `{column}` | **yes** |" in doc
        assert marked == (column in REQUIRED_COLUMNS), column
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0].encode()
    pilot = parse_pilot_bytes(example)
    assert header_problems(list(pilot.header)) == []
    parsed = [parse_row(r.cells) for r in pilot.rows if r.cells is not None]
    assert len(parsed) == 2
    assert all(isinstance(p, PilotRow) for p in parsed)


def test_a_file_that_cannot_be_imported_says_why_without_quoting_it() -> None:
    with pytest.raises(PilotFileError, match="not UTF-8"):
        parse_pilot_bytes(b"referral_ref\n\xff\xfe\n")
    headless = parse_pilot_bytes(csv_bytes([row("AE0001PW")]).split(b"\n", 1)[1])
    assert header_problems(list(headless.header)) == [
        "the first row is not the header (it names no known column)"
    ]
    uneven = parse_pilot_bytes(csv_bytes([row("AE0002PW")]) + b"AE0003PW,X1\n")
    assert uneven.rows[-1].cells is None  # reported as a rejected row, its cells not kept


async def test_the_cli_imports_reports_and_refuses_a_bad_header(intake, database_url, tmp_path):
    good = tmp_path / "caseload.csv"
    good.write_bytes(csv_bytes([row("AF0001PW"), row("AF0002PW", service_user_crn="nope")]))
    done = _cli(database_url, good, tmp_path / "report.csv")
    assert done.returncode == 2, done.stderr
    summary = orjson.loads(done.stdout)
    assert summary["rows"]["imported"] == 1
    assert summary["rows"]["rejected"] == 1
    written = list(csv.DictReader((tmp_path / "report.csv").read_text().splitlines()))
    assert [(w["row_number"], w["status"]) for w in written] == [
        ("2", "imported"),
        ("3", "rejected"),
    ]
    assert written[1]["reason"].startswith("service_user_crn: wrong format")

    bad = tmp_path / "bad.csv"
    bad.write_text("referral_ref,given_name,surname\nAF0003PW,Alex,Example\n")
    refused = _cli(database_url, bad, tmp_path / "bad-report.csv")
    assert refused.returncode == 1
    assert "missing required columns: service_user_crn" in refused.stderr
    assert "unknown columns: surname" in refused.stderr
    assert not (tmp_path / "bad-report.csv").exists()
    assert await scalar(intake, "SELECT count(*) FROM referrals") == 1


_CLI = (
    "import dataclasses, sys\n"
    "from gmirs_referral_intake.__main__ import COMMAND\n"
    "from gmirs_referral_intake.entrypoints.pilot_cli import IMPORT_PILOT_COMMAND\n"
    "from gmirs_runtime.cli import main\n"
    "extra = {**COMMAND.extra, 'import-pilot': IMPORT_PILOT_COMMAND}\n"
    "sys.exit(main(dataclasses.replace(COMMAND, extra=extra), sys.argv[1:]))\n"
)


def _cli(database_url: str, path: Path, report: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "INTAKE_ENVIRONMENT": "test",
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_HTTP_PORT": "1",
        "INTAKE_AUTH_ISSUER": "http://127.0.0.1:1/issuer",
        "INTAKE_AUTH_JWKS_URL": "http://127.0.0.1:1/jwks",
    }
    command = [sys.executable, "-c", _CLI, "import-pilot", str(path), "--report", str(report)]
    return subprocess.run(
        command, check=False, env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_yes_no_cells_become_booleans_and_anything_else_is_refused() -> None:
    """The API takes JSON booleans only; a pilot cell may say yes/no (as documented)."""
    said = parse_row(
        row("PILOT-YN-1", needs_interpreter="Yes", has_additional_responsibilities="no")
    )
    assert isinstance(said, PilotRow)
    assert said.referral["needs"]["needs_interpreter"] is True
    assert said.referral["needs"]["has_additional_responsibilities"] is False
    unclear = parse_row(row("PILOT-YN-2", needs_interpreter="maybe"))
    assert isinstance(unclear, RowRejected)
    assert any("needs_interpreter" in reason for reason in unclear.reasons), unclear.reasons

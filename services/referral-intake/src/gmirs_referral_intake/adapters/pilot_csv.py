"""Reading a pilot caseload CSV and writing the import's report.

A file is known by the SHA-256 of its bytes: that, with a row's number, is what makes a re-run
find the rows it has already done. Row numbers are those a spreadsheet shows (the header is row
1), so the lead provider can find a rejected row. The report names rows, statuses and reasons,
never a person's details, so it can be passed around more freely than the file itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 64 * 1024 * 1024
REPORT_COLUMNS = ("row_number", "referral_ref", "status", "referral_id", "reason")


class PilotFileError(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8 CSV, bad header)."""


@dataclass(frozen=True)
class CsvRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str] | None  # None: the row has a different number of cells than the header


@dataclass(frozen=True)
class PilotFile:
    sha256: str
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]  # blank rows are left out


@dataclass(frozen=True)
class ReportLine:
    row_number: int
    referral_ref: str | None
    status: str
    referral_id: uuid.UUID | None
    reason: str | None


def read_pilot_file(path: Path) -> PilotFile:
    """Read and check a whole file (a pilot caseload is small); PilotFileError says why not."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PilotFileError(f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise PilotFileError(f"cannot read the file: {exc.strerror}") from None
    return parse_pilot_bytes(raw)


def parse_pilot_bytes(raw: bytes) -> PilotFile:
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often save UTF-8 with a byte-order mark
    except UnicodeDecodeError:
        raise PilotFileError("the file is not UTF-8 text") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise PilotFileError(f"not a valid CSV file: {exc}") from None
    if not records:
        raise PilotFileError("the file is empty")
    header = [name.strip() for name in records[0]]
    rows = tuple(_row(number, header, cells) for number, cells in enumerate(records, 1))
    return PilotFile(
        sha256=hashlib.sha256(raw).hexdigest(),
        header=tuple(header),
        rows=tuple(row for row in rows[1:] if row is not None),
    )


def _row(number: int, header: list[str], cells: list[str]) -> CsvRow | None:
    if not any(cell.strip() for cell in cells):
        return None
    if len(cells) != len(header):
        return CsvRow(number, None)
    return CsvRow(number, dict(zip(header, cells, strict=True)))


def write_report(path: Path, lines: Iterable[ReportLine]) -> None:
    """Write the report next to its final name, then rename: a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REPORT_COLUMNS)
        for line in lines:
            writer.writerow(
                [
                    line.row_number,
                    line.referral_ref or "",
                    line.status,
                    line.referral_id or "",
                    line.reason or "",
                ]
            )
    os.replace(partial, path)

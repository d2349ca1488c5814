"""CSV, safe to open in a spreadsheet: the pack as one long file, and the helper the case
extract writes with too.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a formula
by Excel or LibreOffice (CSV injection, OWASP): such text is prefixed with `'`. Numbers are
written as numbers (a negative mean change stays -0.5). UTF-8 with a byte order mark, so Excel
reads names with accents correctly; lines end CRLF (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from gmirs_metrics.domain.pack import Pack, Value

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPE = "text/csv; charset=utf-8"
PACK_HEADER = ("sheet", "row", "column", "value")


def safe_cell(value: Value) -> str:
    """The cell as CSV text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Value]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def pack_csv(pack: Pack) -> bytes:
    """One line per table cell: the sheet, the row (its key cells joined by " / "), the
    column header and the value as shown (`*` where suppressed)."""
    return csv_bytes(PACK_HEADER, _cells(pack))


def _cells(pack: Pack) -> Iterable[tuple[Value, ...]]:
    for sheet in pack.sheets:
        keys = [i for i, column in enumerate(sheet.columns) if column.key]
        for row in sheet.rows:
            name = " / ".join(str(row[i]) for i in keys)
            for column, value in zip(sheet.columns, row, strict=True):
                if not column.key:
                    yield (sheet.name, name, column.header, value)

"""The pack as an XLSX workbook people read and print, byte for byte the same for the same
figures.

openpyxl stamps the current time into the document properties (`save_workbook` sets
`modified`) and every zip entry; this writer sets both dates to the figures' `as_of`, calls the
workbook writer itself (not `save_workbook`), and re-zips the parts in openpyxl's own (fixed)
order with fixed timestamps and attributes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from gmirs_metrics.domain.pack import Column, Pack, Sheet, Value
from gmirs_metrics.domain.periods import UK

NUMBER_FORMATS = {"count": "#,##0", "percent": '0.0"%"', "decimal": "#,##0.0"}
STATUS_FILLS = {
    label: PatternFill("solid", fgColor=colour)
    for label, colour in (
        ("Green", "C6EFCE"),
        ("Amber", "FFEB9C"),
        ("Red", "FFC7CE"),
        ("No data", "EDEDED"),
    )
}
RIGHT = Alignment(horizontal="right")
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
HEADER_BORDER = Border(bottom=Side(style="thin"))
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pack_xlsx(pack: Pack) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in pack.sheets:
        _write_sheet(workbook.create_sheet(sheet.name), sheet)
    _set_properties(workbook, pack)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return rezip(raw.getvalue(), _zip_time(pack))


def rezip(archive: bytes, date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """The same entries in the same order, each stamped with `date_time` and fixed attributes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=date_time)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry.filename))
    return out.getvalue()


def _zip_time(pack: Pack) -> tuple[int, int, int, int, int, int]:
    local = pack.as_of.astimezone(UK)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, 0)


def _set_properties(workbook: Workbook, pack: Pack) -> None:
    as_of = pack.as_of.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    properties = workbook.properties
    properties.created = as_of
    properties.modified = as_of
    properties.creator = "GMIRS Connect metrics"
    properties.lastModifiedBy = "GMIRS Connect metrics"
    properties.title = f"GMIRS monthly pack {pack.month:%Y-%m}"


def _append(ws: Worksheet, values: list[Value]) -> None:
    """Append a row; text is always text (openpyxl would store "=..." as a formula)."""
    ws.append(values)
    for index, value in enumerate(values, start=1):
        if isinstance(value, str) and value.startswith("="):
            ws.cell(row=ws.max_row, column=index).data_type = "s"


def _write_sheet(ws: Worksheet, sheet: Sheet) -> None:
    _append(ws, [sheet.title])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for note in sheet.notes:
        _append(ws, [note])
        ws.cell(row=ws.max_row, column=1).font = Font(italic=True)
    ws.append([])
    header_row = len(sheet.notes) + 3  # title, notes, a blank row
    _append(ws, [column.header for column in sheet.columns])
    for cell in ws[header_row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    for row in sheet.rows:
        _append(ws, row)
        _format_row(ws, ws.max_row, sheet.columns, row)
    _set_widths(ws, sheet)
    _set_printing(ws, sheet, header_row)


def _format_row(ws: Worksheet, row_number: int, columns: list[Column], row: list[Value]) -> None:
    """Number formats, `*` aligned with the numbers, status fills, a bold total row. Style
    objects are shared (openpyxl hashes each one assigned: per-cell objects cost seconds)."""
    for index, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
        if column.kind in NUMBER_FORMATS:
            cell = ws.cell(row=row_number, column=index)
            cell.number_format = NUMBER_FORMATS[column.kind]
            if isinstance(value, str):
                cell.alignment = RIGHT
        elif column.kind == "status" and isinstance(value, str) and value in STATUS_FILLS:
            ws.cell(row=row_number, column=index).fill = STATUS_FILLS[value]
        elif column.key and index == 1 and value == "Total":
            ws.cell(row=row_number, column=index).font = BOLD


def _set_widths(ws: Worksheet, sheet: Sheet) -> None:
    """Wide enough for the longest value (headers wrap), within readable bounds."""
    for index, column in enumerate(sheet.columns, start=1):
        longest = max(
            [min(len(column.header), 20), *(len(_text(r[index - 1])) for r in sheet.rows)]
        )
        ws.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 10), 60)


def _text(value: Value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value or ""


def _set_printing(ws: Worksheet, sheet: Sheet, header_row: int) -> None:
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = sheet.title
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"

"""The pack's three files from hand-written figures: what a reader finds in them, and that the
same figures give the same bytes (the workbook is opened with openpyxl, as a reader's tool)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from gmirs_metrics.adapters.pack_csv import pack_csv, safe_cell
from gmirs_metrics.adapters.pack_json import pack_json
from gmirs_metrics.adapters.pack_xlsx import pack_xlsx
from gmirs_metrics.domain.pack import build_pack

from .pack_figures import november

SHEETS = [
    "Summary",
    "KPIs",
    "24-hour reports",
    "Distance travelled",
    "A5 Ethnicity by borough",
    "A2 Referrals by source",
    "Provider activity",
]


def _rows(sheet) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _table(sheet, header_first: str) -> list[tuple[object, ...]]:
    """The sheet's table from its header row down."""
    rows = _rows(sheet)
    start = next(i for i, row in enumerate(rows) if row[0] == header_first)
    return rows[start:]


def test_the_workbook_has_a_sheet_per_area_with_the_figures() -> None:
    workbook = load_workbook(io.BytesIO(pack_xlsx(build_pack(november()))))
    assert workbook.sheetnames == SHEETS
    kpis = _table(workbook["KPIs"], "Measure")
    assert kpis[0] == (
        "Measure",
        "Area",
        "Numerator",
        "Denominator",
        "Percentage",
        "Target",
        "Status",
        "Mitigated",
    )
    assert kpis[1] == ("DS2", "Bury", 19, 20, 95.0, 95.0, "Green", 0)
    assert kpis[2][6] == "Amber"  # 90 % against 95 %, within the 5-point margin
    assert kpis[3] == ("DS3", "All hubs", 30, 40, 75.0, 90.0, "Red", 2)
    assert kpis[4][4:7] == (None, 100.0, "No data")
    reports = _table(workbook["24-hour reports"], "Area")
    assert reports[1] == ("Bury", 12, 11, 1.5, 20.0, 25.0, 2, 1, "rm-unavailable: 1")
    distance = _table(workbook["Distance travelled"], "Area")
    assert distance[2] == ("All hubs", "overall", 14, -0.25)
    activity = _table(workbook["Provider activity"], "Area")
    assert activity[2] == ("Bury", "Spend against budget (GBP)", 10250.5)


def test_breakdowns_are_suppressed_in_the_workbook() -> None:
    workbook = load_workbook(io.BytesIO(pack_xlsx(build_pack(november()))))
    table = _table(workbook["A5 Ethnicity by borough"], "Group")
    assert table[0] == ("Group", "bury", "oldham", "wigan", "Total")
    by_label = {row[0]: row[1:] for row in table[1:]}
    assert by_label["White"][1] == "*"  # 3
    assert by_label["Asian"][2] == "*"  # 2
    assert by_label["White"][2] == 55
    assert sum(v == "*" for row in by_label.values() for v in row) >= 4
    assert by_label["Total"][-1] == 209
    # Text is text: a label that looks like a formula is not run as one.
    label = next(
        c for c in workbook["A5 Ethnicity by borough"]["A"] if c.value == '=HYPERLINK("x")'
    )
    assert label.data_type == "s"
    assert _table(workbook["A2 Referrals by source"], "Group")[1:] == [
        ("R&M", 25, 25),
        ("Direct", 7, 7),
        ("Total", 32, 32),
    ]


def test_the_workbook_is_formatted_for_reading_and_printing() -> None:
    workbook = load_workbook(io.BytesIO(pack_xlsx(build_pack(november()))))
    sheet = workbook["KPIs"]
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "Measure")
    assert sheet.cell(1, 1).font.bold
    assert sheet.cell(header_row, 1).font.bold
    assert sheet.print_title_rows == f"${header_row}:${header_row}"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.freeze_panes == f"B{header_row + 1}"
    assert sheet.cell(header_row + 1, 3).number_format == "#,##0"
    assert sheet.cell(header_row + 1, 5).number_format == '0.0"%"'
    assert sheet.cell(header_row + 1, 7).fill.fgColor.rgb.endswith("C6EFCE")  # green
    assert all(sheet.column_dimensions[c].width >= 10 for c in "ABCDEFGH")
    assert workbook.properties.created == datetime(2026, 12, 1, 3, 15, 42)
    assert workbook.properties.modified == datetime(2026, 12, 1, 3, 15, 42)


def test_two_builds_are_byte_identical_and_other_figures_are_not() -> None:
    figures = november()
    for write in (pack_xlsx, pack_csv, pack_json):
        first = write(build_pack(figures))
        assert write(build_pack(november())) == first
        later = replace(figures, as_of=datetime(2026, 12, 2, tzinfo=UTC))
        assert write(build_pack(later)) != first, write.__name__


def test_the_workbook_zip_has_fixed_entry_times() -> None:
    with zipfile.ZipFile(io.BytesIO(pack_xlsx(build_pack(november())))) as archive:
        times = {entry.date_time for entry in archive.infolist()}
        names = archive.namelist()
    assert times == {(2026, 12, 1, 3, 15, 0)}
    assert names[0] == "docProps/app.xml"
    assert "xl/worksheets/sheet7.xml" in names


def test_the_csv_is_one_long_table_of_what_the_workbook_shows() -> None:
    raw = pack_csv(build_pack(november()))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["sheet", "row", "column", "value"]
    assert ["KPIs", "DS3 / All hubs", "Status", "Red"] in rows
    assert ["A5 Ethnicity by borough", "White", "oldham", "*"] in rows
    assert ["Distance travelled", "All hubs / overall", "Mean change", "-0.25"] in rows
    # A label that a spreadsheet would run as a formula is defused.
    assert ["A5 Ethnicity by borough", '\'=HYPERLINK("x")', "wigan", "10"] in rows


def test_the_json_holds_the_figures_with_breakdowns_suppressed() -> None:
    document = json.loads(pack_json(build_pack(november())))
    assert document["month"] == "2026-11"
    assert document["kpis"][0] | {} == {
        "code": "DS2",
        "area": "bury",
        "numerator": 19,
        "denominator": 20,
        "target_percent": 95.0,
        "mitigated": 0,
        "amber_margin": 5.0,
        "percentage": 95.0,
        "status": "green",
    }
    a5 = document["breakdowns"][0]
    assert a5["cells"][0][1] == "*"
    assert a5["total"] == 209
    assert "3" not in json.dumps(a5["cells"][0])


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (-2, "-2"),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cells_cannot_run_as_formulas(value: object, cell: str) -> None:
    assert safe_cell(value) == cell  # type: ignore[arg-type]

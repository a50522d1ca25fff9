"""XLSX inputs are bounded: checked before parsing, streamed, refused past the limits in one line.

The workbooks are written part by part with :mod:`zipfile`, so a sheet of 200,000 rows or a
zip bomb costs the test a few kilobytes.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mashdemand.ingest import IngestError, ingest_contacts, read_table, readers
from mashdemand.store import Store

NOW = datetime(2025, 1, 1, tzinfo=UTC)
HEADER = ("contact_id", "received_at", "hub", "Child Name")

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _col(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _row(number: int, values: tuple[str, ...]) -> str:
    cells = "".join(
        f'<c r="{_col(i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def write_xlsx(path: Path, rows: list[str], dimension: str | None = None) -> Path:
    """A one-sheet workbook whose sheet XML holds ``rows`` (``<row>`` elements) verbatim."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{''.join(rows)}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def contact_rows(n: int, first: int = 2) -> list[str]:
    return [
        _row(first + i, (f"X{i:05d}", f"0{1 + i % 9}/03/2024 10:00", "reading", "Jane Doe"))
        for i in range(n)
    ]


def test_streamed_rows_keep_sheet_row_numbers_and_skip_empty_rows(tmp_path):
    rows = [_row(1, HEADER), *contact_rows(3), '<row r="5"/>', *contact_rows(2, first=6)]
    raw = read_table(write_xlsx(tmp_path / "gap.xlsx", rows))
    assert raw.table.column("row_number").to_pylist() == [2, 3, 4, 6, 7]
    assert raw.table.column("contact_id").to_pylist() == [
        "X00000", "X00001", "X00002", "X00000", "X00001"
    ]  # fmt: skip
    assert raw.dropped_columns == ["Child Name"]
    assert "Child Name" not in raw.table.column_names


def test_200000_trailing_empty_rows_are_cheap_and_not_records(tmp_path):
    """Styled but empty rows, as a sheet formatted far below its data carries (issue 10 item 5)."""
    empty = [
        f'<row r="{r}"><c r="A{r}" s="1"/><c r="B{r}" s="1"/></row>' for r in range(12, 200_012)
    ]
    path = write_xlsx(
        tmp_path / "empty.xlsx", [_row(1, HEADER), *contact_rows(10), *empty], "A1:D200011"
    )
    assert path.stat().st_size < 2_000_000  # a cheap input ...
    s = ingest_contacts(path, store=Store(":memory:"), now=NOW)  # ... read in seconds, not minutes
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (10, 10, 0)


def test_stale_dimension_neither_cuts_rows_off_nor_pads(tmp_path):
    rows = [_row(1, HEADER), *contact_rows(6)]
    raw = read_table(write_xlsx(tmp_path / "stale.xlsx", rows, dimension="A1:D3"))
    assert raw.table.column("row_number").to_pylist() == [2, 3, 4, 5, 6, 7]


def _one_line_error(path: Path, match: str) -> str:
    with pytest.raises(IngestError, match=match) as err:
        ingest_contacts(path, store=Store(":memory:"), now=NOW)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return msg


def test_zip_bomb_refused_before_parsing(tmp_path):
    # 3 MiB of empty rows that deflate ~1,000:1: inflating and parsing it is what must not happen.
    rows = [_row(1, HEADER), *contact_rows(1), " " * (3 * 2**20)]
    path = write_xlsx(tmp_path / "bomb.xlsx", rows)
    assert path.stat().st_size < 20_000
    msg = _one_line_error(path, "compresses")
    assert "xl/worksheets/sheet1.xml" in msg and "limit of 400 to 1" in msg


def test_oversized_sheet_xml_refused(tmp_path, monkeypatch):
    # The real limit is hundreds of MiB; lowering it keeps the test file small.
    monkeypatch.setattr(readers, "XLSX_MAX_PART_BYTES", 2**20)
    monkeypatch.setattr(readers, "XLSX_MAX_COMPRESSION_RATIO", 10**6)
    path = write_xlsx(tmp_path / "big.xlsx", [_row(1, HEADER), *contact_rows(20_000)])
    msg = _one_line_error(path, "uncompressed, over the limit of 1 MiB")
    assert "xl/worksheets/sheet1.xml" in msg


def test_too_many_rows_or_columns_refused(tmp_path):
    declared = write_xlsx(
        tmp_path / "rows.xlsx", [_row(1, HEADER), *contact_rows(2)], dimension="A1:D2000000"
    )
    _one_line_error(declared, "2,000,000 rows, over the limit of 1,048,576")
    beyond = write_xlsx(
        tmp_path / "beyond.xlsx", [_row(1, HEADER), *contact_rows(1, first=1_048_577)]
    )
    _one_line_error(beyond, "rows, over the limit of 1,048,576")
    wide = write_xlsx(
        tmp_path / "wide.xlsx", [_row(1, HEADER + tuple(f"x{i}" for i in range(600)))]
    )
    _one_line_error(wide, "604 columns, over the limit of 512")


def test_limits_are_beyond_what_real_exports_reach():
    assert readers.XLSX_MAX_ROWS == 1_048_576  # Excel's own
    assert readers.XLSX_MAX_COLUMNS >= 256
    assert readers.XLSX_MAX_PART_BYTES >= 256 * 2**20

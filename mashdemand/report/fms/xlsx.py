"""Write the FMS appendix as a workbook (openpyxl): published or internal.

A cover sheet with the contents, a notes sheet (symbols, assumptions, sources), and one sheet
``Table_n`` per table, named by the number in its title. Text from the data cannot become a
live formula (:func:`mashdemand.cells.neutralise`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mashdemand.cells import neutralise
from mashdemand.report.fms.appendix import (
    INTERNAL_BANNER,
    FmsAppendix,
    FmsTable,
    column_header,
    numbered_tables,
    reader_value,
)
from mashdemand.report.numbers import cell_text, cell_value, excel_format
from mashdemand.report.sdc import GSS_SYMBOLS

__all__ = ["write_xlsx"]

PUBLISHED_LINE = "Published version: disclosure control applied."


def write_xlsx(app: FmsAppendix, path: str | Path, internal: bool = False) -> Path:
    """The appendix as a workbook: a cover sheet, notes, one sheet per table.

    Parameters
    ----------
    app : FmsAppendix
        The appendix (:func:`~mashdemand.report.fms.build.build_fms_appendix`).
    path : path
        The ``.xlsx`` to write (folders are made).
    internal : bool
        Write the true values under an internal-only banner; by default the published version,
        with disclosure control applied.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    numbered = numbered_tables(app)
    cover = wb.active
    cover.title = "Cover"
    lines = [
        f"Force Management Statement {app.year}: MASH appendix",
        INTERNAL_BANNER if internal else PUBLISHED_LINE,
        f"Produced by mashdemand on {pd.Timestamp.now(tz='Europe/London'):%d/%m/%Y}.",
        "",
        "Contents",
        *[f"Table {n}: {t.title}" for n, t in numbered],
    ]
    for text in lines:
        _append_text_row(cover, [text])
    cover["A1"].font = Font(bold=True, size=14)
    notes = wb.create_sheet("Notes")
    rows = [("Symbol", "Meaning"), *GSS_SYMBOLS.items(), ("", "")]
    rows += [("Assumption", a) for a in app.assumptions]
    rows += [("Source", s) for s in app.sources]
    for r in rows:
        _append_text_row(notes, list(r))
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 120
    for n, t in numbered:
        _table_sheet(wb, n, t, app.labels, internal)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def _table_sheet(
    wb: Any, n: int, t: FmsTable, labels: dict[str, dict[str, str]], internal: bool
) -> None:
    """Sheet ``Table_n``: the numbered title, the note, a header row, then the rows (numbers as
    numbers, right-aligned, with thousands separators); columns sized to their text."""
    from openpyxl.styles import Alignment, Font, PatternFill

    shown = t.frame(internal)
    ws = wb.create_sheet(f"Table_{n}")
    _append_text_row(ws, [f"Table {n}: {t.title}"])
    ws["A1"].font = Font(bold=True, size=12)
    if t.note:
        _append_text_row(ws, [t.note])
    _append_text_row(ws, [column_header(c) for c in shown.columns])
    hr = ws.max_row
    for cell in ws[hr]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="0B2545")
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    for row in shown.itertuples(index=False):
        values = [
            cell_value(reader_value(c, v, labels)) for c, v in zip(shown.columns, row, strict=True)
        ]
        _append_text_row(ws, values)
        for cell in ws[ws.max_row][1:]:
            cell.alignment = Alignment(horizontal="right")
            fmt = excel_format(cell.value)
            if fmt:
                cell.number_format = fmt
    for i, c in enumerate(shown.columns, start=1):
        texts = (cell_text(reader_value(c, v, labels)) for v in shown[c])
        width = max(len(column_header(c)), *(len(v) for v in texts)) + 2
        ws.column_dimensions[ws.cell(row=hr, column=i).column_letter].width = min(width, 40)


def _append_text_row(ws: Any, values: list[Any]) -> None:
    """Append a row to a worksheet with no live formula in it.

    openpyxl stores any string beginning with ``=`` as a formula; text from the data (hub
    names, categories, notes, option labels) could be one (``=HYPERLINK(...)``). Each string is
    neutralised (:func:`mashdemand.cells.neutralise`: a leading ``'``) and typed as a string.
    """
    ws.append([neutralise(v) for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"

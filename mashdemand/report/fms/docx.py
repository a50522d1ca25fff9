"""Write the FMS appendix as a Word document (python-docx): published or internal."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from mashdemand.report.fms.appendix import (
    INTERNAL_BANNER,
    SECTIONS,
    FmsAppendix,
    FmsTable,
    column_header,
    numbered_tables,
    reader_value,
)
from mashdemand.report.numbers import cell_text
from mashdemand.report.sdc import GSS_SYMBOLS

__all__ = ["write_docx"]

#: Section paragraph key -> (figure name, width in cm) shown after the section's paragraphs.
SECTION_FIGURES: dict[str, tuple[str, float]] = {
    "demand_ahead": ("projection", 17.0),
    "workforce": ("fte", 15.0),
}


def write_docx(app: FmsAppendix, path: str | Path, internal: bool = False) -> Path:
    """The appendix as a Word document.

    Parameters
    ----------
    app : FmsAppendix
        The appendix (:func:`~mashdemand.report.fms.build.build_fms_appendix`).
    path : path
        The ``.docx`` to write (folders are made).
    internal : bool
        Write the true values under an internal-only banner; by default the published version,
        with disclosure control applied.

    Returns
    -------
    Path
        ``path``.
    """
    import docx
    from docx.shared import Cm, Pt

    d = docx.Document()
    sec = d.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = Cm(1.8)
    d.styles["Normal"].font.name = "Arial"
    d.styles["Normal"].font.size = Pt(10)
    d.add_heading(f"Force Management Statement {app.year}: MASH appendix", level=0)
    if internal:
        p = d.add_paragraph()
        p.add_run(INTERNAL_BANNER).bold = True
    d.add_paragraph(
        "Multi-Agency Safeguarding Hub demand, workforce and performance. Produced by "
        f"mashdemand on {pd.Timestamp.now(tz='Europe/London'):%d/%m/%Y}."
    )
    numbered = numbered_tables(app)
    for heading, para_key, keys in SECTIONS:
        d.add_heading(heading, level=1)
        for text in app.paragraphs.get(para_key, []):
            d.add_paragraph(text)
        if para_key in SECTION_FIGURES:
            name, width = SECTION_FIGURES[para_key]
            if name in app.figures:
                d.add_picture(io.BytesIO(app.figure_png(name)), width=Cm(width))
        for n, t in numbered:
            if t.key in keys:
                _add_table(d, n, t, app.labels, internal)
    d.add_heading("6. Assumptions and data sources", level=1)
    d.add_heading("Assumptions", level=3)
    for a in app.assumptions:
        d.add_paragraph(a, style="List Bullet")
    d.add_heading("Data sources", level=3)
    for s in app.sources:
        d.add_paragraph(s, style="List Bullet")
    d.add_heading("Symbols", level=3)
    for sym, meaning in GSS_SYMBOLS.items():
        d.add_paragraph(f"{sym}: {meaning}", style="List Bullet")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


def _add_table(
    d: Any, n: int, t: FmsTable, labels: dict[str, dict[str, str]], internal: bool
) -> None:
    """Table ``n``: its numbered title, the table (8 pt, numbers right-aligned), its note."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    d.add_heading(f"Table {n}: {t.title}", level=3)
    shown = t.frame(internal)
    table = d.add_table(rows=1, cols=len(shown.columns))
    table.style = "Light Grid Accent 1"
    for i, c in enumerate(shown.columns):
        table.rows[0].cells[i].text = column_header(c)
    for row in shown.itertuples(index=False):
        cells = table.add_row().cells
        for i, (c, v) in enumerate(zip(shown.columns, row, strict=True)):
            cells[i].text = cell_text(reader_value(c, v, labels))
            if i > 0:
                cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for r in table.rows:
        for c in r.cells:
            for p in c.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8)
    if t.note:
        d.add_paragraph(t.note).runs[0].italic = True

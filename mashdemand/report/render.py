"""Write a :class:`~mashdemand.report.quarterly.QuarterlyReport` as HTML, PDF and CSV.

The HTML is self-contained (charts embedded as PNG, styles inline) so it can be e-mailed or
put on an intranet as one file. The PDF is the same HTML laid out on A4 by WeasyPrint, which
needs the Pango text library (``scripts/install_system_deps.sh`` installs it on Debian).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mashdemand import schema
from mashdemand.errors import MashdemandError
from mashdemand.hubs import display_name
from mashdemand.report.content import ReportDocument, ReportTable, number_sections
from mashdemand.report.numbers import fmt_int, fmt_num

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "ContentNotShownError",
    "RenderError",
    "check_all_shown",
    "format_table",
    "render_document",
    "render_html",
    "template_environment",
    "write_pdf",
    "write_report",
    "write_tables",
]

TEMPLATES = Path(__file__).parent / "templates"


class RenderError(MashdemandError, RuntimeError):
    """The PDF could not be written (one line saying what to install).

    Not bad input, so the command line exits 1 (``exit_code``), not 2.
    """

    exit_code = 1


class ContentNotShownError(MashdemandError, RuntimeError):
    """A section built a table or figure its template partial does not show (or shows twice,
    or out of the order it was numbered in): a fault of the package, not of the input."""

    exit_code = 1


# --- formatting (numbers: mashdemand.report.numbers) ------------------------------------------
def fmt_bool(v: Any) -> str:
    return "yes" if bool(v) else "no"


def format_table(
    df: pd.DataFrame,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    headers: Mapping[str, str] | None = None,
    total_row: str | None = schema.FORCE_TOTAL,
    element_id: str | None = None,
) -> str:
    """An HTML table: numbers right-aligned and formatted, the ``ALL`` row marked as a total.

    Integer columns get thousands separators, floats one decimal, unless ``formats`` says
    otherwise; ``headers`` renames columns for readers (underscores become spaces anyway).
    A ``hub`` column shows display names ("Bracknell Forest", "Force total"), not slugs.
    ``element_id`` is the table element's ``id``.
    """
    formats = dict(formats or {})
    headers = dict(headers or {})
    ident = f' id="{_esc(element_id)}"' if element_id else ""
    out = [f'<table class="data"{ident}><thead><tr>']
    for c in df.columns:
        label = headers.get(c, str(c).replace("_", " "))
        out.append(f"<th>{_esc(label)}</th>")
    out.append("</tr></thead><tbody>")
    first = df.columns[0] if len(df.columns) else None
    for _, row in df.iterrows():
        is_total = total_row is not None and first is not None and row[first] == total_row
        out.append('<tr class="total">' if is_total else "<tr>")
        for c in df.columns:
            v = row[c]
            if c in formats:  # a number formatted, or a key shown by its name (left-aligned)
                text, num = formats[c](v), not isinstance(v, str)
            elif c == schema.HUB and isinstance(v, str):  # people read names, not slugs
                text, num = display_name(v), False
            elif isinstance(v, bool):
                text, num = fmt_bool(v), False
            elif pd.api.types.is_integer(v):
                text, num = fmt_int(v), True
            elif pd.api.types.is_float(v):
                text, num = fmt_num(v), True
            else:
                text, num = ("" if v is None else str(v)), False
            if is_total and c == first:
                text = "Force total"
            out.append(f'<td class="num">{_esc(text)}</td>' if num else f"<td>{_esc(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def table_html(table: ReportTable) -> str:
    """A :class:`~mashdemand.report.content.ReportTable` as HTML (:func:`format_table`), its
    element ``table-<key>``."""
    return format_table(
        table.frame,
        formats=table.formats,
        headers=table.headers,
        total_row=table.total_row,
        element_id=f"table-{table.key}",
    )


def figure_data_uri(fig: Any, dpi: int = 150) -> str:
    """A Figure as a ``data:image/png;base64,...`` URI (self-contained HTML)."""
    from mashdemand.style import figure_to_png_bytes

    return "data:image/png;base64," + base64.b64encode(figure_to_png_bytes(fig, dpi=dpi)).decode()


# --- writing ----------------------------------------------------------------------------------
def template_environment() -> jinja2.Environment:
    """The Jinja environment of the report templates, escaping every value it inserts.

    Autoescape is on for every template (they are all HTML), so text from the data (hub names,
    categories, notes) cannot inject markup; only the tables built by :func:`format_table`,
    which escapes each cell itself, are inserted unescaped (the ``html_table`` filter, which
    the ``_macros.html.j2`` table macro applies to a ReportTable). ``data_uri`` embeds a
    ReportFigure's chart as PNG.
    """
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["html_table"] = lambda t: Markup(table_html(t))
    env.filters["data_uri"] = lambda f: figure_data_uri(f.figure)
    return env


def write_tables(tables: Mapping[str, pd.DataFrame | None], tdir: str | Path) -> Path:
    """Write each non-empty table as ``<tdir>/<name>.csv``, dates as ``YYYY-MM-DD``.

    Text cells are neutralised against formula injection (:func:`mashdemand.cells.to_csv`):
    these files are opened in spreadsheets.
    """
    from mashdemand.cells import to_csv

    tdir = Path(tdir)
    tdir.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if df is None or df.empty:
            continue
        frame = df.copy()
        for c in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[c]):
                frame[c] = frame[c].dt.strftime("%Y-%m-%d")
        to_csv(frame, tdir / f"{name}.csv", index=False)
    return tdir


def render_document(doc: ReportDocument, template: str = "quarterly.html.j2") -> str:
    """A document as one self-contained HTML page: sections, tables and figures numbered in
    reading order (:func:`~mashdemand.report.content.number_sections`), each section laid out
    by its partial ``sections/<key>.html.j2``, and checked to show everything built
    (:func:`check_all_shown`)."""
    numbered = number_sections(doc)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    html = template_environment().get_template(template).render(doc=numbered, css=css)
    check_all_shown(numbered, html)
    return html


def check_all_shown(doc: ReportDocument, html: str) -> None:
    """Raise :class:`ContentNotShownError` unless every table and figure of ``doc`` is shown
    in ``html`` exactly once, in the order they are listed (the order they are numbered in).

    A table is shown when its element ``table-<key>`` is there, a figure when ``figure-<key>``
    is: a partial that forgets an item (or a section that builds one nobody placed) would
    otherwise drop it silently, or leave a gap in the numbers.
    """
    for kind, items in (("table", list(doc.all_tables())), ("figure", list(doc.all_figures()))):
        where = []
        for item in items:
            mark = f'id="{kind}-{_esc(item.key)}"'
            if html.count(mark) != 1:
                raise ContentNotShownError(
                    f"{kind} {item.key!r} is shown {html.count(mark)} times, not once; "
                    f"is it placed in its section's template partial?"
                )
            where.append(html.index(mark))
        if where != sorted(where):
            shown = [items[i].key for i in sorted(range(len(items)), key=where.__getitem__)]
            raise ContentNotShownError(
                f"{kind}s are shown in the order {shown}, not in the order their section "
                "lists (and numbers) them"
            )


def render_html(report: Any) -> str:
    """The report as one self-contained HTML document (its sections: ``report.document``,
    built by :func:`~mashdemand.report.sections.add_sections`)."""
    if report.document is None:
        raise ValueError("the report has no sections; build it with build_quarterly")
    return render_document(report.document)


def write_pdf(html: str, path: str | Path) -> Path:
    """Lay the HTML out on A4 with WeasyPrint and write the PDF."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango or its friends missing
        raise RenderError(
            "cannot write the PDF: WeasyPrint or its system libraries are missing "
            f"({' '.join(str(exc).split())[:160]}); run scripts/install_system_deps.sh"
        ) from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html).write_pdf(str(path))
    return path


def write_report(report: Any, out: str | Path, pdf: bool = True) -> dict[str, Path]:
    """Write ``<out>/mash_quarterly_<quarter>.html`` and ``.pdf``, the tables as CSV under
    ``<out>/mash_quarterly_<quarter>_tables/`` and the headline facts as JSON.

    Returns the paths written, by kind.
    """
    import json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"mash_quarterly_{report.label}"
    paths: dict[str, Path] = {}
    paths["tables"] = write_tables(report.tables, out / f"{stem}_tables")
    html = render_html(report)
    paths["html"] = out / f"{stem}.html"
    paths["html"].write_text(html, encoding="utf-8")
    facts = {k: v for k, v in report.facts.items() if _jsonable(v)}
    facts["created_at"] = report.created_at
    facts["seconds"] = round(report.seconds, 1)
    paths["json"] = out / f"{stem}.json"
    paths["json"].write_text(json.dumps(facts, indent=1, default=str), encoding="utf-8")
    if pdf:
        paths["pdf"] = write_pdf(html, out / f"{stem}.pdf")
    close_figures(report.figures)
    return paths


def close_figures(figures: Mapping[str, Any]) -> None:
    """Release the figures once written (a notebook keeps the report object, not the charts)."""
    import matplotlib.pyplot as plt

    for fig in figures.values():
        plt.close(fig)


def _jsonable(v: Any) -> bool:
    import json

    try:
        json.dumps(v, default=str)
    except (TypeError, ValueError):
        return False
    return True

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
from mashdemand.report.numbers import (  # fmt_pct, fmt_share: sections.py imports them from here
    fmt_int,
    fmt_num,
    fmt_pct,  # noqa: F401
    fmt_share,  # noqa: F401
)

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "RenderError",
    "format_table",
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


# --- formatting (numbers: mashdemand.report.numbers) ------------------------------------------
def fmt_bool(v: Any) -> str:
    return "yes" if bool(v) else "no"


def format_table(
    df: pd.DataFrame,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    headers: Mapping[str, str] | None = None,
    total_row: str | None = schema.FORCE_TOTAL,
) -> str:
    """An HTML table: numbers right-aligned and formatted, the ``ALL`` row marked as a total.

    Integer columns get thousands separators, floats one decimal, unless ``formats`` says
    otherwise; ``headers`` renames columns for readers (underscores become spaces anyway).
    A ``hub`` column shows display names ("Bracknell Forest", "Force total"), not slugs.
    """
    formats = dict(formats or {})
    headers = dict(headers or {})
    out = ['<table class="data"><thead><tr>']
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
            if c in formats:
                text, num = formats[c](v), True
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


def figure_data_uri(fig: Any, dpi: int = 150) -> str:
    """A Figure as a ``data:image/png;base64,...`` URI (self-contained HTML)."""
    from mashdemand.style import figure_to_png_bytes

    return "data:image/png;base64," + base64.b64encode(figure_to_png_bytes(fig, dpi=dpi)).decode()


# --- writing ----------------------------------------------------------------------------------
def template_environment() -> jinja2.Environment:
    """The Jinja environment of the report templates, escaping every value it inserts.

    Autoescape is on for every template (they are all HTML), so text from the data (hub names,
    categories, notes) cannot inject markup; only the tables built by :func:`format_table`,
    which escapes each cell itself, are inserted with ``| safe``.
    """
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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


def render_html(report: Any) -> str:
    """The report as one self-contained HTML document."""
    from mashdemand.report.sections import quarterly_context

    env = template_environment()
    ctx = quarterly_context(report)
    ctx["css"] = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    ctx["images"] = {name: figure_data_uri(fig) for name, fig in report.figures.items()}
    return env.get_template("quarterly.html.j2").render(**ctx)


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

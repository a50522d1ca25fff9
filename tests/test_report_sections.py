"""The quarterly report as a list of sections: numbering when writing, one partial per
section, everything built is shown, and no import cycle between the writer and the sections.

Before: one ~300-line function built the whole template context, one template laid out every
section, tables and figures had no numbers, and render.py and sections.py imported each other.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import mashdemand.report.sections as sections_pkg
from mashdemand.report.content import (
    ReportDocument,
    ReportFigure,
    ReportTable,
    SectionContent,
    number_sections,
)
from mashdemand.report.render import (
    TEMPLATES,
    ContentNotShownError,
    render_document,
)
from mashdemand.report.sections import SECTIONS, SectionInputs, build_document
from mashdemand.report.sections.method import Method
from mashdemand.report.sections.quality import Quality

REPORT = Path(sections_pkg.__file__).resolve().parents[1]


def small_inputs(quarantined: bool) -> SectionInputs:
    """Inputs for the data-quality and method sections: gaps and a backtest, and a
    quarantine only when ``quarantined``."""
    quarantine = pd.DataFrame(
        {"reason": ["bad date", "no hub"], "rows": [12, 3], "share_of_rows_read_pct": [0.1, 0.02]}
    )
    tables = {
        "quarantine": quarantine if quarantined else quarantine.iloc[:0],
        "gaps": pd.DataFrame({"hub": ["slough", "ALL"], "empty_days": [2, 2]}),
        "backtest": pd.DataFrame({"model": ["ensemble"], "mase": [0.71234], "points": [1200]}),
    }
    facts = {
        "quarter_words": "July to September 2026",
        "history_window": ("2020-04-01", "2026-09-30"),
        "record_hubs": ["slough"],
        "count_hubs": ["reading"],
        "ensemble_mase": 0.71234,
        "ensemble_vs_snaive_pct": -28.8,
        "ensemble_cov80": 0.81,
    }
    return SectionInputs(
        quarter=pd.Period("2026Q3", freq="Q"),
        tables=tables,
        facts=facts,
        notes=["one hub was left out"],
        forecast=None,
        plan=None,
        store=None,
        daily=pd.DataFrame(),
    )


def captions(html: str, kind: str) -> list[int]:
    """The numbers of the ``Table n`` / ``Figure n`` captions, in the order they appear."""
    return [int(n) for n in re.findall(rf"{kind} (\d+)(?=[:<])", html)]


@pytest.mark.parametrize("quarantined", [True, False])
def test_tables_and_figures_are_numbered_in_reading_order_without_gaps(quarantined):
    """The quarantine table and chart are left out when nothing was quarantined: the tables
    after it move up a number rather than leaving Table 1 missing."""
    doc = build_document(
        small_inputs(quarantined), "2026-10-01T09:00:00+01:00", sections=[Quality(), Method()]
    )
    html = render_document(doc)
    n_tables = 3 if quarantined else 2
    assert captions(html, "Table") == list(range(1, n_tables + 1))
    assert captions(html, "Figure") == ([1] if quarantined else [])
    first = "Rows quarantined by reason" if quarantined else "Gaps in the logs, last 12 months"
    assert f"<h3>Table 1: {first}</h3>" in html
    assert f"<h3>Table {n_tables}: Backtest accuracy (out of sample)</h3>" in html
    assert "<h2>1. Data quality</h2>" in html and "<h2>2. Method</h2>" in html
    if not quarantined:  # the section says so instead
        assert "No row has been quarantined" in html
    assert "0.712" in html and "-28.8%" in html and "one hub was left out" in html
    assert "01/04/2020 to 30/09/2026" in html and "2 hubs" in html
    plt.close("all")


def test_number_sections_numbers_sections_tables_and_figures_separately():
    def t(k: str) -> ReportTable:
        return ReportTable(k, k, pd.DataFrame())

    def f(k: str) -> ReportFigure:
        return ReportFigure(k, None, alt=k)

    doc = ReportDocument(
        "r",
        (
            SectionContent("a", "A", tables=(t("x"),), figures=(f("p"), f("q"))),
            SectionContent("b", "B"),
            SectionContent("c", "C", tables=(t("y"), t("z")), figures=(f("r"),)),
        ),
    )
    numbered = number_sections(doc)
    assert [s.number for s in numbered.sections] == [1, 2, 3]
    assert [x.label for x in numbered.all_tables()] == ["Table 1", "Table 2", "Table 3"]
    assert [x.number for x in numbered.all_figures()] == [1, 2, 3]
    assert all(x.number is None for x in doc.all_tables())  # the document itself is unchanged


def test_section_keys_are_unique_and_each_has_a_partial_that_renders():
    keys = [s.key for s in SECTIONS]
    assert len(set(keys)) == len(keys) == 6
    for s in SECTIONS:
        assert (TEMPLATES / "sections" / f"{s.key}.html.j2").is_file(), s.key
    # Every partial renders on its own, with nothing built: optional items simply drop out.
    empty = ReportDocument("r", tuple(SectionContent(s.key, s.heading) for s in SECTIONS))
    html = render_document(empty)
    for i, s in enumerate(SECTIONS, start=1):
        assert html.count(f'<section id="{s.key}"') == 1
        assert f"<h2>{i}. {s.heading}</h2>" in html
    assert captions(html, "Table") == [] and captions(html, "Figure") == []
    partials = {p.name.removesuffix(".html.j2") for p in (TEMPLATES / "sections").glob("*.j2")}
    assert partials == set(keys)  # no partial left over from a section taken out


def test_a_table_its_partial_does_not_show_is_an_error():
    """A section that builds a table no partial places must fail loudly, not drop it."""
    inputs = small_inputs(quarantined=False)
    built = Quality().build(inputs)
    stray = ReportTable("stray", "Shown nowhere", pd.DataFrame({"a": [1]}))
    doc = ReportDocument("r", (replace(built, tables=(*built.tables, stray)),))
    with pytest.raises(ContentNotShownError, match="'stray'"):
        render_document(doc)


def test_table_notes_are_shown_under_the_table():
    inputs = small_inputs(quarantined=False)
    built = Quality().build(inputs)
    gaps = built.table("gaps")
    noted = ReportTable(gaps.key, gaps.title, gaps.frame, notes=("Counted in working days.",))
    doc = ReportDocument("r", (SectionContent("quality", "Data quality", tables=(noted,)),))
    html = render_document(doc)
    assert html.index('id="table-gaps"') < html.index("Counted in working days.")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (at the top or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_no_import_cycle_between_the_writer_and_the_sections():
    """The sections build content; the writer lays it out: neither imports the other."""
    render_imports = imported_modules(REPORT / "render.py")
    assert not any(m.startswith("mashdemand.report.sections") for m in render_imports)
    for path in (REPORT / "sections").glob("*.py"):
        assert "mashdemand.report.render" not in imported_modules(path), path.name
    assert "mashdemand.report.render" not in imported_modules(REPORT / "content.py")


def test_the_backtest_table_names_models_as_a_reader_would():
    """The tables' CSVs keep registry keys (``snaive``); the report shows display names."""
    inputs = small_inputs(quarantined=False)
    inputs.tables["backtest"] = pd.DataFrame(
        {"model": ["ensemble", "snaive", "snaive_adj", "gbm"], "mase": [0.7, 1.0, 0.9, 0.72]}
    )
    html = render_document(build_document(inputs, "2026-10-01T09:00:00+01:00", sections=[Method()]))
    for label in ("Ensemble", "Seasonal naive", "Seasonal naive, calendar-adjusted"):
        assert f">{label}<" in html
    assert "<td>Gradient boosting (pooled)</td>" in html  # text, so not right-aligned
    assert ">snaive<" not in html and ">gbm<" not in html
    assert list(inputs.tables["backtest"]["model"]) == ["ensemble", "snaive", "snaive_adj", "gbm"]

"""Formula-injection neutralisation (mashdemand.cells) and HTML escaping of the report."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mashdemand.cells import FORMULA_PREFIXES, neutralise, neutralise_frame, to_csv
from mashdemand.report.render import (
    TEMPLATES,
    format_table,
    render_document,
    template_environment,
)

# The OWASP "CSV Injection" list, with typical payloads.
OWASP = [
    '=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("payload", OWASP)
def test_neutralise_quotes_every_owasp_prefix(payload):
    assert neutralise(payload) == "'" + payload


def test_prefix_list_is_the_owasp_list():
    assert set(FORMULA_PREFIXES) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.mark.parametrize(
    "value",
    [
        -5,
        -2.5,
        np.int64(-3),
        np.float64(-0.5),
        0,
        True,
        None,
        float("nan"),
        pd.NaT,
        pd.Timestamp("2024-01-01"),
        dt.date(2024, 1, 1),
        "reading",
        "'=already quoted",
        " =leading space",
        "",
    ],
)
def test_neutralise_leaves_numbers_dates_and_plain_text(value):
    out = neutralise(value)
    assert out is value


def test_numeric_looking_text_is_text():
    assert neutralise("-5") == "'-5" and neutralise("+44 118") == "'+44 118"


def test_neutralise_frame_text_columns_names_and_index():
    df = pd.DataFrame(
        {
            "hub": ["reading", "=1+2"],
            "category": pd.Categorical(["@x", "neglect"]),
            "label": pd.array(["-a", None], dtype="string"),
            "=total": [-5, 7],
            "rate": [-0.5, 1.5],
            "date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "mixed": ["-1", -1],
        },
        index=pd.Index(["+i", "j"], name="@idx"),
    )
    out = neutralise_frame(df)
    assert out["hub"].tolist() == ["reading", "'=1+2"]
    assert out["category"].tolist() == ["'@x", "neglect"]
    assert isinstance(out["category"].dtype, pd.CategoricalDtype)
    assert out["label"].iloc[0] == "'-a" and pd.isna(out["label"].iloc[1])
    assert list(out.columns) == ["hub", "category", "label", "'=total", "rate", "date", "mixed"]
    assert out["'=total"].tolist() == [-5, 7] and out["'=total"].dtype == np.int64
    assert out["rate"].tolist() == [-0.5, 1.5]
    assert (out["date"].to_numpy() == df["date"].to_numpy()).all()
    assert out["mixed"].tolist() == ["'-1", -1]
    assert out.index.tolist() == ["'+i", "j"] and out.index.name == "'@idx"
    assert df["hub"].tolist() == ["reading", "=1+2"], "the input frame is not changed"


def test_to_csv_writes_no_cell_a_spreadsheet_would_evaluate(tmp_path):
    df = pd.DataFrame({"option": OWASP, "fte": np.arange(len(OWASP)) - 2.5})
    path = to_csv(df, tmp_path / "x.csv", index=False)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["option", "fte"]
    for row, payload in zip(rows[1:], OWASP, strict=True):
        assert row[0] == "'" + payload
    assert [float(r[1]) for r in rows[1:]] == [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]


# --- HTML stays escaped ------------------------------------------------------------------------
SCRIPT = "<script>alert('x')</script>"


def test_report_template_escapes_text_from_the_data():
    from mashdemand.report.content import ReportDocument, SectionContent

    assert template_environment().autoescape is True
    doc = ReportDocument(
        "MASH report",
        (
            SectionContent("summary", "Summary", paragraphs={"bullets": [SCRIPT]}),
            SectionContent("method", "Method", paragraphs={"notes": [SCRIPT]}),
        ),
    )
    html = render_document(doc)
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 2
    assert (TEMPLATES / "quarterly.html.j2").exists()


def test_format_table_escapes_cells_and_headers():
    html = format_table(pd.DataFrame({"<b>": [SCRIPT], "n": [3]}))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_to_csv_quotes_a_carriage_return_inside_text(tmp_path):
    """A bare CR is a row break to a spreadsheet: unquoted, ``x\\r=cmd`` would start a new row
    whose first cell is a formula, past the prefix check."""
    df = pd.DataFrame({"note": ["x\r=cmd|' /C calc'!A0", "plain"], "n": [1, 2]})
    path = to_csv(df, tmp_path / "cr.csv", index=False)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["note", "n"], ["x\r=cmd|' /C calc'!A0", "1"], ["plain", "2"]]
    assert pd.read_csv(path)["n"].tolist() == [1, 2]


def test_format_table_shows_hub_names_not_slugs():
    html = format_table(pd.DataFrame({"hub": ["bracknell-forest", "north-east", "ALL"], "n": 1}))
    assert "<td>Bracknell Forest</td>" in html and "<td>North East</td>" in html
    assert "<td>Force total</td>" in html
    assert "bracknell-forest" not in html and "north-east" not in html

"""Formula injection (issue 10, item 4): a hub such as ``=HYPERLINK(...)`` is refused wherever a
hub enters, and no file a person opens (FMS workbook, report tables, forecast and staffing CSVs)
holds a live formula or a text cell starting ``=``, ``+``, ``-``, ``@`` unquoted."""

from __future__ import annotations

import csv
import re
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import make_contacts, write_csv  # noqa: E402

from mashdemand.cli import app  # noqa: E402

HYPERLINK = '=HYPERLINK("http://x","y")'
QUOTED_HYPERLINK = '"=HYPERLINK(""http://x"",""y"")"'  # as a CSV field
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
runner = CliRunner()


def _good_counts(path: Path) -> Path:
    days = pd.date_range("2024-01-01", periods=70, freq="D").strftime("%Y-%m-%d")
    rows = [f"{hub},{d},{5 + i % 3}" for hub in ("reading", "slough") for i, d in enumerate(days)]
    path.write_text("hub,date,contacts\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _bad_counts(path: Path) -> Path:
    """Two days of counts (a period the old reader accepted) with the formula hub on row 3."""
    rows = [f"{hub},2024-01-0{day},5" for day in (1, 2) for hub in ("reading", QUOTED_HYPERLINK)]
    path.write_text("hub,date,contacts\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _error_line(result) -> str:
    """The one error line on stderr (a progress bar may precede it on the same stream)."""
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [ln for ln in re.split(r"[\r\n]", result.stderr) if "mashdemand: error:" in ln]
    assert len(lines) == 1, result.stderr
    return lines[0][lines[0].index("mashdemand: error:") :]


def _forecast(tmp_path: Path, *extra: str):
    args = ["forecast", "--until", "2024-04-30", "--models", "snaive", "--no-backtest"]
    return runner.invoke(app, [*args, "--out", str(tmp_path / "fc.csv"), *extra])


# --- the hub rule at every entry ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["counts", "population", "housing"])
def test_formula_hub_refused_in_forecast_inputs(tmp_path, kind):
    """Before: counts normalised the hub but never checked it; drivers only lower-cased it."""
    if kind == "counts":
        bad = _bad_counts(tmp_path / "bad_counts.csv")
        r = _forecast(tmp_path, "--counts", str(bad))
    else:
        bad = tmp_path / f"bad_{kind}.csv"
        head = (
            "hub,year,age_band,population,kind\n"
            if kind == "population"
            else "hub,year,net_additional_dwellings,kind\n"
        )
        row = "2023,all,1000,estimate" if kind == "population" else "2023,10,actual"
        bad.write_text(f"{head}reading,{row}\n{QUOTED_HYPERLINK},{row}\n", encoding="utf-8")
        r = _forecast(
            tmp_path, "--counts", str(_good_counts(tmp_path / "c.csv")), f"--{kind}", str(bad)
        )
    assert r.exit_code == 2, r.output
    line = _error_line(r)
    # Counts number rows as a spreadsheet does; the drivers module numbers data rows.
    row = "row 3" if kind == "counts" else "row 2"
    assert line.startswith(f"mashdemand: error: {bad}: {row}, column hub: ")
    assert "=HYPERLINK" in line and "not a hub slug" in line
    assert not (tmp_path / "fc.csv").exists()


def test_formula_hub_refused_in_establishment(tmp_path):
    """Before: the establishment kept any hub text (it reached the FMS workbook as a formula)."""
    est = tmp_path / "est.csv"
    est.write_text(f"hub,fte\nreading,2\n{QUOTED_HYPERLINK},3\n", encoding="utf-8")
    args = ["fms-appendix", "--year", "2026", "--store", str(tmp_path / "s.db")]
    r = runner.invoke(app, [*args, "--establishment", str(est), "--out", str(tmp_path)])
    assert r.exit_code == 2, r.output
    line = _error_line(r)
    assert line.startswith(f"mashdemand: error: {est}: row 3, column hub: ")
    assert "=HYPERLINK" in line


def test_pipe_hub_refused_not_renamed(tmp_path):
    """Before: ``north|south`` was split at ``|`` into ``north``, its forecast doubled and its
    intervals were NaN."""
    counts = _good_counts(tmp_path / "c.csv")
    text = counts.read_text(encoding="utf-8").replace("slough,", "north|south,")
    counts.write_text(text, encoding="utf-8")
    r = _forecast(tmp_path, "--counts", str(counts))
    assert r.exit_code == 2, r.output
    line = _error_line(r)
    assert f"{counts}: row 72, column hub: 'north|south' contains '|'" in line


def test_report_quarterly_counts_formula_hub_is_one_line(tmp_path):
    contacts = write_csv(make_contacts(300), tmp_path / "contacts.csv")
    bad = _bad_counts(tmp_path / "bad.csv")
    args = ["report", "quarterly", "--store", str(tmp_path / "s.duckdb"), "--no-pdf"]
    r = runner.invoke(
        app,
        [*args, "--contacts", str(contacts), "--counts", str(bad), "--out", str(tmp_path / "r")],
    )
    assert r.exit_code == 2, r.output
    assert _error_line(r).startswith(f"mashdemand: error: {bad}: row 3, column hub: ")


# --- no live formula in what a person opens ----------------------------------------------------
def _assert_csv_safe(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        for cell in row:
            if cell.startswith(DANGEROUS):
                # A number written as text is the only thing allowed to start with "-".
                assert re.fullmatch(r"-\d+(\.\d+)?(e-?\d+)?", cell), (path.name, cell)
    return rows


def test_fms_workbook_has_no_formula(tmp_path):
    """Before: openpyxl wrote any string starting ``=`` as a formula (``<f>`` element)."""
    from openpyxl import load_workbook

    from mashdemand.report.fms import FmsAppendix, FmsTable, write_xlsx

    data = pd.DataFrame(
        {
            "hub": ["reading", "ALL"],
            "option": [HYPERLINK, "@SUM(A1:A9)"],
            "category": ["+cmd|' /C calc'!A0", "-neglect"],
            "gap_fte": [-1.5, 2.0],
            "contacts": [120, 130],
        }
    )
    table = FmsTable("workforce", "=Table 1", data, note="-note: tab\there")
    app_ = FmsAppendix(
        year=2026,
        tables=[table],
        paragraphs={},
        figures={},
        assumptions=["=1+1 assumed", "\t=cmd"],
        sources=["@source"],
    )
    path = write_xlsx(app_, tmp_path / "fms.xlsx")
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheets) == 3
        for name in sheets:
            assert "<f>" not in z.read(name).decode("utf-8") and "<f " not in z.read(name).decode()
    wb = load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert not cell.value.startswith(DANGEROUS), (ws.title, cell.value)
    assert "'" + HYPERLINK in texts and "'@SUM(A1:A9)" in texts and "'-neglect" in texts
    assert "'=1+1 assumed" in texts and "'\t=cmd" in texts and "'@source" in texts
    table_ws = wb["Table_1"]
    numbers = [c.value for r in table_ws.iter_rows() for c in r if isinstance(c.value, float)]
    assert -1.5 in numbers  # numbers stay numbers


def test_report_csv_tables_have_no_formula(tmp_path, monkeypatch):
    """Before: report tables were written with DataFrame.to_csv as they were."""
    from mashdemand.report import render

    monkeypatch.setattr(render, "render_html", lambda report: "<html></html>")
    report = SimpleNamespace(
        label="2026Q2",
        tables={
            "quarantine": pd.DataFrame({"reason": ["=1+2", "@x"], "rows": [3, -4]}),
            "options": pd.DataFrame(
                {"option": ["+cmd", "-x"], "date": pd.to_datetime(["2026-04-01", "2026-05-01"])}
            ),
            "empty": pd.DataFrame(),
        },
        facts={},
        figures={},
        created_at="2026-07-01T09:00:00",
        seconds=0.0,
    )
    paths = render.write_report(report, tmp_path / "out", pdf=False)
    written = sorted(p.name for p in paths["tables"].iterdir())
    assert written == ["options.csv", "quarantine.csv"]
    q = _assert_csv_safe(paths["tables"] / "quarantine.csv")
    assert q == [["reason", "rows"], ["'=1+2", "3"], ["'@x", "-4"]]
    o = _assert_csv_safe(paths["tables"] / "options.csv")
    assert o == [["option", "date"], ["'+cmd", "2026-04-01"], ["'-x", "2026-05-01"]]


def test_forecast_csv_has_no_formula(tmp_path):
    """A split value from a counts file (``source``) reaches the forecast CSV: quoted now."""
    counts = _good_counts(tmp_path / "c.csv")
    lines = counts.read_text(encoding="utf-8").splitlines()
    body = [f"{ln},{source}" for ln in lines[1:] for source in ("police", "=1+2")]
    counts.write_text("hub,date,contacts,source\n" + "\n".join(body) + "\n", encoding="utf-8")
    r = _forecast(tmp_path, "--counts", str(counts), "--by", "source")
    assert r.exit_code == 0, r.output
    rows = _assert_csv_safe(tmp_path / "fc.csv")
    assert rows[0][:2] == ["hub", "source"]
    sources = {row[1] for row in rows[1:]}
    assert sources == {"'=1+2", "police", "ALL"}


def test_staffing_csv_has_no_formula(tmp_path):
    """Option names come from the user's staffing config; before, they were written as given."""
    from mashdemand.staffing.plan import StaffingPlan

    plan = SimpleNamespace(
        summary=pd.DataFrame({"hub": ["reading"], "option": ["=cmd"], "fte_required": [-0.5]}),
        roster=pd.DataFrame({"hub": ["reading"], "option": ["@opt"], "hour": [8], "staff": [2]}),
    )
    StaffingPlan.to_csv(plan, tmp_path / "s.csv", tmp_path / "r.csv")
    assert _assert_csv_safe(tmp_path / "s.csv")[1] == ["reading", "'=cmd", "-0.5000"]
    assert _assert_csv_safe(tmp_path / "r.csv")[1] == ["reading", "'@opt", "8", "2"]

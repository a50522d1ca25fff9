"""scripts/compare_outputs.py: before/after comparison of report outputs on tiny generated files."""

from __future__ import annotations

import copy
import doctest
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import docx
import numpy as np
import openpyxl
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_outputs.py"
_spec = importlib.util.spec_from_file_location("compare_outputs", SCRIPT)
co = importlib.util.module_from_spec(_spec)
sys.modules["compare_outputs"] = co  # dataclasses look their module up by name
_spec.loader.exec_module(co)

REPORT = {
    "quarter": "2026Q3",
    "quarter_contacts": 60680,
    "fy_yhat": [248471.0, 257081.0],
    "prior_run": {"created_at": "2026-12-02 02:26:27", "models": "snaive,ets,gbm"},
}
CSV = "hub,fte_required,meets\nreading,7.176379,True\nslough,12.5,False\n"
SHEETS = {
    "Cover": [["FMS 2026: MASH appendix"]],
    "Table_1": [
        ["Table 1: Contacts received by hub", None],
        ["hub", "contacts 2025-26"],
        ["Reading", 12519],
        ["Slough", 30587],
    ],
}
TABLE = [["hub", "contacts"], ["Reading", "12,519"], ["Slough", "30,587"]]
PARAGRAPHS = ["Table 1: Contacts received by hub", "The MASH received 242,278 contacts (+2.1%)."]


def write_outputs(
    root: Path,
    report: dict[str, Any] | None = None,
    csv_text: str = CSV,
    sheets: dict[str, list[list[Any]]] | None = None,
    table: list[list[str]] | None = None,
    paragraphs: list[str] | None = None,
    image: np.ndarray | None = None,
) -> Path:
    """A tiny output folder: JSON, CSV, XLSX, DOCX and PNG, each overridable."""
    (root / "q" / "tables").mkdir(parents=True)
    (root / "fms").mkdir()
    (root / "q" / "report.json").write_text(json.dumps(report or REPORT), encoding="utf-8")
    (root / "q" / "tables" / "staffing.csv").write_text(csv_text, encoding="utf-8")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in (sheets or SHEETS).items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(root / "fms" / "appendix.xlsx")
    document = docx.Document()
    for text in paragraphs or PARAGRAPHS:
        document.add_paragraph(text)
    rows = table or TABLE
    t = document.add_table(rows=len(rows), cols=len(rows[0]))
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            t.cell(i, j).text = text
    document.save(root / "fms" / "appendix.docx")
    pixels = np.zeros((10, 10, 3), np.uint8) if image is None else image
    Image.fromarray(pixels).save(root / "q" / "figure.png")
    return root


def run(before: Path, after: Path, *options: str) -> tuple[int, str]:
    """Run the comparison in process; the exit code and the printed summary."""
    printed: list[str] = []
    code = co.main([str(before), str(after), *options], echo=printed.append)
    return code, "\n".join(printed)


def row_of(summary: str, name: str) -> list[str]:
    """The cells of the summary table's row for the file whose path ends with ``name``."""
    line = next(x for x in summary.splitlines() if x.startswith("|") and name in x)
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.fixture
def before(tmp_path: Path) -> Path:
    return write_outputs(tmp_path / "before")


def test_equal_folders_pass_and_count_every_value(before: Path, tmp_path: Path) -> None:
    after = write_outputs(tmp_path / "after")
    code, summary = run(before, after, "--out", str(tmp_path / "s" / "summary.md"))
    assert code == 0
    assert "**PASS**: 5 files, 0 failing" in summary
    # JSON leaves: quarter, quarter_contacts, two forecasts, created_at, models.
    expected = ["q/report.json", "json", "equal", "6", "6", "0", "0", "0"]
    assert row_of(summary, "report.json") == expected
    assert row_of(summary, "staffing.csv")[3:5] == ["9", "9"]
    assert row_of(summary, "appendix.xlsx")[3:5] == ["9", "9"]  # 1 + 2 + 2 + 2 + 2 cells
    assert row_of(summary, "appendix.docx")[3:5] == ["8", "8"]  # 6 cells, 2 paragraphs
    assert row_of(summary, "figure.png")[2] == "equal"
    assert (tmp_path / "s" / "summary.md").read_text(encoding="utf-8") == summary + "\n"


def test_number_beyond_tolerance_fails_and_is_named(before: Path, tmp_path: Path) -> None:
    report = copy.deepcopy(REPORT)
    report["fy_yhat"][1] = 257081.0 * 1.01
    code, summary = run(before, write_outputs(tmp_path / "after", report=report))
    assert code == 1
    assert "**FAIL**" in summary
    assert row_of(summary, "report.json")[2:7] == ["differs", "6", "5", "0", "1"]
    assert "$.fy_yhat[1]: 257081.0 -> 259651.81" in summary


def test_numbers_within_tolerance_pass(before: Path, tmp_path: Path) -> None:
    report = copy.deepcopy(REPORT)
    report["quarter_contacts"] = 60700  # 0.03% off
    csv_text = CSV.replace("7.176379", "7.18")
    after = write_outputs(tmp_path / "after", report=report, csv_text=csv_text)
    code, summary = run(before, after)
    assert code == 0
    assert row_of(summary, "report.json")[2:7] == ["within", "6", "5", "1", "0"]
    assert row_of(summary, "staffing.csv")[2:7] == ["within", "9", "8", "1", "0"]
    assert float(row_of(summary, "report.json")[7]) == pytest.approx(20 / 60700, rel=1e-2)
    assert "largest relative difference (0.000329): `$.quarter_contacts: 60680 -> 60700`" in summary
    # The same change fails once the tolerance is tighter than it.
    assert run(before, after, "--rel", "1e-4")[0] == 1


def test_text_and_flags_compare_exactly(before: Path, tmp_path: Path) -> None:
    report = copy.deepcopy(REPORT)
    report["prior_run"]["models"] = "snaive,ets"
    after = write_outputs(tmp_path / "after", report=report, csv_text=CSV.replace("True", "False"))
    code, summary = run(before, after)
    assert code == 1
    assert "$.prior_run.models: 'snaive,ets,gbm' -> 'snaive,ets'" in summary
    assert "R2C3: 'True' -> 'False'" in summary
    # An ignored key is not compared at all.
    code, summary = run(before, after, "--ignore-key", "$.prior_run.*", "--ignore", "*.csv")
    assert code == 0
    assert "staffing.csv" not in summary


def test_missing_files_are_listed_on_their_side(before: Path, tmp_path: Path) -> None:
    after = write_outputs(tmp_path / "after")
    (after / "q" / "tables" / "staffing.csv").unlink()
    (after / "q" / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    code, summary = run(before, after)
    assert code == 1
    assert row_of(summary, "staffing.csv")[:3] == ["q/tables/staffing.csv", "csv", "only before"]
    assert row_of(summary, "extra.csv")[:3] == ["q/extra.csv", "csv", "only after"]


def test_xlsx_cells_are_compared(before: Path, tmp_path: Path) -> None:
    sheets = copy.deepcopy(SHEETS)
    sheets["Table_1"][3][1] = 31000  # 1.3% more
    sheets["Table_1"][2][1] = 12520  # within rounding
    code, summary = run(before, write_outputs(tmp_path / "after", sheets=sheets))
    assert code == 1
    assert row_of(summary, "appendix.xlsx")[2:7] == ["differs", "9", "7", "1", "1"]
    assert "Table_1!R4C2: 30587 -> 31000" in summary


def test_docx_table_cells_and_paragraphs_are_compared(before: Path, tmp_path: Path) -> None:
    table = copy.deepcopy(TABLE)
    table[2][1] = "31,000"
    code, summary = run(before, write_outputs(tmp_path / "after", table=table))
    assert code == 1
    assert "table 1 R3C2: '30,587' -> '31,000'" in summary

    paragraphs = [PARAGRAPHS[0], "The MASH received 250,000 contacts (+2.1%)."]
    after = write_outputs(tmp_path / "after2", paragraphs=paragraphs)
    code, summary = run(before, after)
    assert code == 1
    assert "paragraph 2: 'The MASH received 242,278" in summary
    code, summary = run(before, after, "--no-docx-text")
    assert code == 0
    assert row_of(summary, "appendix.docx")[3] == "6"


def test_numbering_shift_passes_only_when_normalised(before: Path, tmp_path: Path) -> None:
    """Titles gain or change their number and the numbered sheets shift by one."""
    sheets = {
        "Cover": SHEETS["Cover"],
        "Table_2": [["Table 2: Contacts received by hub", None]] + SHEETS["Table_1"][1:],
    }
    paragraphs = ["Table 2: Contacts received by hub", PARAGRAPHS[1]]
    after = write_outputs(tmp_path / "after", sheets=sheets, paragraphs=paragraphs)
    code, summary = run(before, after)
    assert code == 1
    assert "sheet Table_1: only before" in summary
    code, summary = run(before, after, "--normalise-numbering")
    assert code == 0, summary
    assert "sheet Table_1 paired with Table_2" in summary


def test_png_difference_is_reported_but_never_fails(before: Path, tmp_path: Path) -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    image[:2] = 255  # 20 of 100 pixels changed
    code, summary = run(before, write_outputs(tmp_path / "after", image=image))
    assert code == 0
    assert row_of(summary, "figure.png")[2] == "info"
    assert "80.00% of pixels identical (10x10)" in summary


def write_html(root: Path, produced: str, contacts: str) -> None:
    """A report page: visible text, a style and a script that are not text."""
    (root / "q" / "report.html").write_text(
        f"<html><head><style>p {{ margin: 0 }}</style><script>var n = 1;</script></head>"
        f"<body><p>Produced {produced} by mashdemand</p><h2>Demand</h2>"
        f"<p>The hub received <b>{contacts}</b> contacts.</p></body></html>",
        encoding="utf-8",
    )


def test_html_text_is_compared_and_masks_blank_what_may_differ(
    before: Path, tmp_path: Path
) -> None:
    write_html(before, "02/12/2026 02:26", "60,680")
    after = write_outputs(tmp_path / "after")
    write_html(after, "02/12/2026 02:39", "60,690")
    code, summary = run(before, after)
    assert code == 1
    # Five text runs; the count is within rounding, the time of day is not a number.
    assert row_of(summary, "report.html")[2:7] == ["differs", "5", "3", "1", "1"]
    assert "text line 1: 'Produced 02/12/2026 02:26 by mashdemand' -> " in summary
    code, summary = run(before, after, "--mask", r"Produced [\d/: ]+")
    assert code == 0
    assert row_of(summary, "report.html")[2:7] == ["within", "5", "4", "1", "0"]
    assert "masked `Produced [\\d/: ]+`" in summary


def test_years_and_dates_in_text_are_words_not_numbers() -> None:
    tol = co.Tolerance(rel=0.01)
    assert co.compare_values("FY 2025-26", "FY 2026-27", tol)[0] == "different"
    assert co.compare_values("Produced 2026", "Produced 2025", tol)[0] == "different"
    assert co.compare_values("on 02/12/2026", "on 03/12/2026", tol)[0] == "different"
    assert co.compare_values("£3.4m", "£3.41m", tol)[0] == "within"
    assert co.compare_values("12.5%", "12.5", tol)[0] == "different"
    assert co.compare_values(1.0, "1.0", tol)[0] == "equal"
    assert co.compare_values(True, 1, tol)[0] == "equal"  # bools compare exactly (True == 1)
    assert co.compare_values(None, "", tol)[0] == "different"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/nope", "{tmp}"], "before folder {tmp}/nope does not exist"),
        (["{tmp}", "{tmp}", "--rel", "-1"], "--rel must be a number >= 0"),
        (["{tmp}", "{tmp}", "--rel", "abc"], "argument --rel: invalid float value"),
        (["{tmp}"], "the following arguments are required: after"),
        (["{tmp}", "{tmp}", "--mask", "("], "--mask '(' is not a regular expression"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    argv = [a.format(tmp=tmp_path) for a in args]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("compare_outputs: error: ")
    assert message.format(tmp=tmp_path) in done.stderr


def test_doctests() -> None:
    result = doctest.testmod(co)
    assert result.attempted >= 10
    assert result.failed == 0

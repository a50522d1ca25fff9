"""The project's promises about itself: README Quick start, CI command, CLI on data/sample."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SAMPLE
from typer.testing import CliRunner

from mashdemand.cli import app
from mashdemand.store import Store


def quick_start_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one():
    blocks = quick_start_blocks()
    assert len(blocks) == 2
    assert all("\n" not in b for b in blocks)  # one command line each
    assert "mashdemand report quarterly --sample" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci


@pytest.mark.slow
def test_main_job_writes_the_sample_report(tmp_path: Path):
    """The README's main job (report quarterly --sample) on the whole sample force."""
    import json
    import subprocess

    runner = CliRunner()
    store, out = tmp_path / "s.duckdb", tmp_path / "reports"
    r = runner.invoke(
        app, ["report", "quarterly", "--sample", "--store", str(store), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    html = out / "mash_quarterly_2026Q3.html"
    pdf = out / "mash_quarterly_2026Q3.pdf"
    assert html.exists() and pdf.read_bytes().startswith(b"%PDF")
    facts = json.loads((out / "mash_quarterly_2026Q3.json").read_text())
    assert len(facts["record_hubs"]) + len(facts["count_hubs"]) == 9
    daily = pd.read_csv(SAMPLE / "daily_counts.csv", parse_dates=["date"])
    q3 = daily[(daily["date"] >= "2026-07-01") & (daily["date"] <= "2026-09-30")]
    assert facts["quarter_contacts"] == int(q3["contacts"].sum())
    assert facts["met"] == facts["checked"] == 18
    assert f"{facts['quarter_contacts']:,}" in html.read_text(encoding="utf-8")
    if subprocess.run(["which", "pdftoppm"], capture_output=True).returncode == 0:
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "30",
                "-png",
                "-f",
                "1",
                "-l",
                "2",
                str(pdf),
                str(tmp_path / "page"),
            ],
            check=True,
        )
        assert len(list(tmp_path.glob("page-*.png"))) == 2


@pytest.mark.slow
def test_main_job_on_sample(tmp_path: Path):
    paths = sorted(SAMPLE.glob("contacts_*.parquet"))
    assert paths, "data/sample has no record-level contact logs"
    store = tmp_path / "s.duckdb"
    out = tmp_path / "summary.json"
    runner = CliRunner()
    args = ["ingest", *map(str, paths), "--store", str(store), "--summary-json", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    import json

    s = json.loads(out.read_text())
    assert s["rows_read"] == s["rows_accepted"] > 100_000
    assert s["rows_quarantined"] == 0 and s["dropped_columns"] == []
    assert s["min_received_at"].startswith("2017-01-01")
    with Store(store, read_only=True) as st:
        daily = st.daily_counts(by=["source"])
        assert st.count() == s["rows_accepted"]
    assert daily["contacts"].sum() == s["rows_accepted"]
    # Re-running the main job adds nothing.
    r = runner.invoke(app, args)
    s2 = json.loads(out.read_text())
    assert (s2["rows_accepted"], s2["rows_duplicate"]) == (0, s["rows_read"])
    r = runner.invoke(app, ["summary", "--store", str(store)])
    assert r.exit_code == 0 and f"{s['rows_accepted']:,} contacts" in r.output


def test_every_command_has_help():
    runner = CliRunner()
    for cmd in ("ingest", "summary", "sample", "forecast"):
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output, cmd


def test_lint_and_format_clean():
    import subprocess
    import sys

    for args in (["check", "."], ["format", "--check", "."]):
        r = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
        )
        assert r.returncode == 0, r.stdout[-2000:]


def test_every_source_folder_is_a_package():
    """A folder of modules without __init__.py is left out of a regular (non-editable) install."""
    import setuptools

    found = set(setuptools.find_packages(where=str(REPO), include=["mashdemand*"]))
    folders = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "mashdemand").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert folders <= found, folders - found


def test_md_forecast_is_callable_after_submodule_imports():
    import mashdemand as md
    from mashdemand.forecast.counts import infer_freq  # binds the subpackage on mashdemand

    assert infer_freq is not None and callable(md.forecast)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    hist = pd.DataFrame({"hub": "x", "date": days, "contacts": np.arange(120) % 7 + 10})
    r = md.forecast(hist, until="2024-05-07", models=["snaive"], backtest=False)
    assert isinstance(r, md.ForecastResult)
    assert r.frame["date"].min() == pd.Timestamp("2024-04-30") and len(r.frame) == 2 * 8

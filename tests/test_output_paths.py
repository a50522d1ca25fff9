"""No command may write over the store or one of its inputs (issue 10, item 3)."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from mashdemand.cli import app
from tests.conftest import SAMPLE

runner = CliRunner()


def test_forecast_out_cannot_be_its_counts_input(tmp_path):
    counts = tmp_path / "counts.csv"
    shutil.copy(SAMPLE / "daily_counts.csv", counts)
    before = counts.read_bytes()
    r = runner.invoke(
        app, ["forecast", "--counts", str(counts), "--until", "2026-12-31", "--out", str(counts)]
    )
    assert r.exit_code == 2
    assert "--out" in r.output and "is an input file" in r.output
    assert counts.read_bytes() == before


def test_forecast_json_cannot_be_the_store(tmp_path):
    store = tmp_path / "s.duckdb"
    r = runner.invoke(app, ["ingest", str(SAMPLE / "contacts_small.csv"), "--store", str(store)])
    assert r.exit_code == 0, r.output
    size = store.stat().st_size
    r = runner.invoke(
        app,
        ["forecast", "--store", str(store), "--until", "2026-12-31",
         "--out", str(tmp_path / "fc.csv"), "--json", str(store)],
    )  # fmt: skip
    assert r.exit_code == 2 and "--json" in r.output and "is the store" in r.output
    assert store.stat().st_size == size
    assert not (tmp_path / "fc.csv").exists()


def test_staffing_outputs_cannot_be_the_forecast_or_the_store(tmp_path):
    fc = tmp_path / "fc.csv"
    fc.write_text("hub,date,yhat,lo80,hi80,lo95,hi95\n", encoding="utf-8")
    r = runner.invoke(
        app,
        ["staffing", "--forecast", str(fc), "--contacts", str(SAMPLE / "contacts_small.csv"),
         "--out", str(tmp_path / "staffing.csv"), "--roster-out", str(fc)],
    )  # fmt: skip
    assert r.exit_code == 2 and "--roster-out" in r.output and "is an input file" in r.output
    assert fc.read_text(encoding="utf-8") == "hub,date,yhat,lo80,hi80,lo95,hi95\n"

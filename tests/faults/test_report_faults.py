"""Reports under faults: readers during a report, a report that dies, holes in a forecast.

The reports run on one sample hub (slough, April 2020 to September 2026) with the seasonal naive
model only, so each takes well under a minute on an idle machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mashdemand.cli import app
from mashdemand.report import quarterly as rq
from mashdemand.report.archive import find_forecast_for
from mashdemand.report.fms import run as fms_module
from mashdemand.store import ArchiveRun, Store, StoreError

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
FAST = ["snaive"]
QUARTER = "2026Q3"


@pytest.fixture(scope="module")
def base_store(tmp_path_factory) -> Path:
    """A store of slough's contacts from April 2020 to the end of 2026Q3 (read-only master)."""
    d = tmp_path_factory.mktemp("faults_base")
    log = pd.read_parquet(SAMPLE / "contacts_slough.parquet")
    log = log[(log["received_at"] >= "2020-04-01") & (log["received_at"] < "2026-10-01")]
    log.to_parquet(d / "slough.parquet")
    from mashdemand.ingest import ingest_contacts

    store = d / "store.duckdb"
    ingest_contacts([d / "slough.parquet"], store=store)
    return store


@pytest.fixture
def store(base_store, tmp_path) -> Path:
    """A private copy of the base store for one test."""
    p = tmp_path / "store.duckdb"
    shutil.copy(base_store, p)
    return p


def inputs_for(store: Path) -> rq.ReportInputs:
    return rq.ReportInputs(
        store=store, population=SAMPLE / "population.csv", housing=SAMPLE / "housing.csv"
    )


def runs_and_rows(store: Path) -> tuple[pd.DataFrame, int]:
    with Store(store, read_only=True) as st:
        return st.forecast_runs(), st.count("forecast_archive")


# --- readers never wait on a report ---------------------------------------------------------
REPORT_SCRIPT = """
import sys, time
from pathlib import Path
import mashdemand.report.quarterly as rq

store, out, marker, go = (Path(a) for a in sys.argv[1:5])
real = rq.fy_projection

def paused(*args, **kwargs):
    # The report is computing: say so, then wait for the test's readers to finish.
    marker.write_text("computing")
    deadline = time.monotonic() + 300
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return real(*args, **kwargs)

rq.fy_projection = paused
inputs = rq.ReportInputs(store=store, population=Path(sys.argv[5]), housing=Path(sys.argv[6]))
report, paths = rq.run_quarterly(inputs, out, quarter="2026Q3", models=["snaive"], pdf=False)
print("archived", *report.facts["archived_runs"])
"""


def wait_for(path: Path, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the report ended before computing: {err[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail("the report did not begin computing in time")
        time.sleep(0.1)


def test_summary_and_ingest_succeed_while_a_report_computes(store, tmp_path):
    marker, go = tmp_path / "computing", tmp_path / "go"
    extra = tmp_path / "october.csv"
    extra.write_text(
        "contact_id,received_at,hub,source,subject,priority\n"
        "OCT-1,01/10/2026 09:00,slough,police,child,standard\n"
        "OCT-2,01/10/2026 10:30,slough,health,adult,high\n",
        encoding="utf-8",
    )
    with Store(store, read_only=True) as st:
        before = st.count()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            REPORT_SCRIPT,
            str(store),
            str(tmp_path / "out"),
            str(marker),
            str(go),
            str(SAMPLE / "population.csv"),
            str(SAMPLE / "housing.csv"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        wait_for(marker, proc, 180)
        runner = CliRunner()
        summary = runner.invoke(app, ["summary", "--store", str(store)])
        assert summary.exit_code == 0, summary.output
        assert f"{before:,} contacts in 1 hub(s)" in summary.output
        ingest = runner.invoke(app, ["ingest", str(extra), "--store", str(store)])
        assert ingest.exit_code == 0, ingest.output
        assert "accepted 2" in ingest.output
        assert proc.poll() is None  # the report was computing all along
    finally:
        go.touch()
        try:
            out, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert (tmp_path / "out" / "mash_quarterly_2026Q3.html").exists()
    runs, _ = runs_and_rows(store)
    archived = runs[runs["kind"] == "archived"]
    assert sorted(archived["freq"]) == ["day", "fy"]
    assert out.split() == ["archived", *map(str, runs["run_id"])]
    # the report's archive did not undo the ingest made meanwhile
    with Store(store, read_only=True) as st:
        assert st.count() == before + 2


def test_fms_appendix_leaves_the_store_free_while_it_computes(store, monkeypatch):
    """The appendix builds from a snapshot: the file can be opened for writing meanwhile."""

    class Stop(Exception):
        pass

    seen = {}

    def fake_build(snap, year, **kwargs):
        seen["contacts"] = snap.count()
        with Store(store) as writer:  # refused while the appendix holds the file
            seen["writable"] = writer.count()
        raise Stop

    monkeypatch.setattr(fms_module, "build_fms_appendix", fake_build)
    with pytest.raises(Stop):
        fms_module.run_fms_appendix(inputs_for(store), 2026, store.parent / "fms")
    assert seen["contacts"] == seen["writable"] > 100_000


# --- a failed report archives nothing -------------------------------------------------------
def test_report_failing_after_the_forecast_archives_nothing(store, tmp_path, monkeypatch):
    import mashdemand.staffing

    before_runs, before_rows = runs_and_rows(store)

    def broken(*args, **kwargs):
        raise RuntimeError("staffing step failed")

    monkeypatch.setattr(mashdemand.staffing, "plan_staffing", broken)
    with pytest.raises(RuntimeError, match="staffing step failed"):
        rq.run_quarterly(inputs_for(store), tmp_path / "out", quarter=QUARTER, models=FAST)
    after_runs, after_rows = runs_and_rows(store)
    pd.testing.assert_frame_equal(after_runs, before_runs)
    assert after_rows == before_rows == 0
    assert not (tmp_path / "out" / "mash_quarterly_2026Q3.html").exists()


def test_report_whose_writer_fails_archives_nothing(store, tmp_path, monkeypatch):
    """Archiving comes after the files: a writer error leaves the archive as it was."""
    import mashdemand.report.render as render

    days = pd.date_range("2026-10-01", "2026-12-31")
    frame = pd.DataFrame(
        {"hub": "slough", "date": days, "yhat": 50.0, "lo80": 40.0, "hi80": 60.0}
    ).assign(lo95=35.0, hi95=65.0)
    pending = [ArchiveRun(frame, "day", ("2020-04-01", "2026-09-30"), report_quarter=QUARTER)]
    report = rq.QuarterlyReport(
        quarter=pd.Period(QUARTER, freq="Q"),
        tables={},
        figures={},
        facts={},
        notes=[],
        pending_runs=pending,
    )
    monkeypatch.setattr(rq, "build_quarterly", lambda *a, **k: report)

    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(render, "write_report", full_disk)
    with pytest.raises(OSError, match="No space"):
        rq.run_quarterly(inputs_for(store), tmp_path / "out", quarter=QUARTER, models=FAST)
    assert runs_and_rows(store)[1] == 0
    monkeypatch.setattr(render, "write_report", lambda *a, **k: {})
    _, paths = rq.run_quarterly(inputs_for(store), tmp_path / "out", quarter=QUARTER)
    runs, rows = runs_and_rows(store)
    assert list(runs["run_id"]) == [1] and rows == len(days)


# --- no holes in the archive ----------------------------------------------------------------
def quarter_forecast(yhat: np.ndarray, hub: str = "slough") -> pd.DataFrame:
    days = pd.date_range("2026-10-01", "2026-12-31")
    return pd.DataFrame(
        {"hub": hub, "date": days, "yhat": yhat, "lo80": yhat - 5, "hi80": yhat + 5}
    ).assign(lo95=lambda d: d["lo80"] - 3, hi95=lambda d: d["hi80"] + 3)


def test_a_forecast_with_missing_values_is_never_archived(tmp_path):
    good = quarter_forecast(np.full(92, 50.0))
    holes = quarter_forecast(np.r_[np.full(90, 50.0), np.nan, np.nan])
    with Store(tmp_path / "s.duckdb") as st:
        runs = [
            ArchiveRun(good, "day", ("2020-04-01", "2026-09-30")),
            ArchiveRun(holes, "fy", ("2020-04-01", "2026-09-30")),
        ]
        assert runs[1].missing_values() == 2
        with pytest.raises(StoreError, match="2 row"):
            st.archive_runs(runs)
        assert st.count("forecast_runs") == 0 and st.count("forecast_archive") == 0  # all or none
        assert st.archive_runs(runs[:1]) == [1]
        assert st.count("forecast_archive") == 92


def test_build_notes_a_forecast_with_holes_and_does_not_pend_it():
    notes: list[str] = []
    pending: list[ArchiveRun] = []
    holes = quarter_forecast(np.r_[np.nan, np.full(91, 50.0)])
    run = ArchiveRun(holes, "day", ("2020-04-01", "2026-09-30"))
    assert not rq._keep_if_complete(run, pending, notes)
    assert pending == [] and notes == [
        "the archived day forecast has 1 row(s) without a value and was not archived"
    ]


def test_a_holed_run_archived_by_an_older_version_is_not_judged(tmp_path):
    q = pd.Period("2026Q4", freq="Q")
    with Store(tmp_path / "s.duckdb") as st:
        window = ("2020-04-01", "2026-09-30")
        st.archive_forecast(quarter_forecast(np.full(92, 40.0)), freq="day", data_window=window)
        # the old path let NaN rows in (as an older version wrote them, straight into the
        # tables); a later run of the same kind must not be used
        st.con.execute(
            "INSERT INTO forecast_runs SELECT 2, created_at + INTERVAL 1 HOUR, kind, "
            "report_quarter, freq, data_start, data_end, scenario, models, package_version "
            "FROM forecast_runs WHERE run_id = 1"
        )
        st.con.execute(
            "INSERT INTO forecast_archive SELECT 2, hub, date, "
            "CASE WHEN date = (SELECT max(date) FROM forecast_archive) THEN 'NaN'::DOUBLE "
            "ELSE 50 END, lo80, hi80, lo95, hi95 FROM forecast_archive WHERE run_id = 1"
        )
        run, fc = find_forecast_for(st, q)
    assert run["run_id"] == 1 and fc["yhat"].sum() == pytest.approx(92 * 40.0)


def test_archive_forecast_refuses_missing_values_like_a_report_run(tmp_path):
    holed = quarter_forecast(np.r_[np.full(91, 50.0), np.nan])
    with Store(tmp_path / "s.duckdb") as st:
        with pytest.raises(StoreError, match="1 row"):
            st.archive_forecast(holed, freq="day", data_window=("2020-04-01", "2026-09-30"))
        assert st.count("forecast_runs") == 0 and st.count("forecast_archive") == 0

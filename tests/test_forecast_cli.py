"""`mashdemand forecast` on data/sample and on --counts of every period type (CONTRACTS.md)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from mashdemand.cli import app
from mashdemand.forecast.counts import aggregate

COLUMNS = ["hub", "date", "yhat", "lo80", "hi80", "lo95", "hi95"]
runner = CliRunner()


def check_contract(out: pd.DataFrame, by: tuple[str, ...] = ()) -> None:
    assert list(out.columns[:1]) == ["hub"]
    assert set(COLUMNS + list(by)) <= set(out.columns)
    v = out[["lo95", "lo80", "yhat", "hi80", "hi95"]].to_numpy()
    assert (v >= 0).all()
    assert (np.diff(v, axis=1) >= -1e-9).all(), "intervals must be ordered"
    hubs = out[out["hub"] != "ALL"]
    for c in by:
        hubs = hubs[hubs[c] == "ALL"]
    total = out[out["hub"] == "ALL"]
    for c in by:
        total = total[total[c] == "ALL"]
    summed = hubs.groupby("date")["yhat"].sum()
    np.testing.assert_allclose(total.set_index("date")["yhat"], summed, rtol=1e-6, atol=0.01 * 9)


@pytest.fixture(scope="module")
def daily_counts() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "daily_counts.csv", parse_dates=["date"])


@pytest.mark.slow
def test_daily_forecast_from_sample_counts(tmp_path):
    out = tmp_path / "fc.csv"
    r = runner.invoke(
        app,
        [
            "forecast",
            "--counts",
            str(SAMPLE / "daily_counts.csv"),
            "--until",
            "2026-12-31",
            "--out",
            str(out),
            "--json",
            str(tmp_path / "fc.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out, parse_dates=["date"])
    check_contract(fc)
    assert fc["date"].min() == pd.Timestamp("2026-10-01")  # first day after the history
    assert fc["date"].max() == pd.Timestamp("2026-12-31")
    assert fc["hub"].nunique() == 10 and len(fc) == 10 * 92
    doc = json.loads((tmp_path / "fc.json").read_text())
    assert doc["format"] == "mashdemand.forecast/1"
    assert doc["data_window"] == ["2017-01-01", "2026-09-30"]
    assert doc["scenario"]["name"] == "principal"
    bt = {row["model"]: row for row in doc["backtest_overall"]}
    # The default ensemble beats the seasonal naive baseline out of sample by over 10% ...
    assert bt["ensemble"]["mase"] < 0.9 * bt["snaive"]["mase"]
    # ... and its 80% intervals hold 75-85% of outcomes (calibrated on other windows only).
    assert 0.75 <= bt["ensemble"]["coverage80"] <= 0.85
    assert 0.90 <= bt["ensemble"]["coverage95"] <= 0.98
    assert "backtest (rolling origin" in r.output


@pytest.mark.parametrize("freq", ["week", "month", "quarter", "year", "fy"])
def test_counts_of_every_period(tmp_path, daily_counts, freq):
    agg = aggregate(daily_counts, freq)
    path = tmp_path / f"{freq}.csv"
    agg.assign(date=agg["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    out = tmp_path / "fc.csv"
    until = "2028-03-31"
    r = runner.invoke(
        app,
        [
            "forecast",
            "--counts",
            str(path),
            "--until",
            until,
            "--out",
            str(out),
            "--models",
            "snaive,gbm",
        ],
    )
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out, parse_dates=["date"])
    check_contract(fc)
    assert fc["date"].min() > agg["date"].max()
    assert fc["date"].max() <= pd.Timestamp(until)


@pytest.mark.slow
def test_forecast_by_source_is_coherent(tmp_path):
    out = tmp_path / "fc.csv"
    r = runner.invoke(
        app,
        [
            "forecast",
            "--counts",
            str(SAMPLE / "daily_counts.csv"),
            "--until",
            "2026-10-31",
            "--freq",
            "week",
            "--by",
            "source",
            "--out",
            str(out),
            "--models",
            "snaive,gbm",
        ],
    )
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out, parse_dates=["date"])
    check_contract(fc, by=("source",))
    bottoms = fc[(fc["hub"] != "ALL") & (fc["source"] != "ALL")]
    hubs = fc[(fc["hub"] != "ALL") & (fc["source"] == "ALL")].set_index(["hub", "date"])["yhat"]
    summed = bottoms.groupby(["hub", "date"])["yhat"].sum()
    np.testing.assert_allclose(hubs.sort_index(), summed.sort_index(), atol=0.01 * 6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "2026-12-31"], "exactly one of --contacts, --counts or --store"),
        (["--counts", "nope.csv", "--until", "2026-12-31"], "nope.csv: file not found"),
        (["--counts", str(SAMPLE / "daily_counts.csv"), "--until", "2020-01-01"], "is not after"),
        (["--counts", str(SAMPLE / "daily_counts.csv"), "--until", "soon"], "--until 'soon'"),
        (
            [
                "--counts",
                str(SAMPLE / "daily_counts.csv"),
                "--until",
                "2027-01-01",
                "--freq",
                "hour",
            ],
            "--freq 'hour'",
        ),
    ],
)
def test_forecast_errors_are_one_line(tmp_path, args, message):
    r = runner.invoke(app, ["forecast", *args, "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2, r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.output


@pytest.mark.slow
def test_forecast_from_store_by_priority(tmp_path):
    """The real workflow: ingest the contact logs, then forecast from the store by priority."""
    store = tmp_path / "s.duckdb"
    logs = sorted(SAMPLE.glob("contacts_*.parquet"))
    assert runner.invoke(app, ["ingest", *map(str, logs), "--store", str(store)]).exit_code == 0
    out = tmp_path / "fc.csv"
    r = runner.invoke(
        app,
        [
            "forecast",
            "--store",
            str(store),
            "--until",
            "2026-10-31",
            "--freq",
            "week",
            "--by",
            "priority",
            "--models",
            "snaive,gbm",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out, parse_dates=["date"])
    check_contract(fc, by=("priority",))
    assert set(fc["hub"]) == {"ALL", "bracknell-forest", "milton-keynes", "slough"}
    assert set(fc["priority"]) == {"ALL", "urgent", "high", "medium", "standard"}
    # weeks start on Monday; the first is the first whole week after the history (30/09/2026)
    assert (fc["date"].dt.day_of_week == 0).all()
    standard = fc[(fc["hub"] == "ALL") & (fc["priority"] == "standard")]["yhat"].sum()
    total = fc[(fc["hub"] == "ALL") & (fc["priority"] == "ALL")]["yhat"].sum()
    assert 0.7 < standard / total < 0.9  # the great majority is standard, as in the history

"""`mashdemand staffing` on data/sample: the issue's acceptance run, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from mashdemand.cli import app

runner = CliRunner()
HUBS = 9
OPTIONS = {"today", "extended_0818", "long_day_0719", "seven_day"}


@pytest.fixture(scope="module")
def forecast_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("staffing") / "fc.csv"
    res = runner.invoke(
        app,
        [
            "forecast",
            "--counts",
            str(SAMPLE / "daily_counts.csv"),
            "--until",
            "2026-12-31",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def staffing_run(forecast_csv: Path):
    d = forecast_csv.parent
    args = [
        "staffing",
        "--forecast",
        str(forecast_csv),
        "--out",
        str(d / "staffing.csv"),
        "--roster-out",
        str(d / "roster.csv"),
        "--cover-out",
        str(d / "cover.csv"),
    ]
    for f in sorted(SAMPLE.glob("contacts_*.parquet")):
        args += ["--contacts", str(f)]
    res = runner.invoke(app, args)
    return res, d


@pytest.mark.slow
def test_staffing_on_the_sample_force(staffing_run) -> None:
    res, d = staffing_run
    assert res.exit_code == 0, res.output
    s = pd.read_csv(d / "staffing.csv")
    need = {
        "hub",
        "quarter",
        "option",
        "contacts",
        "workload_hours",
        "fte_required",
        "recommended",
        "within_urgent",
        "within_high",
        "within_medium",
        "within_standard",
    }
    assert need <= set(s.columns)
    assert s["hub"].nunique() == HUBS and "ALL" not in set(s["hub"])
    assert set(s["quarter"]) == {"2026Q4"}  # the sample ends 30/09/2026; to the end of 2026
    assert set(s["option"]) == OPTIONS  # today's hours and three options
    # One recommendation per hub and quarter, and it meets every target.
    rec = s[s["recommended"]]
    assert len(rec) == HUBS
    assert rec["meets_targets"].all()
    assert (
        (rec[["within_urgent", "within_high", "within_medium", "within_standard"]] >= 0.95)
        .all()
        .all()
    )
    # The recommendation is the cheapest option meeting the targets (within 0.5% / 0.1 FTE).
    ok = s[s["meets_targets"]]
    cheapest = ok.groupby("hub")["fte_required"].min()
    slack = (cheapest * 0.005).clip(lower=0.1)
    assert (rec.set_index("hub")["fte_required"] <= cheapest + slack + 1e-9).all()
    # Sizes: a county hub of ~5,500 contacts a month needs tens of FTE; small unitaries fewer.
    today = s[s["option"] == "today"].set_index("hub")
    assert 20 <= today.loc["oxfordshire", "fte_required"] <= 60
    assert (
        today.loc["oxfordshire", "fte_required"]
        > 2.5 * today.loc["bracknell-forest", "fte_required"]
    )
    # Work follows demand: workload per contact within the configured minutes (25-90).
    per = s["workload_hours"] * 60 / s["contacts"]
    assert per.between(20, 90).all()
    # The command re-simulated the recommended rosters with fresh arrivals.
    assert f"{HUBS}/{HUBS} hub-quarters meet every target" in res.output


@pytest.mark.slow
def test_roster_and_cover_files(staffing_run) -> None:
    _, d = staffing_run
    r = pd.read_csv(d / "roster.csv")
    assert list(r.columns[:6]) == ["hub", "quarter", "option", "day_type", "hour", "staff"]
    assert set(r["day_type"]) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "bank_holiday"}
    assert set(r["hour"]) == set(range(24))
    assert (r["staff"] >= 0).all()
    today = r[(r["option"] == "today") & (r["hub"] == "reading")]
    # Closed at night under today's hours; at least two on duty on weekday open hours.
    assert today[today["hour"].isin([0, 1, 2, 3, 22, 23])]["staff"].eq(0).all()
    assert today[(today["day_type"] == "tue") & today["hour"].between(8, 15)]["staff"].ge(2).all()
    c = pd.read_csv(d / "cover.csv")
    assert c["hub"].nunique() == HUBS and len(c) > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--options", "today,nine_to_five"], "nine_to_five"),
        (["--quantile", "1.5"], "--quantile"),
    ],
)
def test_staffing_errors_are_one_line(forecast_csv: Path, tmp_path: Path, extra, message) -> None:
    args = [
        "staffing",
        "--forecast",
        str(forecast_csv),
        "--out",
        str(tmp_path / "s.csv"),
        "--contacts",
        str(SAMPLE / "contacts_slough.parquet"),
        *extra,
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_bad_forecast_file_names_the_column(tmp_path: Path) -> None:
    bad = tmp_path / "fc.csv"
    bad.write_text("hub,day,yhat,hi80\nreading,2026-10-01,5,7\n", encoding="utf-8")
    res = runner.invoke(
        app,
        [
            "staffing",
            "--forecast",
            str(bad),
            "--out",
            str(tmp_path / "s.csv"),
            "--contacts",
            str(SAMPLE / "contacts_slough.parquet"),
        ],
    )
    assert res.exit_code == 2 and "missing column(s) date" in res.output
    assert str(bad) in res.output
    assert not (tmp_path / "s.csv").exists()

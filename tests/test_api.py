"""The public API: one ``md.forecast`` in any import order, arguments checked in library terms,
one exception base the CLI maps to one line, and a forecast record that reloads whole."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
import typer
from conftest import SAMPLE

import mashdemand as md
from mashdemand import cli
from mashdemand.errors import MashdemandError
from mashdemand.forecast.api import ForecastError, ForecastResult

# --- one md.forecast ------------------------------------------------------------------------
IMPORT_ORDERS = {
    "function first": (
        "import mashdemand as md; md.forecast; import mashdemand.forecast as f; f.models",
        "assert f is md.forecast and callable(md.forecast)",
    ),
    "package first": (
        "import mashdemand.forecast as f; f.models; import mashdemand as md; md.forecast",
        "assert f is md.forecast and callable(md.forecast)",
    ),
    "submodule first": (
        "import mashdemand.forecast.api; import mashdemand as md; import mashdemand.forecast as f",
        "assert f.metrics.evaluate and callable(md.forecast) and f is md.forecast",
    ),
}


@pytest.mark.parametrize("order", list(IMPORT_ORDERS))
def test_forecast_is_the_package_and_callable_in_any_import_order(order: str) -> None:
    # A fresh interpreter: the bug depends on what was imported first.
    code = "; ".join(IMPORT_ORDERS[order])
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_forecast_package_calls_the_entry_point() -> None:
    from mashdemand.forecast import forecast as function
    from mashdemand.forecast.api import forecast as api_forecast

    assert function is api_forecast
    hist = _history(days=28)
    res = md.forecast(hist, until="2024-02-04", models=["snaive"], backtest=False)
    # Seasonal naive repeats the last week: 7 days for a and for ALL.
    assert len(res.frame) == 14 and res.frame["yhat"].tolist() == [10.0] * 14


# --- arguments in library terms ---------------------------------------------------------------
def _history(days: int = 56) -> pd.DataFrame:
    return pd.DataFrame(
        {"hub": "a", "date": pd.date_range("2024-01-01", periods=days), "contacts": 10}
    )


BAD_ARGUMENTS = [
    (
        {"freq": "fortnightly"},
        "freq 'fortnightly': choose one of day, week, month, quarter, year, fy",
    ),
    ({"until": "soon"}, "until 'soon': not a date"),
    ({"until": "2024-01-10"}, "until 10/01/2024 is not after the history's last day (25/02/2024)"),
    ({"by": ["colour"]}, "by 'colour': choose from priority, source, subject"),
    ({"models": ["snaive", "arima"]}, "models: unknown 'arima'; choose from snaive, naive, drift"),
    ({"reconciliation": "best"}, "reconciliation 'best': choose one of auto, bottom_up, ols"),
    ({"n_jobs": 0}, "n_jobs 0: give a whole number of workers"),
    ({"level": (80, 150)}, "level (80, 150): give interval levels in percent"),
    ({"history_freq": "hourly"}, "history_freq 'hourly': choose one of day, week"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    BAD_ARGUMENTS,
    ids=[next(iter(k)) + str(i) for i, (k, _) in enumerate(BAD_ARGUMENTS)],
)
def test_bad_argument_named_in_one_line(kwargs: dict, message: str) -> None:
    call = {"until": "2024-03-31", "models": ["snaive"], "backtest": False, **kwargs}
    with pytest.raises(ForecastError) as err:
        md.forecast(_history(), **call)
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text and "--" not in text  # one line, no CLI flag names
    assert isinstance(err.value, MashdemandError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize(("alias", "freq"), [("monthly", "month"), ("Weekly", "week")])
def test_everyday_period_names_are_accepted(alias: str, freq: str) -> None:
    call = {"until": "2024-04-30", "models": ["snaive"], "backtest": False}
    res = md.forecast(_history(days=70), freq=alias, **call)
    assert res.freq == freq
    # Complete periods only: 10 weeks, or January and February (March is not complete).
    assert res.history.groupby("unique_id").size().to_dict() == (
        {"a": 10, "ALL": 10} if freq == "week" else {"a": 2, "ALL": 2}
    )


def test_by_as_text_and_hub_implied() -> None:
    hist = _history().assign(priority="urgent")
    res = md.forecast(hist, until="2024-03-03", by="hub, priority", models=["snaive"])
    assert res.by == ("priority",)
    assert set(res.frame["priority"]) == {"urgent", "ALL"}


# --- one exception base -----------------------------------------------------------------------
def _package_exceptions() -> list[type[BaseException]]:
    """Every exception class defined in a mashdemand module (every module imported)."""
    found = {}
    for info in pkgutil.walk_packages(md.__path__, "mashdemand."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__.startswith("mashdemand.")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


def test_every_package_exception_is_a_mashdemand_error() -> None:
    errors = _package_exceptions()
    names = {e.__name__ for e in errors}
    expected = {
        "IngestError", "SchemaError", "CountsError", "StoreError", "StoreInUseError",
        "StoreFullError", "ForecastError", "StaffingError", "ReportError", "RenderError",
        "UnsafePathError", "Interrupted", "MashdemandError",
    }  # fmt: skip
    assert expected <= names, expected - names
    assert [e.__name__ for e in errors if not issubclass(e, MashdemandError)] == []
    assert md.MashdemandError is MashdemandError
    by_name = {e.__name__: e for e in errors}
    # Their other bases stay, so existing except clauses still catch them.
    for name in ("SchemaError", "CountsError", "ForecastError", "StaffingError", "ReportError"):
        assert issubclass(by_name[name], ValueError), name
    assert issubclass(by_name["RenderError"], RuntimeError)
    codes = {name: by_name[name].exit_code for name in ("IngestError", "RenderError")}
    assert codes == {"IngestError": 2, "RenderError": 1}


class _DemoError(MashdemandError):
    """A package error the CLI was never told about by name."""


def test_cli_maps_any_mashdemand_error_to_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def refuse(**_: object) -> None:
        raise _DemoError("counts.csv: row 3, column date:\n not a date")

    monkeypatch.setattr("mashdemand.forecast.api.load_history", refuse)
    args = ["forecast", "--counts", str(SAMPLE / "daily_counts.csv"), "--until", "2027-01-01"]
    monkeypatch.setattr(sys, "argv", ["mashdemand", *args, "--out", str(tmp_path / "o.csv")])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err == "mashdemand: error: counts.csv: row 3, column date: not a date\n"


def test_cli_keeps_render_exit_1_and_lets_interrupts_through() -> None:
    from mashdemand.report.render import RenderError
    from mashdemand.safety import Interrupted

    with pytest.raises(typer.Exit) as stop, cli._user_errors():
        raise RenderError("PDF: install weasyprint")
    assert stop.value.exit_code == 1
    with pytest.raises(Interrupted), cli._user_errors():
        raise Interrupted(15)


def test_cli_error_raised_outside_a_command_block_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def app(**_: object) -> None:
        raise _DemoError("store.duckdb: in use")

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    assert capsys.readouterr().err == "mashdemand: error: store.duckdb: in use\n"


# --- a forecast record that reloads -----------------------------------------------------------
@pytest.fixture(scope="module")
def monthly() -> ForecastResult:
    """Monthly seasonal-naive forecast of 2 hubs from daily history (so with a near term)."""
    daily = pd.read_csv(SAMPLE / "daily_counts.csv", parse_dates=["date"])
    keep = daily["hub"].isin(["reading", "slough"]) & (daily["date"] >= "2023-01-01")
    return md.forecast(daily[keep], until="2027-03-31", freq="month", models=["snaive"], n_jobs=1)


def test_from_json_round_trips_the_whole_result(monthly: ForecastResult, tmp_path: Path) -> None:
    path = tmp_path / "fc.json"
    monthly.to_json(path)
    back = ForecastResult.from_json(path)
    assert len(back.frame) == 3 * 6 and back.near_term is not None  # Oct 2026 to Mar 2027
    pd.testing.assert_frame_equal(back.frame, monthly.frame)
    pd.testing.assert_frame_equal(back.history, monthly.history)
    pd.testing.assert_frame_equal(back.weights, monthly.weights)
    pd.testing.assert_frame_equal(back.near_term.frame, monthly.near_term.frame)
    pd.testing.assert_frame_equal(back.near_term.history, monthly.near_term.history)
    for table in ("by_series", "by_horizon", "overall"):
        pd.testing.assert_frame_equal(
            getattr(back.backtest, table), getattr(monthly.backtest, table)
        )
    # The daily near term has enough backtest points to calibrate its intervals.
    assert monthly.near_term.calibration is not None
    assert back.near_term.calibration == monthly.near_term.calibration
    assert (back.scenario, back.models, back.freq) == (monthly.scenario, ("snaive",), "month")
    assert back.to_json() == monthly.to_json()  # and saves again the same


def test_newer_format_version_refused_in_one_line(monthly: ForecastResult, tmp_path: Path) -> None:
    doc = monthly.to_dict()
    doc["format_version"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ForecastError, match=r"format_version 99 is newer than this mashdemand"):
        ForecastResult.from_json(path)


def test_read_json_still_returns_the_record(monthly: ForecastResult, tmp_path: Path) -> None:
    path = tmp_path / "fc.json"
    monthly.to_json(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        doc = ForecastResult.read_json(path)
    assert any(issubclass(w.category, DeprecationWarning) for w in seen)
    assert doc["format"] == "mashdemand.forecast/1" and doc["format_version"] == 2
    pd.testing.assert_frame_equal(doc["forecast"], monthly.frame, check_dtype=False)


def test_cli_freq_accepts_the_library_aliases(tmp_path):
    from typer.testing import CliRunner

    counts = tmp_path / "two_hubs.csv"
    daily = pd.read_csv(SAMPLE / "daily_counts.csv")
    daily[daily["hub"].isin(["reading", "slough"])].to_csv(counts, index=False)
    out = tmp_path / "fc.csv"
    args = ["forecast", "--counts", str(counts), "--until", "2027-03-31", "--freq", "Monthly",
            "--models", "snaive", "--no-backtest", "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(cli.app, args)
    assert r.exit_code == 0, r.output
    fc = pd.read_csv(out, parse_dates=["date"])
    assert set(fc["hub"]) == {"reading", "slough", "ALL"}
    assert (fc["date"].dt.day == 1).all() and fc["date"].max() == pd.Timestamp("2027-03-01")


def test_force_by_split_intervals_are_not_summed_widths():
    """Before: force-wide split totals (hub ALL, source police) summed the hubs' bounds, so
    their 80% intervals covered 99% of days in the backtest."""
    from mashdemand.forecast.api import _force_by_split

    d = pd.Timestamp("2026-10-01")
    rows = []
    for hub, width in (("a", 10.0), ("b", 20.0)):
        rows.append((hub, "ALL", 100.0, width))  # hub total
        rows.append((hub, "police", 60.0, 0.8 * width))
        rows.append((hub, "health", 40.0, 0.6 * width))
    rows.append(("ALL", "ALL", 200.0, 21.0))  # calibrated: 0.7 x (10 + 20)
    out = pd.DataFrame(rows, columns=["hub", "source", "yhat", "w"])
    out["date"] = d
    for lv, k in ((80, 1.0), (95, 1.5)):
        out[f"lo{lv}"] = out["yhat"] - k * out["w"]
        out[f"hi{lv}"] = out["yhat"] + k * out["w"]
    fs = _force_by_split(out.drop(columns="w"), ["source"], (80, 95)).set_index("source")
    assert fs.loc["police", "yhat"] == 120.0 and set(fs["hub"]) == {"ALL"}
    # police half-widths 8 + 16 = 24, scaled by the force total's 21 / 30
    assert fs.loc["police", "hi80"] == pytest.approx(120 + 0.7 * 24)
    assert fs.loc["police", "lo95"] == pytest.approx(120 - 0.7 * 36)

"""Intervals that hold at every horizon (issue 11): forecast a year ahead, score the next year.

Two synthetic panels with a known error law:

- ``growing``: each hub's level is a random walk (log scale, sd 0.8% a day) times a weekly
  shape, with day-to-day noise (8% lognormal, then Poisson). The seasonal naive's error grows
  with the horizon, slower than sqrt(h) (the day-to-day noise dominates a quarter ahead).
- ``flat``: the same without the random walk: the error does not grow at all.

Before the backtest reached the horizon asked, errors up to day 91 were widened by
sqrt(h / 91) beyond it: 80% intervals covered ~0.95 of the second to fourth quarter of the
growing panel and the width at days 300-365 was ~2x that at days 60-91 on the flat one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mashdemand.forecast.api import forecast

TRAIN_DAYS, TEST_DAYS = 1100, 365
WEEK = np.array([1.15, 1.1, 1.05, 1.0, 1.0, 0.85, 0.85])
BUCKETS = [0, 91, 365]


def _panel(n_hubs: int, walk_sd: float, seed: int) -> pd.DataFrame:
    """``hub, date, contacts`` for ``TRAIN_DAYS + TEST_DAYS`` days (see the module doc)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-06", periods=TRAIN_DAYS + TEST_DAYS, freq="D")
    frames = []
    for i in range(n_hubs):
        level = rng.uniform(40, 200) * np.exp(np.cumsum(rng.normal(0, walk_sd, len(ds))))
        mean = level * WEEK[ds.day_of_week] * np.exp(rng.normal(0, 0.08, len(ds)))
        frames.append(pd.DataFrame({"hub": f"hub-{i:02d}", "date": ds, "contacts": 0}))
        frames[-1]["contacts"] = rng.poisson(mean)
    return pd.concat(frames, ignore_index=True)


def _forecast_next_year(panel: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Forecast the last ``TEST_DAYS`` from the rest; the forecast beside the actuals."""
    cut = panel["date"].min() + pd.Timedelta(days=TRAIN_DAYS - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = forecast(
            panel[panel["date"] <= cut],
            until=panel["date"].max(),
            models=("snaive", "naive"),
            reconciliation="bottom_up",
        )
    actual = pd.concat(
        [
            panel,
            panel.groupby("date", as_index=False)["contacts"].sum().assign(hub="ALL"),
        ]
    )
    out = res.frame.merge(actual, on=["hub", "date"], how="inner")
    out["horizon"] = (out["date"] - cut).dt.days
    assert len(out) == (panel["hub"].nunique() + 1) * TEST_DAYS
    return out, res.calibration


def _by_bucket(out: pd.DataFrame) -> pd.DataFrame:
    """Coverage and mean relative width of the intervals per horizon bucket."""
    y = out["contacts"]
    scored = pd.DataFrame(
        {
            "cov80": (y >= out["lo80"]) & (y <= out["hi80"]),
            "cov95": (y >= out["lo95"]) & (y <= out["hi95"]),
            "width80": (out["hi80"] - out["lo80"]) / out["yhat"],
        }
    )
    return scored.groupby(pd.cut(out["horizon"], BUCKETS), observed=True).mean()


@pytest.fixture(scope="module")
def growing() -> tuple[pd.DataFrame, dict]:
    return _forecast_next_year(_panel(40, walk_sd=0.008, seed=11))


@pytest.fixture(scope="module")
def flat() -> tuple[pd.DataFrame, dict]:
    return _forecast_next_year(_panel(40, walk_sd=0.0, seed=12))


def test_coverage_holds_in_every_bucket_when_error_grows(growing) -> None:
    out, calibration = growing
    table = _by_bucket(out)
    print(table.round(3))
    # calibrated on errors a year ahead, not extrapolated from the first quarter
    assert calibration["h_max"] == TEST_DAYS
    assert [b["h_max"] for b in calibration["quantiles"]][-2:] == [91, TEST_DAYS]
    assert table["cov80"].between(0.70, 0.90).all(), table
    assert table["cov95"].between(0.88, 0.99).all(), table
    # the width grows as the error does (~1.2x from days 60-91 to 300-365), not as sqrt(h)
    w = out["hi80"] - out["lo80"]
    ratio = w[out["horizon"] >= 300].mean() / w[out["horizon"].between(60, 91)].mean()
    assert 1.0 < ratio < 1.5, ratio


def test_widths_do_not_grow_when_error_is_flat(flat) -> None:
    out, calibration = flat
    table = _by_bucket(out)
    print(table.round(3))
    assert table["cov80"].between(0.70, 0.90).all(), table
    assert table["cov95"].between(0.88, 0.99).all(), table
    w = out["hi80"] - out["lo80"]
    ratio = w[out["horizon"] >= 300].mean() / w[out["horizon"].between(60, 91)].mean()
    assert ratio < 1.2, ratio
    # the hubs and the force total are each calibrated to their own spread
    hubs, total = out[out["hub"] != "ALL"], out[out["hub"] == "ALL"]
    for part in (hubs, total):
        assert 0.65 <= _by_bucket(part)["cov80"].mean() <= 0.95

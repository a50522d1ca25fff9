"""Rolling-origin backtests: cutoff placement, horizon numbering, no leakage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import MeanLastSeason, Recorder, poisson_panel

from mashdemand.forecast.backtest import BacktestPlan, backtest_plan, cross_validation, cutoffs

INTERVALS = ["lo80", "hi80", "lo95", "hi95"]


def test_cutoffs_end_h_before_last_observation() -> None:
    end = pd.Timestamp("2024-03-31")
    assert list(cutoffs(end, 7, 3, 7, "day")) == list(
        pd.to_datetime(["2024-03-10", "2024-03-17", "2024-03-24"])
    )
    # step 1: overlapping windows, last cutoff still end - h
    assert list(cutoffs(end, 7, 3, 1, "day")) == list(
        pd.to_datetime(["2024-03-22", "2024-03-23", "2024-03-24"])
    )
    # months: period starts, 3 months before the last month start 2024-12-01
    got = cutoffs(pd.Timestamp("2024-12-01"), 3, 2, 3, "month")
    assert list(got) == list(pd.to_datetime(["2024-06-01", "2024-09-01"]))
    with pytest.raises(ValueError):
        cutoffs(end, 0, 3, 1, "day")


def test_frame_shape_and_horizons() -> None:
    df = poisson_panel(n_series=3, n_days=60)
    cv = cross_validation(MeanLastSeason(), df, h=5, n_windows=3, step=4)
    assert list(cv.columns) == [
        "unique_id", "ds", "cutoff", "horizon", "y", "yhat", *INTERVALS, "model"
    ]  # fmt: skip
    end = df["ds"].max()
    assert sorted(cv["cutoff"].unique()) == list(end - pd.to_timedelta([13, 9, 5], unit="D"))
    assert len(cv) == 3 * 3 * 5 and cv["ds"].max() == end
    assert (cv["ds"] - cv["cutoff"] == pd.to_timedelta(cv["horizon"], unit="D")).all()
    assert set(cv["horizon"]) == {1, 2, 3, 4, 5}
    assert (cv["model"] == "MeanLastSeason").all()
    # y is the actual from df
    actual = cv.merge(df, on=["unique_id", "ds"], suffixes=("", "_df"))
    np.testing.assert_array_equal(actual["y"], actual["y_df"])
    # yhat is the mean of the 7 days up to the cutoff
    row = cv.iloc[0]
    hist = df[(df["unique_id"] == row["unique_id"]) & (df["ds"] <= row["cutoff"])]
    assert row["yhat"] == pytest.approx(hist["y"].iloc[-7:].mean())


def test_no_leakage_and_features_passed() -> None:
    df = poisson_panel(n_series=2, n_days=50)
    df["weekend"] = (df["ds"].dt.day_of_week >= 5).astype(float)
    Recorder.fits.clear()
    Recorder.futures.clear()
    cv = cross_validation(Recorder(), df, h=7, n_windows=4)
    cuts = sorted(cv["cutoff"].unique())
    # every fit saw nothing after its cutoff, and exactly up to it
    assert Recorder.fits == cuts
    for cut, X in zip(cuts, Recorder.futures, strict=True):
        assert list(X.columns) == ["unique_id", "ds", "weekend"]  # features, never y
        assert X["ds"].min() == cut + pd.Timedelta(days=1)
        assert X["ds"].max() == cut + pd.Timedelta(days=7)
        assert len(X) == 2 * 7


def test_short_series_skipped_with_warning() -> None:
    df = poisson_panel(n_series=2, n_days=40)
    # hub01 only starts 12 days before the end: too short for the first cutoffs (< m + 1 = 8)
    late = (df["unique_id"] == "hub01") & (df["ds"] < df["ds"].max() - pd.Timedelta(days=11))
    df = df[~late]
    with pytest.warns(UserWarning, match="fewer than 8 periods skipped \\(hub01\\)"):
        cv = cross_validation(MeanLastSeason(), df, h=2, n_windows=3)
    by_cut = cv.groupby("cutoff")["unique_id"].unique()
    # cutoffs end-6, end-4, end-2: hub01 has 6, 8, 10 rows by then
    assert list(by_cut.iloc[0]) == ["hub00"]
    assert list(by_cut.iloc[2]) == ["hub00", "hub01"]


def test_parallel_matches_serial_and_progress() -> None:
    df = poisson_panel(n_series=2, n_days=40)
    serial = cross_validation(MeanLastSeason(), df, h=3, n_windows=2, progress=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        par = cross_validation(MeanLastSeason(), df, h=3, n_windows=2, n_jobs=2)
    pd.testing.assert_frame_equal(serial, par)


DAILY = (730, 4, 28)  # BACKTEST_PLAN["day"]


@pytest.mark.parametrize(
    ("h", "shortest", "expected"),
    [
        # the default sample run (to the end of 2026, 92 days): as before, 4 windows 28 apart
        (92, 3500, BacktestPlan(h=92, windows=4, step=28, min_train=365)),
        # a year ahead from 5 years: the whole year, cutoffs a quarter apart, a year's training
        (365, 5 * 365, BacktestPlan(h=365, windows=4, step=91, min_train=365)),
        # two years ahead from 9.7 years: capped at 730 days
        (1000, 3560, BacktestPlan(h=730, windows=4, step=182, min_train=365)),
        # two years ahead from 3 years: the longest horizon that leaves a year of training
        (730, 1095, BacktestPlan(h=418, windows=4, step=104, min_train=365)),
        # 8 months of history: a quarter ahead on one season of training, fewer windows
        (365, 240, BacktestPlan(h=91, windows=4, step=28, min_train=7)),
        (365, 150, BacktestPlan(h=91, windows=2, step=28, min_train=7)),
    ],
)
def test_backtest_plan_reaches_the_horizon_the_history_allows(
    h: int, shortest: int, expected: BacktestPlan
) -> None:
    plan = backtest_plan("day", h, shortest, DAILY)
    assert plan == expected
    assert plan.span() <= shortest
    assert plan.windows <= DAILY[1]  # never more fits than the plan's windows + 1


def test_backtest_plan_other_periods() -> None:
    # months: 24 ahead with two years' training from 7 years; 12 ahead from 4 years
    assert backtest_plan("month", 24, 84, (24, 4, 3)) == BacktestPlan(24, 4, 6, 24)
    assert backtest_plan("month", 24, 48, (24, 4, 3)) == BacktestPlan(15, 4, 3, 24)
    # annual: unchanged (2 ahead, 3 windows a year apart, training as short as 2 years)
    assert backtest_plan("fy", 4, 10, (2, 3, 1)) == BacktestPlan(2, 3, 1, 2)
    # cutoffs of a plan fit the history: the first cutoff leaves min_train periods
    end = pd.Timestamp("2024-12-31")
    plan = backtest_plan("day", 365, 1100, DAILY)
    first = cutoffs(end, plan.h, plan.windows, plan.step, "day")[0]
    assert (first - (end - pd.Timedelta(days=1099))).days + 1 >= plan.min_train

"""Accuracy metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mashdemand.forecast import metrics as mt

Y_TRAIN = [1, 2, 3, 4, 5, 6, 7, 8]  # lag-1 errors all 1 -> naive MAE 1, naive MSE 1
Y, YHAT = [9, 10], [10, 10]  # errors (y - yhat) = [-1, 0]


def test_point_metrics_by_hand() -> None:
    # MASE = mean(|-1|, |0|) / 1 = 0.5
    assert mt.mase(Y, YHAT, Y_TRAIN, m=1) == pytest.approx(0.5)
    # RMSSE = sqrt(mean(1, 0) / 1) = sqrt(0.5)
    assert mt.rmsse(Y, YHAT, Y_TRAIN, m=1) == pytest.approx(math.sqrt(0.5))
    # bias = mean(yhat - y) = mean(1, 0) = 0.5; relative = (1 + 0) / (9 + 10) = 1 / 19
    assert mt.bias(Y, YHAT) == pytest.approx(0.5)
    assert mt.rel_bias(Y, YHAT) == pytest.approx(1 / 19)
    assert math.isnan(mt.rel_bias([0, 0], [1, 1]))


def test_seasonal_scale_and_fallbacks() -> None:
    y = [10, 20, 12, 22, 14, 24]  # m=2: seasonal diffs [2, 2, 2, 2] -> MAE 2, MSE 4
    assert mt.naive_scale(y, m=2) == pytest.approx(2.0)
    assert mt.naive_scale(y, m=2, power=2) == pytest.approx(4.0)
    # Shorter than m + 1 = 8: lag-1 diffs [10, 8, 10, 8, 10] -> 9.2
    assert mt.naive_scale(y, m=7) == pytest.approx(9.2)
    # Perfectly seasonal (m=2 diffs all 0) falls back to lag 1: diffs all 10
    assert mt.naive_scale([0, 10, 0, 10, 0, 10], m=2) == pytest.approx(10.0)
    # Constant series: scale 1, so MASE is the MAE in counts, never inf
    assert mt.mase([5, 7], [5, 5], [5, 5, 5, 5], m=1) == pytest.approx(1.0)
    assert math.isnan(mt.naive_scale([3], m=1))


def test_coverage_pinball_interval_score() -> None:
    # [9.5, 11] holds 10 but not 9 -> 0.5; bounds are inclusive
    assert mt.coverage(Y, [9.5, 9.5], [11, 11]) == 0.5
    assert mt.coverage([9.5, 11], [9.5, 9.5], [11, 11]) == 1.0
    # q = 0.9, forecast 9, actual 10: under by 1 -> 0.9 * 1; forecast 11: over by 1 -> 0.1 * 1
    assert mt.pinball([10], [9], 0.9) == pytest.approx(0.9)
    assert mt.pinball([10, 10], [9, 11], 0.9) == pytest.approx((0.9 + 0.1) / 2)
    # q = 0.5 pinball is half the absolute error
    assert mt.pinball([1, 5], [2, 2], 0.5) == pytest.approx(0.5 * (1 + 3) / 2)
    # 80% interval [9.5, 11], alpha 0.2: width 1.5 + (2 / 0.2) * miss; misses 0.5 (y=9), 0
    assert mt.interval_score(Y, [9.5, 9.5], [11, 11], 80) == pytest.approx(
        ((1.5 + 10 * 0.5) + 1.5) / 2
    )


def _cv() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two series, one cutoff (day 8), h = 2."""
    ds = pd.date_range("2024-01-01", periods=10, freq="D")
    train = pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(1.0, 11.0)}),  # scale 1
            pd.DataFrame({"unique_id": "b", "ds": ds, "y": np.arange(1.0, 11.0) * 2}),  # scale 2
        ]
    )
    cv = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b"],
            "ds": list(ds[8:]) * 2,
            "cutoff": ds[7],
            "horizon": [1, 2, 1, 2],
            "y": [9.0, 10.0, 18.0, 20.0],
            "yhat": [10.0, 10.0, 18.0, 24.0],
            "lo80": [9.5, 9.5, 17.0, 21.0],
            "hi80": [11.0, 11.0, 19.0, 25.0],
            "lo95": [9.0, 9.0, 16.0, 19.0],
            "hi95": [12.0, 12.0, 20.0, 26.0],
        }
    )
    return cv, train


def test_evaluate_tables() -> None:
    cv, train = _cv()
    res = mt.evaluate(cv, train, m=1)
    s = res.by_series.set_index("unique_id")
    # a: errors [1, 0] / scale 1 -> MASE 0.5; b: errors [0, 4] / scale 2 -> MASE 1.0
    assert s.loc["a", "mase"] == pytest.approx(0.5)
    assert s.loc["b", "mase"] == pytest.approx(1.0)
    # b: RMSSE = sqrt(mean(0, 16) / 4) = sqrt(2)
    assert s.loc["b", "rmsse"] == pytest.approx(math.sqrt(2))
    # b: rel bias = (0 + 4) / (18 + 20)
    assert s.loc["b", "rel_bias"] == pytest.approx(4 / 38)
    # coverage80: a holds 10 only (0.5); b holds 18 only (20 < 21) -> 0.5
    assert s.loc["a", "coverage80"] == 0.5 and s.loc["b", "coverage80"] == 0.5
    assert s.loc["a", "coverage95"] == 1.0 and s.loc["b", "coverage95"] == 1.0
    # pinball for a; loss = q * under-forecast or (1 - q) * over-forecast of each bound.
    # h=1 (y = 9): q.025 @ 9 -> 0; q.1 @ 9.5 (over 0.5) -> 0.9 * 0.5;
    #              q.9 @ 11 (over 2) -> 0.1 * 2; q.975 @ 12 (over 3) -> 0.025 * 3
    # h=2 (y = 10): q.025 @ 9 (under 1) -> 0.025 * 1; q.1 @ 9.5 (under 0.5) -> 0.1 * 0.5;
    #               q.9 @ 11 (over 1) -> 0.1 * 1; q.975 @ 12 (over 2) -> 0.025 * 2
    h1 = (0 + 0.9 * 0.5 + 0.1 * 2 + 0.025 * 3) / 4  # 0.18125
    h2 = (0.025 * 1 + 0.1 * 0.5 + 0.1 * 1 + 0.025 * 2) / 4  # 0.05625
    assert s.loc["a", "pinball"] == pytest.approx((h1 + h2) / 2)
    hz = res.by_horizon.set_index("horizon")
    # horizon 1: scaled errors a 1/1, b 0/2 -> 0.5; horizon 2: 0/1, 4/2 -> 1.0
    assert hz.loc[1, "mase"] == pytest.approx(0.5) and hz.loc[2, "mase"] == pytest.approx(1.0)
    o = res.overall.iloc[0]
    assert o["n"] == 4 and o["mase"] == pytest.approx(0.75)
    assert o["bias"] == pytest.approx((1 + 0 + 0 + 4) / 4)
    assert set(res.to_dict()) == {"version", "by_series", "by_horizon", "overall"}


def test_evaluate_scale_ignores_data_after_cutoff() -> None:
    cv, train = _cv()
    base = mt.evaluate(cv, train, m=1).by_series
    later = train["ds"] > cv["cutoff"].iloc[0]
    noisy = train.assign(y=np.where(later, train["y"] * 100, train["y"]))
    pd.testing.assert_frame_equal(mt.evaluate(cv, noisy, m=1).by_series, base)


def test_evaluate_by_model_and_missing_columns() -> None:
    cv, train = _cv()
    two = pd.concat([cv.assign(model="A"), cv.assign(model="B", yhat=cv["y"])])
    res = mt.evaluate(two, train, m=1)
    assert list(res.overall["model"]) == ["A", "B"]
    assert res.overall.set_index("model").loc["B", "mase"] == 0.0
    assert len(res.by_series) == 4 and len(res.by_horizon) == 4
    with pytest.raises(ValueError, match="missing column.*lo95"):
        mt.evaluate(cv.drop(columns="lo95"), train, m=1)


def test_evaluate_tables_are_those_of_a_groupby() -> None:
    # Two models, a missing actual, a series with no history (no scale): every table equals
    # pandas' groupby means of the pointwise values, to the last bit.
    cv, train = _cv()
    cv = pd.concat([cv, cv.assign(unique_id="c")], ignore_index=True)
    cv.loc[1, "y"] = np.nan
    two = pd.concat([cv.assign(model="B"), cv.assign(model="A", yhat=cv["yhat"] + 0.3)])
    res = mt.evaluate(two, train, m=1)
    rows = pd.DataFrame(mt.pointwise(two, *mt.row_scales(two, train, m=1), (80, 95)))
    for col in ("model", "unique_id", "horizon"):
        rows[col] = two[col].to_numpy()
    for table, by in (
        (res.by_series, ["model", "unique_id"]),
        (res.by_horizon, ["model", "horizon"]),
    ):
        g = rows.groupby(by, sort=True)
        expected = g[["mae", "mase", "bias", "coverage80", "pinball"]].mean().reset_index()
        expected["rmsse"] = np.sqrt(g["rmsse"].mean().to_numpy())
        expected["n"] = g.size().to_numpy()
        pd.testing.assert_frame_equal(table[expected.columns], expected, check_exact=True)
    # c has no history: no scale, so no MASE (NaN), but its MAE is scored
    c = res.by_series.set_index(["model", "unique_id"]).loc[("A", "c")]
    assert np.isnan(c["mase"]) and c["mae"] > 0 and c["n"] == 4

"""Conformal calibration on the count scale: out-of-sample coverage on a Poisson panel."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import MeanLastSeason, poisson_panel

from mashdemand.forecast.backtest import cross_validation
from mashdemand.forecast.intervals import (
    ConformalCalibrator,
    conformal_quantile,
    group_quantiles,
)
from mashdemand.forecast.metrics import coverage


@pytest.fixture(scope="module")
def backtest() -> pd.DataFrame:
    """30 hubs, 3 to 300 contacts/day, weekday pattern; a model 15% too high and blind to the
    weekday, backtested on 48 weekly windows with h = 7."""
    df = poisson_panel(n_series=30, n_days=7 * 52, seed=3)
    return cross_validation(MeanLastSeason(factor=1.15), df, h=7, n_windows=48)


def test_calibrated_coverage_out_of_sample(backtest: pd.DataFrame) -> None:
    cuts = np.sort(backtest["cutoff"].unique())
    early = backtest[backtest["cutoff"].isin(cuts[:24])]
    late = backtest[backtest["cutoff"].isin(cuts[24:])]
    raw80 = coverage(late["y"], late["lo80"], late["hi80"])
    cal = ConformalCalibrator(level=(80, 95)).fit(early)
    out = cal.apply(late)
    cov80 = coverage(out["y"], out["lo80"], out["hi80"])
    cov95 = coverage(out["y"], out["lo95"], out["hi95"])
    print(f"raw 80%: {raw80:.3f}  calibrated 80%: {cov80:.3f}  95%: {cov95:.3f}")
    assert raw80 < 0.7  # the model's own intervals miss: biased centre, sd of one week
    assert 0.75 <= cov80 <= 0.85
    assert 0.92 <= cov95 <= 0.98
    assert (out[["lo80", "hi80", "lo95", "hi95"]] >= 0).all().all()
    assert (out["lo95"] <= out["lo80"]).all() and (out["hi80"] <= out["hi95"]).all()
    # the bias is learned: away from the zero floor, intervals are centred below yhat
    big = out[out["yhat"] > 50]
    centre = ((big["lo80"] + big["hi80"]) / 2).sum() / big["yhat"].sum()
    # truth is yhat / 1.15 = 0.87 yhat; pooled sqrt-scaled residuals under-correct a
    # proportional bias on the largest hubs, so only "clearly below yhat" is asserted
    assert centre < 0.95
    # 24 windows x 30 hubs x 7 days = 5040 residuals: several horizon buckets
    assert cal.quantiles_["n"].sum() == 5040 and len(cal.quantiles_) == 7


def test_intervals_scale_with_sqrt_of_forecast() -> None:
    cv = pd.DataFrame({"horizon": 1, "y": np.linspace(-10, 10, 101) + 100, "yhat": 100.0})
    cal = ConformalCalibrator(level=(80,)).fit(cv)
    f = pd.DataFrame({"unique_id": ["a", "b"], "ds": 1, "horizon": 1, "yhat": [100.0, 400.0]})
    out = cal.apply(f)
    width = (out["hi80"] - out["lo80"]).to_numpy()
    assert width[1] == pytest.approx(2 * width[0])  # sqrt(400) / sqrt(100)


def test_short_annual_series_one_bucket_and_extrapolation() -> None:
    rng = np.random.default_rng(0)
    cv = pd.DataFrame(
        {"horizon": np.tile([1, 2, 3], 8), "yhat": 50.0, "y": 50 + rng.normal(0, 7, 24)}
    )
    cal = ConformalCalibrator().fit(cv)
    assert len(cal.quantiles_) == 1 and cal.quantiles_.loc[0, "h_max"] == 3
    assert cal.h_max_ == 3 and cal.growth_ == 0.0
    # horizon 12 beyond h_max = 3: one bucket shows no growth, so it is held flat
    f = pd.DataFrame({"unique_id": "a", "ds": [1, 2], "horizon": [3, 12], "yhat": 50.0})
    out = cal.apply(f)
    w = out["hi95"] - out["yhat"]
    assert w.iloc[1] == pytest.approx(w.iloc[0])
    # the former rule, on request: widened by sqrt(12 / 3) = 2
    sq = ConformalCalibrator(extrapolate="sqrt").fit(cv).apply(f)
    assert (sq["hi95"] - sq["yhat"]).iloc[1] == pytest.approx(2 * w.iloc[0])
    # without a horizon column it is the rank of ds within the series
    pd.testing.assert_frame_equal(
        cal.apply(f.drop(columns="horizon").assign(ds=[3, 1]))[["hi95"]],
        cal.apply(f.assign(horizon=[3, 3]).drop(columns="horizon"))[["hi95"]][::-1].reset_index(
            drop=True
        ),
    )


def test_never_below_zero() -> None:
    cv = pd.DataFrame({"horizon": 1, "y": [0.0] * 50 + [9.0] * 50, "yhat": 2.0})
    out = (
        ConformalCalibrator()
        .fit(cv)
        .apply(pd.DataFrame({"unique_id": "a", "ds": 1, "horizon": 1, "yhat": [0.0, 0.5, 2.0]}))
    )
    assert (out[["yhat", "lo80", "hi80", "lo95", "hi95"]] >= 0).all().all()
    assert (out["lo95"] == 0).all()


def test_json_round_trip() -> None:
    rng = np.random.default_rng(1)
    cv = pd.DataFrame(
        {"horizon": np.repeat([1, 2, 3, 4], 40), "yhat": 20.0, "y": rng.poisson(20, 160)}
    )
    cal = ConformalCalibrator().fit(cv)
    assert len(cal.quantiles_) == 4  # 160 residuals -> 4 buckets of 40
    back = ConformalCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    pd.testing.assert_frame_equal(back.quantiles_, cal.quantiles_)
    f = pd.DataFrame({"unique_id": "a", "ds": range(6), "horizon": range(1, 7), "yhat": 20.0})
    pd.testing.assert_frame_equal(back.apply(f), cal.apply(f))
    with pytest.raises(RuntimeError):
        ConformalCalibrator().apply(f)
    # a calibrator saved before the parameter was named ``level`` still loads
    old = cal.to_dict()
    old["levels"] = old.pop("level")
    assert ConformalCalibrator.from_dict(old).level == cal.level == (80, 95)


def test_conformal_quantile_rank() -> None:
    r = np.arange(1.0, 20.0)  # n = 19
    # upper 0.9: rank ceil(20 * 0.9) = 18; lower 0.1: 18th largest = 2nd smallest
    assert conformal_quantile(r, 0.9) == 18.0
    assert conformal_quantile(r, 0.1) == 2.0
    # 0.975 needs rank ceil(20 * 0.975) = 20 > n: the maximum
    assert conformal_quantile(r, 0.975) == 19.0


def _growing(
    n_per_h: int = 20, h_max: int = 400, slope: float = 0.01, seed: int = 2
) -> pd.DataFrame:
    """Residuals at horizons 1 .. h_max whose spread is ``1 + slope * h`` (yhat = 100)."""
    rng = np.random.default_rng(seed)
    hz = np.repeat(np.arange(1, h_max + 1), n_per_h)
    return pd.DataFrame({"horizon": hz, "yhat": 100.0, "y": 100 + rng.normal(0, 1 + slope * hz)})


def test_fixed_buckets_follow_the_error_at_each_horizon() -> None:
    cv = _growing()  # 8000 residuals, spread 1.01 at h = 1 to 5 at h = 400
    cal = ConformalCalibrator(level=(80,), edges=(7, 28, 91, 365, 730), min_per_bucket=200)
    cal.fit(cv)
    q = cal.quantiles_
    # 1-7 has 140 residuals < 200: merged into 1-28; 366-400 is the last, partial bucket
    assert q[["h_min", "h_max", "n"]].values.tolist() == [
        [1, 28, 560], [29, 91, 1260], [92, 365, 5480], [366, 400, 700]
    ]  # fmt: skip
    # each bucket's 80% half-width is the normal 1.2816 x its mean spread (sqrt scale = 10)
    spread = np.array(
        [1 + 0.01 * np.mean(np.arange(a, b + 1)) for a, b in q[["h_min", "h_max"]].values]
    )
    half = (q["hi80"] - q["lo80"]).to_numpy() / 2 * 10
    np.testing.assert_allclose(half, 1.2816 * spread, rtol=0.12)
    # coverage holds in every bucket on fresh residuals from the same law
    fresh = _growing(seed=9).assign(unique_id="a", ds=range(8000))
    out = cal.apply(fresh)
    hit = (out["y"] >= out["lo80"]) & (out["y"] <= out["hi80"])
    by_bucket = hit.groupby(pd.cut(out["horizon"], [0, 91, 365, 400]), observed=True).mean()
    assert by_bucket.between(0.76, 0.84).all(), by_bucket
    # the old count-based buckets (min 200) cut the same range into 40 equal slices
    assert len(ConformalCalibrator(level=(80,), min_per_bucket=200).fit(cv).quantiles_) == 40


def test_beyond_the_backtest_flat_or_grown_as_the_buckets_show() -> None:
    f = pd.DataFrame({"unique_id": "a", "ds": range(3), "horizon": [400, 800, 1600], "yhat": 100.0})
    grow = ConformalCalibrator(level=(80,), edges=(91, 365), min_per_bucket=200).fit(_growing())
    # spreads at mean horizons 46 (1.46) and 228 (3.28): g = log(2.25) / log(4.96), ~0.5
    assert 0.4 < grow.growth_ <= 0.5
    w = (grow.apply(f)["hi80"] - grow.apply(f)["lo80"]).to_numpy()
    np.testing.assert_allclose(w[1:] / w[0], (np.array([800, 1600]) / 400) ** grow.growth_)
    flat = ConformalCalibrator(level=(80,), edges=(91, 365), min_per_bucket=200)
    flat = flat.fit(_growing(slope=0.0))
    assert flat.growth_ < 0.05
    wf = (flat.apply(f)["hi80"] - flat.apply(f)["lo80"]).to_numpy()
    assert wf[2] / wf[0] < 1.04  # sqrt widening would give 2


def test_bucket_table_round_trip_records_h_max() -> None:
    cal = ConformalCalibrator(edges=(7, 28, 91, 365, 730), min_per_bucket=200).fit(_growing())
    d = json.loads(json.dumps(cal.to_dict()))
    assert d["version"] == 2 and d["h_max"] == 400 and d["edges"] == [7, 28, 91, 365, 730]
    assert d["growth"] == pytest.approx(cal.growth_) and d["extrapolate"] == "learned"
    assert [(b["h_min"], b["h_max"]) for b in d["quantiles"]] == [
        (1, 28), (29, 91), (92, 365), (366, 400)
    ]  # fmt: skip
    back = ConformalCalibrator.from_dict(d)
    assert back.h_max_ == 400 and back.edges == (7, 28, 91, 365, 730)
    f = pd.DataFrame({"unique_id": "a", "ds": range(5), "horizon": [1, 50, 200, 400, 900]})
    f["yhat"] = 80.0
    pd.testing.assert_frame_equal(back.apply(f), cal.apply(f))
    # a version-1 record (no h_max, widened by sqrt) still loads and behaves as it did
    v1 = {k: d[k] for k in ("n_buckets", "min_per_bucket", "power", "quantiles")}
    v1["levels"] = d["level"]  # the key's name then
    old = ConformalCalibrator.from_dict({**v1, "version": 1})
    assert old.h_max_ == 400 and old.growth_ == 0.5
    w = old.apply(f)
    assert (w["hi95"] - w["yhat"]).iloc[4] == pytest.approx(
        (w["hi95"] - w["yhat"]).iloc[3] * np.sqrt(900 / 400)
    )


def test_group_quantiles_are_pandas_groupby_quantiles() -> None:
    rng = np.random.default_rng(11)
    r = rng.normal(0, 3, 500).round(1)  # ties, as counts give
    r[rng.integers(0, 500, 20)] = np.nan
    group = rng.integers(0, 7, 500)
    group[group == 6] = 5  # uneven group sizes
    q = pd.Series(r).groupby(group).quantile([0.1, 0.9]).unstack()
    lo, hi = group_quantiles(r, group, (0.1, 0.9))
    np.testing.assert_array_equal(lo, q[0.1].to_numpy())
    np.testing.assert_array_equal(hi, q[0.9].to_numpy())
    # a group of one value is that value; a group with no values, NaN
    lo, hi = group_quantiles(np.array([5.0, np.nan, 1.0, 3.0]), np.array([0, 1, 2, 2]), (0.1, 0.9))
    np.testing.assert_array_equal(lo, [5.0, np.nan, 1.2])
    np.testing.assert_array_equal(hi, [5.0, np.nan, 2.8])

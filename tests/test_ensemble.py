"""Ensemble weights, combination and an honest ensemble backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import MeanLastSeason, poisson_panel

from mashdemand.forecast.backtest import cross_validation
from mashdemand.forecast.ensemble import combine, combine_cv, select_weights
from mashdemand.forecast.metrics import evaluate

DAYS = pd.date_range("2024-01-01", periods=30, freq="D")


def _train() -> pd.DataFrame:
    # y = 1, 2, ..., 30 for both series: lag-1 naive MAE = 1, so MASE = MAE
    return pd.concat(
        pd.DataFrame({"unique_id": u, "ds": DAYS, "y": np.arange(1.0, 31.0)}) for u in "ab"
    )


def _cv(errors: dict[str, float], cutoffs: list[int], h: int = 2) -> pd.DataFrame:
    """Backtest with forecast error ``errors[uid]`` for every point (y from _train)."""
    rows = []
    for c in cutoffs:
        for uid, e in errors.items():
            for k in range(1, h + 1):
                y = float(c + k + 1)  # y on day index c + k is c + k + 1
                rows.append((uid, DAYS[c + k], DAYS[c], k, y, y + e))
    cv = pd.DataFrame(rows, columns=["unique_id", "ds", "cutoff", "horizon", "y", "yhat"])
    for lv, w in ((80, 1.0), (95, 2.0)):
        cv[f"lo{lv}"], cv[f"hi{lv}"] = cv["yhat"] - w, cv["yhat"] + w
    return cv


def test_select_weights_inverse_mase_top_k() -> None:
    cvs = {
        "A": _cv({"a": 1.0, "b": 8.0}, [10, 12]),
        "B": _cv({"a": 2.0, "b": 4.0}, [10, 12]),
        "C": _cv({"a": 4.0, "b": 2.0}, [10, 12]),
        "D": _cv({"a": 8.0, "b": 1.0}, [10, 12]),
    }
    w = select_weights(cvs, _train(), m=1, top_k=3, max_ratio=np.inf, shrink=0)
    wa = w[w["unique_id"] == "a"].set_index("model")["weight"]
    # a: MASE 1, 2, 4 kept (D dropped): weights 1 : 1/2 : 1/4 -> 4/7, 2/7, 1/7
    assert list(wa.index) == ["A", "B", "C"]
    np.testing.assert_allclose(wa.to_numpy(), [4 / 7, 2 / 7, 1 / 7])
    wb = w[w["unique_id"] == "b"].set_index("model")["weight"]
    assert list(wb.index) == ["D", "C", "B"]
    assert w.groupby("unique_id")["weight"].sum().tolist() == pytest.approx([1.0, 1.0])
    # a perfect model takes all the weight
    cvs["P"] = _cv({"a": 0.0, "b": 3.0}, [10, 12])
    w = select_weights(cvs, _train(), m=1, top_k=2, max_ratio=np.inf, shrink=0)
    assert w[w["unique_id"] == "a"].set_index("model")["weight"].to_dict() == {"P": 1.0, "A": 0.0}
    with pytest.raises(ValueError, match="metric"):
        select_weights(cvs, _train(), m=1, metric="coverage80")


def test_select_weights_drops_clearly_worse_models() -> None:
    cvs = {
        "A": _cv({"a": 1.0, "b": 1.0}, [10, 12]),
        "B": _cv({"a": 1.1, "b": 3.0}, [10, 12]),
    }
    # a: B is within 1.2x of A's MASE and is kept; b: B is 3x worse and is left out.
    w = select_weights(cvs, _train(), m=1, top_k=2, max_ratio=1.2, shrink=0)
    assert set(w.loc[w["unique_id"] == "a", "model"]) == {"A", "B"}
    assert w.loc[w["unique_id"] == "b", ["model", "weight"]].values.tolist() == [["A", 1.0]]


def test_combine_weighted_and_equal_fallback() -> None:
    ds = pd.date_range("2025-01-01", periods=2)
    fa = pd.DataFrame({"unique_id": ["a", "a", "c", "c"], "ds": list(ds) * 2, "yhat": 10.0})
    fb = fa.assign(yhat=20.0)
    for f in (fa, fb):
        f["lo80"], f["hi80"] = f["yhat"] - 2, f["yhat"] + 2
    w = pd.DataFrame({"unique_id": ["a", "a"], "model": ["A", "B"], "weight": [0.75, 0.25]})
    out = combine({"A": fa, "B": fb}, w).set_index("unique_id")
    # a: 0.75 * 10 + 0.25 * 20 = 12.5; c has no weights: equal, 15
    assert out.loc["a", "yhat"].tolist() == [12.5, 12.5]
    assert out.loc["c", "yhat"].tolist() == [15.0, 15.0]
    assert out.loc["a", "lo80"].tolist() == [10.5, 10.5]
    assert (out["model"] == "Ensemble").all()


def test_combine_cv_uses_only_earlier_windows() -> None:
    # A is perfect in window 0 and poor later; B the reverse. If the ensemble at window 1
    # looked at window 1 itself it would follow B; honestly it can only follow A.
    a = pd.concat([_cv({"a": 0.0, "b": 0.0}, [10]), _cv({"a": 5.0, "b": 5.0}, [12, 14])])
    b = pd.concat([_cv({"a": 5.0, "b": 5.0}, [10]), _cv({"a": 0.0, "b": 0.0}, [12, 14])])
    ens = combine_cv({"A": a, "B": b}, _train(), m=1, top_k=2)
    assert sorted(ens["cutoff"].unique()) == [DAYS[12], DAYS[14]]  # window 0 has no past
    w1 = ens[ens["cutoff"] == DAYS[12]]
    np.testing.assert_allclose(w1["yhat"] - w1["y"], 5.0)  # followed A (perfect before)
    # window 2 learns from windows 0 and 1: A MASE 2.5, B 2.5 -> equal weights
    w2 = ens[ens["cutoff"] == DAYS[14]]
    np.testing.assert_allclose(w2["yhat"] - w2["y"], 2.5)
    assert {"y", "horizon", "lo95", "hi95"} <= set(ens.columns)


def test_combine_cv_overlapping_windows_use_only_known_errors() -> None:
    # h = 4, step 2: at cutoff 12 only days 11-12 of the window cut at 10 had happened
    a = _cv({"a": 1.0, "b": 1.0}, [10, 12, 14], h=4)
    b = _cv({"a": 2.0, "b": 2.0}, [10, 12, 14], h=4)
    ens = combine_cv({"A": a, "B": b}, _train(), m=1)
    assert sorted(ens["cutoff"].unique()) == [DAYS[12], DAYS[14]]
    # No leakage: make A perfect on days after 12 only. At cutoff 12 that is unknown, so the
    # ensemble there must follow the errors known then (A and B equal: an even mix).
    a2 = a.copy()
    late = a2["ds"] > DAYS[12]
    a2.loc[late, "yhat"] = a2.loc[late, "y"]
    b2 = a.copy()
    ens = combine_cv({"A": a2, "B": b2}, _train(), m=1, max_ratio=np.inf)
    first = ens[ens["cutoff"] == DAYS[12]].merge(
        a2[a2["cutoff"] == DAYS[12]], on=["unique_id", "ds"], suffixes=("", "_a")
    )
    expected = 0.5 * first["yhat_a"] + 0.5 * b2.loc[b2["cutoff"] == DAYS[12], "yhat"].to_numpy()
    np.testing.assert_allclose(first["yhat"], expected)


def test_ensemble_on_real_backtest_not_worse_than_worst() -> None:
    df = poisson_panel(n_series=4, n_days=90)
    cvs = {
        f"m{k}": cross_validation(
            MeanLastSeason(season_length=k), df, h=7, n_windows=4, min_train=15
        )
        for k in (7, 14)
    }
    ens = combine_cv(cvs, df, m=7)
    assert len(ens) == 3 * 4 * 7
    later = {k: v[v["cutoff"].isin(ens["cutoff"])] for k, v in cvs.items()}
    mae = {k: (v["yhat"] - v["y"]).abs().mean() for k, v in later.items()}
    assert (ens["yhat"] - ens["y"]).abs().mean() <= max(mae.values()) + 1e-9


def _cv_by_horizon(short: float, long: float, cutoffs: list[int], h: int = 6) -> pd.DataFrame:
    """Backtest with error ``short`` at horizons 1-2 and ``long`` at 3 .. h."""
    cv = _cv({"a": 0.0, "b": 0.0}, cutoffs, h=h)
    err = np.where(cv["horizon"] <= 2, short, long)
    return cv.assign(yhat=cv["y"] + err)


def test_weights_per_horizon_bucket() -> None:
    # A is good short (error 1 at h 1-2) and poor long (8); B the reverse
    cvs = {"A": _cv_by_horizon(1.0, 8.0, [10, 12]), "B": _cv_by_horizon(8.0, 1.0, [10, 12])}
    pooled = select_weights(cvs, _train(), m=1, top_k=2, max_ratio=np.inf, shrink=0)
    w = select_weights(cvs, _train(), m=1, top_k=2, max_ratio=np.inf, shrink=0, edges=(2, 8))
    assert list(w.columns) == ["unique_id", "model", "weight", "h_min", "h_max"]
    # buckets 1-2 and 3-6: the last ends at the largest horizon scored (6), short of 8
    wa = w[w["unique_id"] == "a"].pivot(index="model", columns="h_max", values="weight")
    np.testing.assert_allclose(wa.loc["A"].to_numpy(), [8 / 9, 1 / 9])
    np.testing.assert_allclose(wa.loc["B"].to_numpy(), [1 / 9, 8 / 9])
    assert w.groupby(["unique_id", "h_max"])["weight"].sum().tolist() == pytest.approx([1] * 4)
    # one set of weights over every horizon blurs them: A (mean error 17/3) vs B (10/3)
    pa = pooled[pooled["unique_id"] == "a"].set_index("model")["weight"]
    assert pa["A"] == pytest.approx(10 / 27) and pa["B"] == pytest.approx(17 / 27)

    # combine takes each period's bucket by its horizon (rank of ds without a horizon column);
    # horizons beyond the last bucket use the nearest (last) one
    ds = pd.date_range("2025-01-01", periods=8)
    fa = pd.DataFrame({"unique_id": "a", "ds": ds, "yhat": 10.0})
    fb = fa.assign(yhat=100.0)
    out = combine({"A": fa, "B": fb}, w)
    short = 8 / 9 * 10 + 1 / 9 * 100
    long = 1 / 9 * 10 + 8 / 9 * 100
    np.testing.assert_allclose(out["yhat"], [short] * 2 + [long] * 6)
    # a series missing from a bucket's weights gets equal weights there, not a gap
    only_short = w[(w["unique_id"] == "b") | (w["h_max"] == 2)]
    out = combine({"A": fa, "B": fb}, only_short)
    np.testing.assert_allclose(out["yhat"], [short] * 2 + [55.0] * 6)


def test_combine_cv_weights_per_bucket_honestly() -> None:
    # windows 10, 12, 14 with h = 6: at cutoff 12 only horizons 1-2 of window 10 had
    # happened, so bucket 3-6 has no known error and takes the nearest bucket (1-2): A.
    cvs = {
        "A": _cv_by_horizon(1.0, 8.0, [10, 12, 14]),
        "B": _cv_by_horizon(8.0, 1.0, [10, 12, 14]),
    }
    ens = combine_cv(cvs, _train(), m=1, top_k=2, max_ratio=np.inf, edges=(2,))
    first = ens[ens["cutoff"] == DAYS[12]].sort_values(["unique_id", "horizon"])
    err = (first["yhat"] - first["y"]).to_numpy()[:6]
    # every horizon follows A's short-horizon record (weights 8/9 A, 1/9 B)
    np.testing.assert_allclose(err[:2], 8 / 9 * 1 + 1 / 9 * 8)
    np.testing.assert_allclose(err[2:], 8 / 9 * 8 + 1 / 9 * 1)
    # at cutoff 14, horizons 3-4 of window 10 are known: bucket 3-6 now follows B
    last = ens[ens["cutoff"] == DAYS[14]].sort_values(["unique_id", "horizon"])
    err = (last["yhat"] - last["y"]).to_numpy()[:6]
    np.testing.assert_allclose(err[2:], 1 / 9 * 8 + 8 / 9 * 1)


def _weights_from_evaluate(cvs, train, m, top_k, max_ratio, shrink) -> pd.DataFrame:
    """select_weights spelt out: each model scored by evaluate, shrunk, ranked, inverted."""
    scored = []
    for name, cv in cvs.items():
        ev = evaluate(cv, train, m)
        own = ev.by_series[["unique_id", "n", "mase"]].assign(model=name)
        pooled = float(ev.overall["mase"].iloc[0])
        own["mase"] = (own["n"] * own["mase"] + shrink * pooled) / (own["n"] + shrink)
        scored.append(own)
    s = pd.concat(scored).dropna(subset=["mase"]).sort_values(["unique_id", "mase", "model"])
    s = s.groupby("unique_id").head(top_k)
    s = s[s["mase"] <= max_ratio * s.groupby("unique_id")["mase"].transform("min") + 1e-12]
    s["weight"] = s.groupby("unique_id")["mase"].transform(lambda x: 1 / x / (1 / x).sum())
    return s[["unique_id", "model", "weight"]].reset_index(drop=True)


def test_select_weights_score_each_series_as_evaluate_does() -> None:
    # Three models on three series (one without history, so without a score) and three
    # windows; scores shrunk towards each model's pooled MASE, within 1.5x of the best.
    rng = np.random.default_rng(2)
    train = pd.concat([_train(), _train().assign(unique_id="c", y=lambda d: d["y"] ** 1.5)])
    train = train[train["unique_id"] != "b"]
    cvs = {
        k: _cv({u: float(rng.uniform(0.5, 3)) for u in "abc"}, [10, 12, 14], h=4).assign(
            yhat=lambda d: d["yhat"] + rng.normal(0, 0.5, len(d))
        )
        for k in ("ets", "snaive", "gbm")
    }
    got = select_weights(cvs, train, m=1, top_k=2, max_ratio=1.5, shrink=30.0)
    want = _weights_from_evaluate(cvs, train, 1, 2, 1.5, 30.0)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    assert set(got["unique_id"]) == {"a", "c"}  # b has no history to scale it by

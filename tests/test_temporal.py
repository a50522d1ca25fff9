"""Long-range projections agree with the daily forecast where they overlap; the reconciliation
method is chosen by backtest; short annual series pool what all areas show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE

import mashdemand as md
from mashdemand.forecast import ensemble, reconcile
from mashdemand.forecast.counts import read_counts
from mashdemand.forecast.models.rate import PooledRate
from mashdemand.forecast.temporal import align_to_daily, period_days


@pytest.fixture(scope="module")
def sample_daily() -> pd.DataFrame:
    counts, _ = read_counts(SAMPLE / "daily_counts.csv")
    hubs = ["bracknell-forest", "oxfordshire", "slough"]
    counts = counts[counts["hub"].isin(hubs) & (counts["date"] >= "2022-01-01")]
    return counts.groupby(["hub", "date"], as_index=False)["contacts"].sum()


def test_period_days() -> None:
    starts = pd.Series(pd.to_datetime(["2024-02-01", "2023-04-01", "2024-04-01"]))
    assert period_days(starts[:1], "month").tolist() == [29]
    assert period_days(starts[1:], "fy").tolist() == [366, 365]  # FY 2023-24 has 29/02/2024


def test_partly_observed_year_is_observed_plus_forecast() -> None:
    days = pd.date_range("2024-04-01", "2025-03-31")
    hist = pd.DataFrame({"unique_id": "a", "ds": days[:183], "y": 10.0})  # to 30/09/2024
    daily = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": days[183:],
            "yhat": 12.0,
            "lo80": 9.0,
            "hi80": 15.0,
            "lo95": 7.0,
            "hi95": 17.0,
        }
    )
    coarse = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.to_datetime(["2024-04-01", "2025-04-01", "2026-04-01"]),
            "yhat": 4000.0,
            "lo80": 3600.0,
            "hi80": 4400.0,
            "lo95": 3400.0,
            "hi95": 4600.0,
        }
    )
    out = align_to_daily(coarse, daily, hist, "fy")
    first = out.iloc[0]
    assert first["yhat"] == pytest.approx(183 * 10 + 182 * 12)  # 1,830 seen + 2,184 forecast
    assert bool(first["from_daily"]) and not out["from_daily"].iloc[1:].any()
    # Only the forecast half is uncertain: the 80% half-width is 400 x 2184 / 4000.
    assert first["hi80"] - first["yhat"] == pytest.approx(400 * 2184 / 4000)
    # The next year is scaled by the overlap ratio, fading over a year; the third is untouched.
    ratio = 4014 / 4000
    assert out["yhat"].iloc[1] == pytest.approx(4000 * (1 + (ratio - 1) * (1 - 365 / 365)))
    assert out["yhat"].iloc[2] == pytest.approx(4000.0)


def test_monthly_agrees_with_daily_and_is_coherent(sample_daily: pd.DataFrame) -> None:
    res = md.forecast(sample_daily, until="2027-12-31", freq="month", backtest=False)
    daily = res.near_term.frame
    assert daily["date"].min() == pd.Timestamp("2026-10-01")
    assert daily["date"].max() >= pd.Timestamp("2027-03-31")  # 182 days ahead
    sums = daily.assign(m=daily["date"].dt.to_period("M").dt.start_time)
    sums = sums[sums["m"] <= "2027-03-01"].groupby(["hub", "m"])["yhat"].sum()
    got = res.frame.set_index(["hub", "date"])["yhat"].reindex(sums.index)
    np.testing.assert_allclose(got.to_numpy(), sums.to_numpy(), rtol=1e-6, atol=0.01)
    f = res.frame
    total = f[f["hub"] == "ALL"].set_index("date")["yhat"]
    hubs = f[f["hub"] != "ALL"].groupby("date")["yhat"].sum()
    np.testing.assert_allclose(total.to_numpy(), hubs.reindex(total.index).to_numpy(), atol=0.01)
    assert (f["lo80"] <= f["yhat"]).all() and (f["yhat"] <= f["hi80"]).all()
    assert (f["lo95"] >= 0).all()
    # No step where the daily forecast ends: April 2027 within 15% of March 2027, per hub.
    wide = f.pivot(index="date", columns="hub", values="yhat")
    step = wide.loc["2027-04-01"] / wide.loc["2027-03-01"]
    assert step.between(0.85, 1.15).all(), step


def test_financial_year_includes_the_observed_months(sample_daily: pd.DataFrame) -> None:
    res = md.forecast(sample_daily, until="2029-03-31", freq="fy", backtest=False)
    f = res.frame
    fy26 = f[(f["hub"] == "oxfordshire") & (f["date"] == "2026-04-01")].iloc[0]
    seen = sample_daily[
        (sample_daily["hub"] == "oxfordshire") & (sample_daily["date"] >= "2026-04-01")
    ]["contacts"].sum()
    d = res.near_term.frame
    ahead = d[(d["hub"] == "oxfordshire") & (d["date"] <= "2027-03-31")]["yhat"].sum()
    assert fy26["yhat"] == pytest.approx(seen + ahead, abs=0.01)
    # Half the year is known, so its interval is narrower, relative to the year, than the next.
    fy27 = f[(f["hub"] == "oxfordshire") & (f["date"] == "2027-04-01")].iloc[0]
    rel = lambda r: (r["hi80"] - r["lo80"]) / r["yhat"]  # noqa: E731
    assert rel(fy26) < rel(fy27)


def test_reconciliation_chosen_by_backtest(sample_daily: pd.DataFrame) -> None:
    res = md.forecast(sample_daily, until="2026-12-31", models=["snaive", "ets"])
    assert res.reconciliation in reconcile.METHODS
    scores = res.reconciliation_scores
    assert set(scores) == set(reconcile.METHODS)
    assert scores[res.reconciliation] <= min(scores.values()) * 1.005
    assert res.to_dict()["reconciliation_backtest_mase"] == scores
    fixed = md.forecast(sample_daily, until="2026-12-31", models=["snaive"], backtest=False)
    assert fixed.reconciliation == "bottom_up" and fixed.reconciliation_scores is None


def _areas(n_areas: int = 80, years: int = 11, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_areas):
        pop0 = rng.uniform(20_000, 200_000)
        rate = rng.uniform(20, 60)  # per 1,000
        for t in range(years):
            pop = pop0 * 1.01**t
            mu = rate * pop / 1000 * np.exp(rng.normal(0, 0.08))
            rows.append((f"la{a:03d}", pd.Timestamp(f"{2012 + t}-04-01"), rng.poisson(mu), pop))
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y", "population"]).astype({"y": float})


def test_rate_model_pools_short_annual_series() -> None:
    df = _areas()
    train, test = df[df["ds"] < "2020-04-01"], df[df["ds"] >= "2020-04-01"]  # 8 points each
    model = PooledRate(freq="fy").fit(train)
    assert 0.2 <= model.alpha_ <= 0.65  # noisy rates: smoothing beats the last value
    f = model.predict(3, X=test.drop(columns="y"), level=(80, 95))
    got = f.merge(test, on=["unique_id", "ds"])
    assert len(got) == 240
    inside = ((got["y"] >= got["lo80"]) & (got["y"] <= got["hi80"])).mean()
    assert 0.7 <= inside <= 0.92, inside  # learned from all areas: about 80%
    # Population carries the trend: the forecast grows 1% a year with it.
    one = f[f["unique_id"] == "la000"]["yhat"].to_numpy()
    np.testing.assert_allclose(one[1:] / one[:-1], 1.01, rtol=1e-9)


def test_short_series_weights_lean_on_pooled_scores() -> None:
    ds = pd.date_range("2024-01-01", periods=2)
    base = pd.DataFrame(
        {
            "unique_id": ["s1", "s1", "s2", "s2"],
            "ds": list(ds) * 2,
            "y": 10.0,
            "cutoff": pd.Timestamp("2023-12-31"),
            "horizon": [1, 2] * 2,
        }
    )
    # Model a: perfect on s1, 5 off on s2; model b: 1 off on s1 and on s2.
    a = base.assign(yhat=[10.0, 10.0, 15.0, 15.0])
    b = base.assign(yhat=[11.0, 11.0, 11.0, 11.0])
    train = pd.DataFrame(
        {
            "unique_id": ["s1"] * 3 + ["s2"] * 3,
            "y": [9.0, 10.0, 11.0] * 2,
            "ds": list(pd.date_range("2023-12-29", periods=3)) * 2,
        }
    )
    own = ensemble.select_weights({"a": a, "b": b}, train, 1, top_k=1, shrink=0)
    pooled = ensemble.select_weights({"a": a, "b": b}, train, 1, top_k=1, shrink=30)
    assert own.set_index("unique_id").loc["s1", "model"] == "a"  # its own two points
    assert pooled.set_index("unique_id").loc["s1", "model"] == "b"  # b is better overall

"""Scoring helpers of the forecast benchmark suite (benchmarks/_suite.py, benchmarks/_peers.py).

Small synthetic frames with known answers: cutoffs per span, horizon buckets, monthly totals
and their MASE, missing days never scored, peers' cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import _peers  # noqa: E402
import _suite as S  # noqa: E402

DAY = pd.Timedelta(days=1)


def _points(horizons, y, yhat, lo80, hi80, lo95, hi95, model="m"):
    cut = pd.Timestamp("2024-01-31")
    h = np.asarray(horizons)
    return pd.DataFrame(
        {
            "model": model,
            "unique_id": "a",
            "cutoff": cut,
            "ds": cut + pd.to_timedelta(h, unit="D"),
            "horizon": h,
            "y": y,
            "yhat": yhat,
            "lo80": lo80,
            "hi80": hi80,
            "lo95": lo95,
            "hi95": hi95,
        }
    )


# --- cutoffs --------------------------------------------------------------------------------
def test_cutoffs_wales_span_give_three_two_year_windows():
    first, last = pd.Timestamp("2015-10-01"), pd.Timestamp("2019-07-31")
    cuts = S.choose_cutoffs(first, last)
    assert [c.strftime("%Y-%m-%d") for c in cuts] == ["2017-01-31", "2017-04-30", "2017-07-31"]
    assert all(S.reach(c, last) == 730 for c in cuts)
    assert all(S.months_reached(c, 730) == 24 for c in cuts)


def test_cutoffs_short_span_fill_what_the_span_allows():
    # Bristol: 2.5 years. No cutoff leaves 730 days after a year of history; 365 days get
    # the two windows the span allows, 91 days get three.
    first, last = pd.Timestamp("2023-03-16"), pd.Timestamp("2025-09-29")
    cuts = S.choose_cutoffs(first, last)
    reaches = [S.reach(c, last) for c in cuts]
    assert max(reaches) < 730
    assert sum(r >= 365 for r in reaches) == 2
    assert sum(r >= 91 for r in reaches) == 3
    assert all((c - first).days + 1 >= 365 for c in cuts)
    assert all(c == S.month_end_on_or_before(c) for c in cuts)


def test_reach_covers_24_months_across_a_leap_day_and_never_passes_the_data():
    # pedestrians: the two years after June 2019 hold 29 February 2020 (731 days)
    cut, last = pd.Timestamp("2019-06-30"), pd.Timestamp("2021-06-30")
    assert S.reach(cut, last) == 731
    assert S.months_reached(cut, S.reach(cut, last)) == 24
    assert S.reach(pd.Timestamp("2017-07-31"), pd.Timestamp("2030-01-01")) == 730
    assert S.reach(cut, pd.Timestamp("2020-06-30")) == 366  # the data end first


def test_quick_cutoffs_one_window_per_horizon():
    cuts = S.choose_cutoffs(pd.Timestamp("2015-10-01"), pd.Timestamp("2019-07-31"), windows=1)
    assert cuts == [pd.Timestamp("2017-07-31")]


# --- actuals and peers' history ---------------------------------------------------------------
def test_actual_total_only_on_complete_days_and_gaps_not_zero():
    days = pd.date_range("2024-01-01", periods=4)
    c = pd.DataFrame(
        {
            "hub": ["a"] * 4 + ["b"] * 3,
            "date": [*days, days[0], days[1], days[3]],  # b lacks 3 January
            "contacts": [1, 2, 3, 4, 10, 20, 40],
        }
    )
    act = S.actual_panel(c)
    tot = act[act["unique_id"] == "ALL"].set_index("ds")["y"]
    assert tot.to_dict() == {days[0]: 11.0, days[1]: 22.0, days[3]: 44.0}
    assert len(act[act["unique_id"] == "b"]) == 3  # the gap stays a gap, not a zero

    hist = S.interpolated_history(act, days[3])
    b = hist[hist["unique_id"] == "b"].set_index("ds")["y"]
    assert b[days[2]] == pytest.approx(30.0)  # halfway between 20 and 40
    tot = hist[hist["unique_id"] == "ALL"].set_index("ds")["y"]
    assert tot[days[2]] == pytest.approx(33.0)  # rebuilt from the filled series


def test_missing_actual_days_are_not_scored():
    cut = pd.Timestamp("2024-01-31")
    fc = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range(cut + DAY, periods=5), "yhat": 10.0}
    ).assign(lo80=9.0, hi80=11.0, lo95=8.0, hi95=12.0)
    hist = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2024-01-01", cut), "y": np.arange(31.0)}
    )
    future = pd.DataFrame({"unique_id": "a", "ds": pd.date_range(cut + DAY, periods=5), "y": 12.0})
    future.loc[2, "y"] = np.nan  # day 3 missing from the file
    pts = S.scored_points(fc, pd.concat([hist, future]), cut, "m")
    assert pts["horizon"].tolist() == [1, 2, 4, 5]
    # scale: lag-7 differences of 0..30 are all 7; error 2 on every scored day
    assert float(S.daily_mase(pts, pd.concat([hist, future]), m=7)["m"]) == pytest.approx(2 / 7)


def test_reaching_keeps_days_1_to_h_of_long_enough_forecasts():
    a = _points(range(1, 400), 1.0, 1.0, 0, 2, 0, 2)
    b = _points(range(1, 100), 1.0, 1.0, 0, 2, 0, 2).assign(cutoff=pd.Timestamp("2024-06-30"))
    both = pd.concat([a, b])
    reaches = {pd.Timestamp("2024-01-31"): 399, pd.Timestamp("2024-06-30"): 99}
    assert len(S.reaching(both, 91, reaches)) == 182
    assert len(S.reaching(both, 365, reaches)) == 365


# --- buckets ----------------------------------------------------------------------------------
def test_bucket_coverage_boundaries_and_width():
    h = [91, 92, 365, 366, 730]
    y = [10.0, 20.0, 10.0, 12.5, 7.0]
    pts = _points(h, y, 10.0, 9.0, 11.0, 7.5, 12.5)
    cov = S.bucket_coverage(pts).set_index("bucket")
    assert cov["n"].to_dict() == {"1-91": 1, "92-365": 2, "366-730": 2}
    assert cov.loc["92-365", "cov80"] == 0.5 and cov.loc["92-365", "cov95"] == 0.5
    assert cov.loc["366-730", "cov80"] == 0.0 and cov.loc["366-730", "cov95"] == 0.5
    assert cov["width80"].tolist() == pytest.approx([0.2, 0.2, 0.2])


def test_bucket_coverage_on_a_known_distribution():
    rng = np.random.default_rng(7)
    h = np.tile(np.arange(1, 731), 20)
    sd = np.where(h <= 91, 5.0, np.where(h <= 365, 10.0, 20.0))  # error grows by bucket
    y = 100 + rng.normal(0, sd)
    # true quantiles in the near buckets, the near-term width carried to the far one
    far = h > 365
    sd_int = np.where(far, 10.0, sd)
    pts = _points(
        h, y, 100.0, 100 - 1.2816 * sd_int, 100 + 1.2816 * sd_int, 100 - 1.96 * sd_int,
        100 + 1.96 * sd_int,
    )  # fmt: skip
    cov = S.bucket_coverage(pts).set_index("bucket")
    assert cov.loc["1-91", "cov80"] == pytest.approx(0.80, abs=0.02)
    assert cov.loc["92-365", "cov95"] == pytest.approx(0.95, abs=0.01)
    # half the true spread: P(|z| < 0.64) = 0.478
    assert cov.loc["366-730", "cov80"] == pytest.approx(0.478, abs=0.02)
    assert cov.loc["92-365", "width80"] == pytest.approx(2 * 1.2816 * 10 / 100)


# --- monthly totals -----------------------------------------------------------------------------
def test_monthly_totals_keep_complete_months_only():
    d = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-15", "2024-04-30")})
    d["y"] = 1.0
    d.loc[d["ds"] == "2024-03-10", "y"] = np.nan  # a missing day spoils March
    t = S.monthly_totals(d, ["y"])
    assert t["ds"].dt.month.tolist() == [2, 4]
    assert t["y"].tolist() == [29.0, 30.0]


def test_monthly_mase_by_hand():
    # History: one contact a day in 2020-2021; monthly seasonal-naive errors are 0 except
    # February (29 vs 28 days): scale = 1/12. Forecast 1.1 a day for 2022-2023 (730 days).
    hist = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-01", "2023-12-31"), "y": 1.0}
    )
    cut = pd.Timestamp("2021-12-31")
    fc = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range(cut + DAY, periods=730), "yhat": 1.1}
    ).assign(lo80=0.0, hi80=2.0, lo95=0.0, hi95=2.0)
    pts = S.scored_points(fc, hist, cut, "m")
    mp = S.monthly_points(pts)
    assert mp["horizon"].tolist() == list(range(1, 25))
    # mean monthly error 0.1 * 730 / 24 over the scale 1/12
    assert float(S.monthly_mase(pts, hist)["m"]) == pytest.approx(0.1 * 730 / 24 * 12)
    # a forecast short of 24 months is not scored
    short = pts[pts["horizon"] <= 700]
    assert S.monthly_mase(short, hist).empty


def test_months_reached_counts_complete_months():
    assert S.months_reached(pd.Timestamp("2017-07-31"), 730) == 24
    assert S.months_reached(pd.Timestamp("2019-01-31"), 181) == 6
    assert S.months_reached(pd.Timestamp("2019-01-31"), 180) == 5


def test_ratio_to_best_picks_lowest_peer():
    mase = pd.Series({"mashdemand": 0.8, "AutoETS": 1.0, "MSTL": 0.9, "Prophet": np.nan})
    assert S.ratio_to_best(mase, "mashdemand", ["AutoETS", "MSTL", "Prophet"]) == (
        "MSTL",
        0.9,
        pytest.approx(0.8 / 0.9),
    )


# --- the peers' cache ---------------------------------------------------------------------------
def test_peer_cache_refits_only_when_the_history_changes(tmp_path, monkeypatch):
    calls = []

    def fake(history, method, h, freq, country):
        calls.append(method)
        last = history["ds"].max()
        return pd.DataFrame(
            {"unique_id": "a", "ds": pd.date_range(last + DAY, periods=h), "yhat": 1.0}
        ).assign(lo80=0.0, hi80=2.0, lo95=0.0, hi95=3.0)

    monkeypatch.setattr(_peers, "peer_forecast", fake)
    hist = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=30)})
    hist["y"] = np.arange(30.0)

    def run(h):
        key = _peers.history_key(h, "AutoETS", 7, "day", "UK")
        path = _peers.cache_path(tmp_path, "x_20240130", "AutoETS", key)
        return _peers.cached_forecast(h, "AutoETS", 7, "day", "UK", path)

    first = run(hist)
    again = run(hist)
    pd.testing.assert_frame_equal(first, again)
    assert calls == ["AutoETS"]
    changed = hist.assign(y=hist["y"] + 1)
    run(changed)
    assert calls == ["AutoETS", "AutoETS"]

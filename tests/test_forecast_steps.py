"""The forecast as a pipeline of named steps; scenarios without refits; forecasts as of an origin.

Reference: every step-composed or re-scenarioed frame must equal, exactly, the frame of a whole
:func:`~mashdemand.forecast.api.forecast` run with the same arguments.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mashdemand.drivers import read_housing, read_population
from mashdemand.forecast import api
from mashdemand.forecast.api import (
    ForecastError,
    RefitNeeded,
    Scenario,
    forecast,
    forecast_as_of,
    refit_needed,
)
from mashdemand.report.fms.build import DEFAULT_SCENARIOS
from mashdemand.report.quarterly import CHECKOUT_SAMPLE

HUBS = ["slough", "wokingham"]


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.fixture(scope="module")
def sample() -> dict[str, pd.DataFrame]:
    daily = pd.read_csv(CHECKOUT_SAMPLE / "daily_counts.csv", parse_dates=["date"])
    return {
        "daily": daily,
        "population": read_population(CHECKOUT_SAMPLE / "population.csv"),
        "housing": read_housing(CHECKOUT_SAMPLE / "housing.csv"),
    }


@pytest.fixture(scope="module")
def small(sample) -> pd.DataFrame:
    """Two hubs by source, from 2024 (daily)."""
    d = sample["daily"]
    return d[d["hub"].isin(HUBS) & (d["date"] >= "2024-01-01")].reset_index(drop=True)


@pytest.fixture(scope="module")
def monthly_kw(sample) -> dict:
    """A monthly projection with its daily near-term forecast, drivers and a backtest."""
    return {
        "until": "2027-12-31",
        "freq": "month",
        "population": sample["population"],
        "housing": sample["housing"],
        "models": ["snaive", "drift"],
        "n_jobs": 1,
    }


@pytest.fixture(scope="module")
def monthly(small, monthly_kw) -> api.ForecastResult:
    return forecast(small, **monthly_kw)


def test_forecast_is_its_steps(small, sample):
    kw = {"until": "2026-11-15", "by": ["source"], "models": ["snaive", "drift"], "n_jobs": 1}
    whole = forecast(small, backtest=False, population=sample["population"], **kw)
    prep = api.prepare(small, population=sample["population"], **kw)
    candidates = api.candidate_models(prep)
    ens = api.equal_weights(prep, candidates)
    base = api.fit_ensemble(prep, candidates, ens)
    assert_same(api.finish(prep, ens, base, prep.scenario), whole.frame)
    assert prep.h == 46 and set(candidates) == {"snaive", "drift"}
    assert (ens.weights["weight"] == 0.5).all() and ens.reconciliation == "bottom_up"


@pytest.mark.parametrize("text", DEFAULT_SCENARIOS)
def test_with_scenario_equals_a_refit(small, monthly, monthly_kw, text):
    again = monthly.with_scenario(text)
    fresh = forecast(small, scenario=text, **monthly_kw)
    assert_same(again.frame, fresh.frame)
    assert_same(again.near_term.frame, fresh.near_term.frame)
    assert again.scenario == fresh.scenario == Scenario.parse(text)
    assert_same(again.weights, fresh.weights)


def test_with_scenario_moves_the_forecast(monthly):
    """The scenarios differ where they should (a variant from 2024, risk from the start)."""
    tot = {
        t: monthly.with_scenario(t).frame.query("hub == 'ALL'")["yhat"].sum()
        for t in DEFAULT_SCENARIOS
    }
    low, principal, high, risk = (
        tot[k] for k in ("low", "principal", "high", DEFAULT_SCENARIOS[3])
    )
    assert low < principal < high
    assert principal < risk < principal * 1.05 + 1e-9
    # Going back to the principal gives the original numbers.
    assert_same(monthly.with_scenario("low").with_scenario("principal").frame, monthly.frame)


def test_housing_delivery_needs_a_refit(small, sample, monthly):
    slow = Scenario.parse("slow:housing_delivery=0.8")
    assert refit_needed(monthly.scenario, slow, sample["housing"])
    assert not refit_needed(monthly.scenario, slow, None)
    assert not refit_needed(monthly.scenario, Scenario.parse("high"), sample["housing"])
    with pytest.raises(RefitNeeded, match="housing delivery"):
        monthly.with_scenario(slow)
    # Whole-number dwellings scale to fractions (this once crashed).
    res = forecast(
        small,
        until="2026-10-31",
        housing=sample["housing"],
        scenario=slow,
        models=["snaive"],
        backtest=False,
        n_jobs=1,
    )
    assert res.scenario.housing_delivery == 0.8 and res.frame["yhat"].notna().all()


def test_reloaded_result_cannot_change_scenario(monthly):
    back = api.ForecastResult.from_dict(monthly.to_dict())
    assert_same(back.frame, monthly.frame)
    with pytest.raises(RefitNeeded, match="no fitted models"):
        back.with_scenario("high")
    assert isinstance(RefitNeeded("x"), ForecastError)


def test_as_of_ignores_data_after_origin(small):
    """Counts after the origin (here tripled) change nothing of the forecast as of it."""
    origin, until = pd.Timestamp("2026-06-30"), pd.Timestamp("2026-09-30")
    kw = {"until": "2026-12-31", "models": ["snaive", "drift"], "n_jobs": 1}
    changed = small.copy()
    after = changed["date"] > origin
    changed.loc[after, "contacts"] = changed.loc[after, "contacts"] * 3
    a = forecast(small, **kw).as_of(origin, until)
    b = forecast(changed, **kw).as_of(origin, until)
    assert_same(a.frame, b.frame)
    assert_same(a.weights, b.weights)
    assert a.data_window == ("2024-01-01", "2026-06-30")
    assert a.frame["date"].min() == pd.Timestamp("2026-07-01")
    assert a.frame["date"].max() == until
    # Its backtest only holds errors known at the origin.
    assert a.cv["ds"].max() <= origin


def test_as_of_without_a_backtest_is_a_forecast_of_the_cut_history(small):
    kw = {"models": ["snaive", "drift"], "backtest": False, "n_jobs": 1}
    origin, until = "2026-03-31", "2026-05-31"
    fitted = forecast(small, until="2026-12-31", **kw)
    via_fit = forecast_as_of(small, origin, until, fitted=fitted)
    plain = forecast_as_of(small, origin, until, **kw)
    assert_same(via_fit.frame, plain.frame)
    assert plain.data_window[1] == "2026-03-31"


@pytest.mark.slow
def test_fms_scenarios_fit_once_and_match_refits(sample):
    """The FMS projections: one fit, the others re-scenarioed, the numbers of four fits."""
    from mashdemand.report.fms.build import scenario_projections

    daily, pop, hou = sample["daily"], sample["population"], sample["housing"]
    until = pd.Timestamp("2031-03-31")
    got = scenario_projections(daily, until, pop, hou, DEFAULT_SCENARIOS, 1, None)
    for text in DEFAULT_SCENARIOS[1:]:
        sc = Scenario.parse(text)
        fresh = forecast(
            daily, until=until, freq="fy", population=pop, housing=hou, scenario=sc, n_jobs=1
        )
        assert_same(got[sc.name].frame, fresh.frame)
        assert_same(got[sc.name].near_term.frame, fresh.near_term.frame)


def test_cross_validation_show_progress_is_deprecated():
    from forecast_helpers import MeanLastSeason, poisson_panel

    from mashdemand.forecast.backtest import cross_validation

    df = poisson_panel(n_series=2, n_days=40)
    new = cross_validation(MeanLastSeason(), df, h=3, n_windows=2, progress=True)
    with pytest.warns(DeprecationWarning, match="use progress="):
        old = cross_validation(MeanLastSeason(), df, h=3, n_windows=2, show_progress=True)
    assert_same(old, new)
    assert new["cutoff"].nunique() == 2


def test_forecast_show_progress_is_deprecated_for_progress(small):
    """One name across the package: ``progress``; the old one warns and does the same."""
    kw = {"until": "2026-10-15", "models": ["snaive"], "n_jobs": 1, "backtest": False}
    new = forecast(small, progress=True, **kw)
    with pytest.warns(DeprecationWarning, match=r"forecast\(show_progress=...\) is deprecated"):
        old = forecast(small, show_progress=True, **kw)
    assert_same(old.frame, new.frame)

"""The calendar and exposure step (:mod:`mashdemand.forecast.adjust`) on series with known truth.

Each synthetic series is built from the effects the step should find (a yearly cycle, a
summer dip, fixed-date and Easter-relative days, a bank-holiday flag, population growth), so
the tests check the numbers it learns and what they do to a forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dateutil.easter import easter

from mashdemand.forecast.adjust import (
    ADJUSTED_BY_FREQ,
    Adjusted,
    CalendarProfile,
    adjust_candidates,
    calendar_factor,
    exposure_index,
    fit_calendar,
)
from mashdemand.forecast.base import DS, UID, Y, clone
from mashdemand.forecast.features import IS_BANK_HOLIDAY, POP_ALL
from mashdemand.forecast.models import make_model

EASTER_MONDAYS = {pd.Timestamp(easter(y)) + pd.Timedelta(days=1) for y in range(2015, 2030)}


def shaped_series(
    start: str = "2020-01-01", end: str = "2023-12-31", mean: float = 200.0, seed: int = 1
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Days, Poisson counts, their expectation and a bank-holiday flag with known effects.

    Yearly: ``exp(0.15 cos)`` of the day of year, and August x 0.7 (a holiday dip). Special
    days: 25 December x 0.3, Easter Monday x 0.6, and every first Monday of May or of
    September (the flag) x 0.8. Weekends x 0.6.
    """
    ds = pd.date_range(start, end, freq="D")
    doy = ds.day_of_year.to_numpy() - 1
    lam = mean * np.exp(0.15 * np.cos(2 * np.pi * doy / 365.25))
    lam = lam * np.where(ds.month == 8, 0.7, 1.0) * np.where(ds.day_of_week >= 5, 0.6, 1.0)
    lam = np.where((ds.month == 12) & (ds.day == 25), 0.3 * lam, lam)
    lam = np.where(ds.isin(list(EASTER_MONDAYS)), 0.6 * lam, lam)
    flag = ((ds.month.isin([5, 9])) & (ds.day_of_week == 0) & (ds.day <= 7)).astype(float)
    lam = np.where(flag > 0, 0.8 * lam, lam)
    y = np.random.default_rng(seed).poisson(lam).astype(float)
    return ds, y, lam, np.asarray(flag)


def frame(ds: pd.DatetimeIndex, y: np.ndarray, **cols: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({UID: "a", DS: ds, Y: y, **cols})


# --- exposure -----------------------------------------------------------------------------
def test_exposure_index_is_relative_to_the_last_value() -> None:
    np.testing.assert_allclose(exposure_index(np.array([97.0, 100.0])), [0.97, 1.0])
    np.testing.assert_allclose(exposure_index(np.array([np.nan, 103.0]), last=100.0), [1.03, 1.03])
    assert exposure_index(None) is None
    assert exposure_index(np.array([np.nan, np.nan])) is None
    assert exposure_index(np.array([0.0, 10.0])) is None


# --- the calendar profile -----------------------------------------------------------------
def test_fit_calendar_recovers_the_special_days() -> None:
    ds, y, _, flag = shaped_series()
    p = fit_calendar(ds, y, bank=flag)
    assert np.exp(p.fixed[1225]) == pytest.approx(0.3, abs=0.05)
    assert np.exp(p.easter[1]) == pytest.approx(0.6, abs=0.08)
    assert np.exp(p.bank_holiday) == pytest.approx(0.8, abs=0.06)
    # Other days learned are only the edges of the August step, which the harmonics smooth.
    assert all(725 <= d <= 910 for d in set(p.fixed) - {1225}) and set(p.easter) == {1}


def test_fit_calendar_recovers_the_yearly_shape() -> None:
    """The profile's August / June ratio is the true one (0.7 x the cosine's ratio)."""
    ds, y, lam, flag = shaped_series()
    p = fit_calendar(ds, y, bank=flag)
    year = pd.date_range("2025-01-01", "2025-12-31")
    f = pd.Series(calendar_factor(year, CalendarProfile(fourier=p.fourier)), index=year)
    truth = pd.Series(lam[: len(year)], index=ds[: len(year)]).groupby(ds[: len(year)].month)
    true_ratio = truth.mean()[8] / truth.mean()[6]
    fit_ratio = f[f.index.month == 8].mean() / f[f.index.month == 6].mean()
    assert fit_ratio == pytest.approx(true_ratio, abs=0.04)
    assert true_ratio < 0.75  # the dip is deep: a single yearly harmonic cannot carry it


def test_fit_calendar_learns_nothing_from_noise_or_less_than_a_year() -> None:
    ds = pd.date_range("2020-01-01", "2023-12-31")
    y = np.random.default_rng(5).poisson(150, len(ds)).astype(float)
    p = fit_calendar(ds, y, bank=np.zeros(len(ds)))
    assert p.fixed == {} and p.easter == {} and p.bank_holiday == 0.0
    assert np.abs(calendar_factor(ds, p) - 1).max() < 0.05  # 20 harmonics fit a little noise
    assert np.abs(calendar_factor(ds, p) - 1).mean() < 0.015
    short = fit_calendar(ds[:300], y[:300])
    assert len(short.fourier) == 0 and short.fixed == {}


# --- the wrapper --------------------------------------------------------------------------
def test_adjusted_snaive_gets_the_summer_dip_and_scales_intervals() -> None:
    ds, y, lam, flag = shaped_series(end="2023-06-30")
    train = frame(ds, y, **{IS_BANK_HOLIDAY: flag})
    future = pd.date_range("2023-07-01", periods=92)
    X = pd.DataFrame({UID: "a", DS: future, IS_BANK_HOLIDAY: 0.0})
    plain = make_model("snaive").fit(train).predict(92, X=X)
    model = Adjusted(make_model("snaive"))
    fc = model.fit(train).predict(92, X=X)
    aug = (fc[DS].dt.month == 8).to_numpy()
    jul = (fc[DS].dt.month == 7).to_numpy()
    ratio = fc["yhat"][aug].mean() / fc["yhat"][jul].mean()
    true = pd.Series(lam, index=ds)
    true_ratio = true[true.index.month == 8].mean() / true[true.index.month == 7].mean()
    assert ratio == pytest.approx(true_ratio, abs=0.05)
    assert plain["yhat"][aug].mean() / plain["yhat"][jul].mean() == pytest.approx(1.0, abs=0.03)
    # Bounds are the inner model's, multiplied by the same factor as the point forecast.
    inner = model.model_.predict(92, X=X)
    factor = fc["yhat"].to_numpy() / inner["yhat"].to_numpy()
    assert factor.min() < 0.75 and factor.max() > 1.0
    np.testing.assert_allclose(fc["hi80"] / inner["hi80"], factor, rtol=1e-6)
    np.testing.assert_allclose(fc["hi95"] / inner["hi95"], factor, rtol=1e-6)
    assert model.name == "AdjustedSeasonalNaive"


def test_adjusted_carries_population_growth_and_clones() -> None:
    ds = pd.date_range("2021-01-01", "2023-12-31")
    pop = 1e5 * 1.03 ** ((ds - ds[0]).days.to_numpy() / 365.25)
    y = np.random.default_rng(2).poisson(1e-3 * pop).astype(float)
    train = frame(ds, y, **{POP_ALL: pop})
    future = pd.date_range("2024-01-01", periods=730)
    fpop = 1e5 * 1.03 ** ((future - ds[0]).days.to_numpy() / 365.25)
    X = pd.DataFrame({UID: "a", DS: future, POP_ALL: fpop})
    model = Adjusted(make_model("snaive"), calendar=False)
    fc = model.fit(train).predict(730, X=X)
    growth = fc["yhat"][365:].sum() / fc["yhat"][:365].sum()
    assert growth == pytest.approx(1.03, abs=0.002)
    # Without a future population the forecast holds the last level (no extrapolation).
    flat = model.predict(730)
    assert flat["yhat"][365:].sum() / flat["yhat"][:365].sum() == pytest.approx(1.0, abs=0.002)
    fresh = clone(model)
    assert fresh.get_params() == model.get_params()
    with pytest.raises(RuntimeError, match="not fitted"):
        fresh.predict(2)


def test_adjust_candidates_wraps_the_named_members_only() -> None:
    names = ("snaive", "ets", "gbm")
    out = adjust_candidates({n: make_model(n) for n in names}, "day")
    assert list(out) == ["snaive", "ets", "gbm", "snaive_adj"]
    assert out["snaive"].name == "SeasonalNaive"  # the baseline reports compare against
    assert out["ets"].name == "AdjustedETS" and out["ets"].exposure == POP_ALL
    assert out["snaive_adj"].name == "AdjustedSeasonalNaive"
    assert out["gbm"].name == "PooledGBM"
    assert "gbm" not in ADJUSTED_BY_FREQ["day"]
    gbm = adjust_candidates({"gbm": make_model("gbm")}, "day", adjusted={"day": ("gbm",)})
    assert gbm["gbm"].exposure is None  # the GBM scales by population itself: never twice
    month = {n: make_model(n, "month") for n in names}
    assert adjust_candidates(month, "month") == month


# --- through forecast(): the growth test ------------------------------------------
def growing_force(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two hubs whose contacts are a fixed rate per resident x population (+3% a year).

    Daily counts 2020-2023 with a weekly shape (weekends x 0.6) and Poisson noise; the
    population table runs mid-2019 to mid-2027 (estimates, then the principal projection).
    """
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-01", "2023-12-31")
    years = np.arange(2019, 2028)
    pop_rows, rows = [], []
    for hub, pop0 in (("north", 150_000.0), ("south", 250_000.0)):
        pop_year = pop0 * 1.03 ** (years - 2019)
        kind = np.where(years <= 2023, "estimate", "projection")
        pop_rows.append(
            pd.DataFrame(
                {
                    "hub": hub,
                    "year": years,
                    "age_band": "all",
                    "population": pop_year,
                    "kind": kind,
                    "variant": np.where(kind == "projection", "principal", ""),
                }
            )
        )
        t = (ds - pd.Timestamp("2019-07-01")).days.to_numpy() / 365.25
        lam = 4e-4 * pop0 * 1.03**t * np.where(ds.day_of_week >= 5, 0.6, 1.0)
        rows.append(pd.DataFrame({"hub": hub, "date": ds, "contacts": rng.poisson(lam)}))
    return pd.concat(rows, ignore_index=True), pd.concat(pop_rows, ignore_index=True)


def test_forecast_carries_population_growth_two_years_ahead(fast_models: None) -> None:
    """Year 2 exceeds year 1 by the population growth (3%), to within 1 percentage point.

    Before the step the members seen here (seasonal naive, ETS) held the last level: year 2
    equalled year 1 (growth ~0%).
    """
    hist, pop = growing_force()
    res = md_forecast(hist, until="2025-12-31", population=pop)
    total = res.frame[res.frame["hub"] == "ALL"].set_index("date")["yhat"]
    y1, y2 = total.loc["2024"].sum(), total.loc["2025"].sum()
    assert y2 / y1 - 1 == pytest.approx(0.03, abs=0.01)
    for hub in ("north", "south"):
        f = res.frame[res.frame["hub"] == hub].set_index("date")["yhat"]
        assert f.loc["2025"].sum() / f.loc["2024"].sum() - 1 == pytest.approx(0.03, abs=0.01)


def md_forecast(hist: pd.DataFrame, until: str, population: pd.DataFrame):
    from mashdemand.forecast.api import forecast

    return forecast(hist, until=until, population=population, n_jobs=1)


def test_named_models_are_left_as_named() -> None:
    """``forecast(models=[...])`` gets exactly the models asked for (default_set=False)."""
    given = {n: make_model(n) for n in ("snaive", "ets")}
    out = adjust_candidates(given, "day", default_set=False)
    assert out == given and out is not given

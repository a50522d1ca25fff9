"""Scenarios: parsed from the CLI text, applied to forecasts and drivers, recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mashdemand.forecast.api import ForecastError, Scenario, _scenario_housing, forecast


def history() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=140, freq="D")
    rows = []
    for hub, base in (("reading", 40), ("slough", 20)):
        for src, share in (("police", 0.5), ("education", 0.5)):
            y = base * share * (1 + 0.3 * (days.day_of_week < 5))
            rows.append(pd.DataFrame({"hub": hub, "source": src, "date": days, "contacts": y}))
    return pd.concat(rows, ignore_index=True)


def test_parse():
    s = Scenario.parse("growth:risk_identification=0.1,population_variant=high")
    assert (s.name, s.risk_identification, s.population_variant) == ("growth", 0.1, "high")
    assert Scenario.parse("low").population_variant == "low"
    assert Scenario.parse(None) == Scenario()
    with pytest.raises(ForecastError, match="unknown setting 'speed'"):
        Scenario.parse("x:speed=2")


def test_risk_identification_scales_police_share_only():
    h = history()
    kw = dict(until="2024-05-26", models=["snaive"], backtest=False)
    base = forecast(h, **kw).frame.set_index(["hub", "date"])["yhat"]
    up = forecast(h, scenario="up:risk_identification=0.1", **kw)
    assert up.scenario.risk_identification == 0.1
    ratio = (up.frame.set_index(["hub", "date"])["yhat"] / base).groupby("hub").mean()
    # police are half of each hub's contacts: +10% of police is +5% of the hub
    np.testing.assert_allclose(ratio[["reading", "slough"]], 1.05, rtol=1e-6)
    np.testing.assert_allclose(ratio["ALL"], 1.05, rtol=1e-6)
    split = forecast(h, scenario="up:risk_identification=0.1", by=["source"], **kw).frame
    plain = forecast(h, by=["source"], **kw).frame
    r = (
        (
            split.set_index(["hub", "source", "date"])["yhat"]
            / plain.set_index(["hub", "source", "date"])["yhat"]
        )
        .groupby(level=[0, 1])
        .mean()
    )
    assert r[("reading", "police")] == pytest.approx(1.1)
    assert r[("reading", "education")] == pytest.approx(1.0)


def test_housing_delivery_scales_planned_dwellings_only():
    housing = pd.DataFrame(
        {
            "hub": "reading",
            "year": [2023, 2024],
            "net_additional_dwellings": [100.0, 200.0],
            "kind": ["actual", "planned"],
        }
    )
    out = _scenario_housing(housing, Scenario(housing_delivery=0.5))
    assert out["net_additional_dwellings"].tolist() == [100.0, 100.0]
    assert _scenario_housing(housing, Scenario()) is housing


def test_population_variant_moves_the_forecast_whichever_model_wins():
    """A forecast by seasonal naive (which ignores population) still follows the variant:
    contacts per resident are held at the principal projection's."""
    h = history()
    pop = pd.DataFrame(
        [
            {
                "hub": hub,
                "year": 2024,
                "age_band": "all",
                "population": 1000.0 * k,
                "kind": "projection",
                "variant": v,
            }
            for hub in ("reading", "slough")
            for v, k in (("principal", 1.0), ("high", 1.04), ("low", 0.97))
        ]
    )
    kw = dict(until="2024-05-26", models=["snaive"], backtest=False, population=pop)
    base = forecast(h, **kw).frame.set_index(["hub", "date"])["yhat"]
    for name, k in (("high", 1.04), ("low", 0.97)):
        res = forecast(h, scenario=name, **kw)
        ratio = res.frame.set_index(["hub", "date"])["yhat"] / base
        np.testing.assert_allclose(ratio.to_numpy(), k, rtol=1e-9)
    assert forecast(h, **{**kw, "population": None}).frame["yhat"].sum() == pytest.approx(
        base.sum()
    )

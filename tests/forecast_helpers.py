"""Test-only forecasters and synthetic panels for the backtest, interval and ensemble tests.

Kept apart from the real model adapters so these tests stand alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mashdemand.forecast.base import DS, UID, Forecaster, Y

Z = {80: 1.2816, 95: 1.96}


class MeanLastSeason(Forecaster):
    """Mean of the last ``m`` values times ``factor``; normal intervals of that window's sd."""

    def __init__(
        self, *, freq: str = "day", season_length: int | None = None, factor: float = 1.0
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.factor = factor

    def _fit_one(self, g: pd.DataFrame) -> Any:
        last = g[Y].to_numpy(dtype=float)[-self.m :]
        return float(last.mean()) * self.factor, float(last.std())

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:
        mean, sd = state
        out = pd.DataFrame({"yhat": np.full(h, mean)})
        for lv in level:
            out[f"lo{lv}"] = mean - Z[lv] * sd
            out[f"hi{lv}"] = mean + Z[lv] * sd
        return out


class Recorder(MeanLastSeason):
    """Records, for each fit, the last ``ds`` it saw and the future features it was given."""

    uses_features = True
    fits: list[pd.Timestamp] = []
    futures: list[pd.DataFrame] = []

    def fit(self, df: pd.DataFrame) -> Recorder:
        Recorder.fits.append(df[DS].max())
        return super().fit(df)

    def predict(self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = (80, 95)):
        Recorder.futures.append(X)
        return super().predict(h, X=X, level=level)


def poisson_panel(
    n_series: int = 6, n_days: int = 120, seed: int = 1, lo: float = 3.0, hi: float = 300.0
) -> pd.DataFrame:
    """Daily Poisson counts with a weekday pattern; means log-spaced from ``lo`` to ``hi``."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-02", periods=n_days, freq="D")
    week = np.array([1.2, 1.1, 1.1, 1.0, 1.0, 0.8, 0.8])[ds.day_of_week]
    frames = []
    for i, mu in enumerate(np.geomspace(lo, hi, n_series)):
        frames.append(
            pd.DataFrame({UID: f"hub{i:02d}", DS: ds, Y: rng.poisson(mu * week).astype(float)})
        )
    return pd.concat(frames, ignore_index=True)

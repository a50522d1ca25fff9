"""Benchmarks: seasonal naive (the baseline every report compares against), naive and drift."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mashdemand.forecast.base import Forecaster, Y
from mashdemand.forecast.models._common import normal_frame
from mashdemand.threads import single_threaded_fit


def _sd(resid: np.ndarray) -> float:
    resid = resid[np.isfinite(resid)]
    return float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0


@single_threaded_fit
class SeasonalNaive(Forecaster):
    """Repeat the last season: ``yhat[t + j] = y[t + j - m * k]``, ``k = ceil(j / m)``.

    Intervals are normal with the in-sample seasonal-difference residual sd scaled by
    ``sqrt(k)`` (seasons ahead) [contacts/period]. A series shorter than ``m + 1`` periods
    falls back to the naive method (``m = 1``).

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=14),
    ...                    "y": [1.0, 2, 3, 4, 5, 6, 7] * 2})
    >>> SeasonalNaive(freq="day").fit(df).predict(3)["yhat"].tolist()
    [1.0, 2.0, 3.0]
    """

    def _season(self, n: int) -> int:
        return self.m if n > self.m else 1

    def _fit_one(self, g: pd.DataFrame) -> Any:
        y = g[Y].to_numpy(dtype=float)
        m = self._season(len(y))
        sd = _sd(y[m:] - y[:-m]) if len(y) > m else 0.0
        return y[-m:].copy(), sd

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:
        last, sd = state
        m = len(last)
        j = np.arange(h)
        k = j // m + 1
        return normal_frame(last[j % m], sd * np.sqrt(k), level)


class Naive(SeasonalNaive):
    """Repeat the last value; intervals from first differences scaled by ``sqrt(j)``."""

    def _season(self, n: int) -> int:
        return 1


@single_threaded_fit
class Drift(Forecaster):
    """Last value plus the average change per period (random walk with drift).

    Variance grows as ``sd**2 * j * (1 + j / (n - 1))`` (Hyndman and Athanasopoulos, FPP3
    section 5.5).
    """

    def _fit_one(self, g: pd.DataFrame) -> Any:
        y = g[Y].to_numpy(dtype=float)
        n = len(y)
        if n < 2:
            return y[-1], 0.0, 0.0, 2
        slope = (y[-1] - y[0]) / (n - 1)
        return y[-1], slope, _sd(np.diff(y) - slope), n

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:
        last, slope, sd, n = state
        j = np.arange(1, h + 1, dtype=float)
        return normal_frame(last + slope * j, sd * np.sqrt(j * (1 + j / (n - 1))), level)

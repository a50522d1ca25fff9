"""Exponential smoothing (ETS) via statsmodels' state-space ``ETSModel``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from mashdemand.forecast.base import Forecaster, Y
from mashdemand.forecast.models._common import normal_frame
from mashdemand.threads import single_threaded_fit


@single_threaded_fit
class ETS(Forecaster):
    """ETS(A, Ad, A): additive errors, additive damped trend, additive seasonality.

    Per series the model is simplified to what the data can carry: seasonality only with at
    least ``min_seasons`` full seasons and ``m > 1``; a damped trend only with at least
    ``min_trend`` periods; otherwise simple exponential smoothing. A fit that fails falls back
    to the next simpler model. Intervals are the model's analytical ones [contacts/period].

    Parameters
    ----------
    freq, season_length : see :class:`~mashdemand.forecast.base.Forecaster`.
    damped : bool
        Damp the trend (recommended for multi-year horizons).
    log : bool
        Fit on ``log1p(y)`` (multiplicative effects) instead of the counts. Default False:
        on the sample force raw counts were slightly more accurate at 28 days.
    min_seasons : int
        Full seasons needed before a seasonal component is fitted.
    min_trend : int
        Periods needed before a trend is fitted.
    max_train : int or None
        Fit on at most this many latest periods (speed for long daily series).
    maxiter : int
        Optimiser iterations.
    """

    def __init__(
        self,
        *,
        freq: str = "day",
        season_length: int | None = None,
        damped: bool = True,
        log: bool = False,
        min_seasons: int = 2,
        min_trend: int = 8,
        max_train: int | None = 4 * 365,
        maxiter: int = 200,
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.damped = damped
        self.log = log
        self.min_seasons = min_seasons
        self.min_trend = min_trend
        self.max_train = max_train
        self.maxiter = maxiter

    def _specs(self, n: int) -> list[dict[str, Any]]:
        seasonal = self.m > 1 and n >= self.min_seasons * self.m + 2
        trend = n >= self.min_trend
        specs = []
        if seasonal and trend:
            specs.append({"trend": "add", "damped_trend": self.damped, "seasonal": "add"})
        if seasonal:
            specs.append({"seasonal": "add"})
        if trend:
            specs.append({"trend": "add", "damped_trend": self.damped})
        specs.append({})
        return specs

    def _fit_one(self, g: pd.DataFrame) -> Any:
        y = g[Y].to_numpy(dtype=float)
        if self.max_train:
            y = y[-self.max_train :]
        z = np.log1p(np.clip(y, 0, None)) if self.log else y
        if len(z) < 3 or np.ptp(z) == 0:
            return ("const", float(z[-1]), float(np.std(z)))
        for spec in self._specs(len(z)):
            if spec.get("seasonal"):
                spec["seasonal_periods"] = self.m
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = ETSModel(pd.Series(z), error="add", **spec).fit(
                        disp=False, maxiter=self.maxiter
                    )
                if np.all(np.isfinite(res.forecast(1))):
                    return ("ets", res, spec)
            except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - data dependent
                continue
        return ("const", float(z[-1]), float(np.std(np.diff(z))))  # pragma: no cover

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:
        if state[0] == "const":
            _, last, sd = state
            j = np.arange(1, h + 1)
            return normal_frame(np.full(h, last), sd * np.sqrt(j), level, log=self.log)
        res = state[1]
        n = res.nobs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = res.get_prediction(start=n, end=n + h - 1)
            mean = np.asarray(pred.predicted_mean, dtype=float)
            var = np.asarray(pred.var_pred_mean, dtype=float)
        sd = np.sqrt(np.clip(np.nan_to_num(var), 0, None))
        return normal_frame(mean, sd, level, log=self.log)

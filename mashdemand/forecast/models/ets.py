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

#: Fewest full seasons (and periods) before the heuristic start is trusted: statsmodels needs
#: two seasons and ``10 + 2 * (m // 2)`` periods; with fewer than four seasons the first-seasons
#: decomposition is noisy, and estimating the start is cheap on so short a series anyway.
HEURISTIC_MIN_SEASONS = 4
HEURISTIC_MIN_PERIODS = 20


def heuristic_fits(n: int, spec: dict[str, Any]) -> bool:
    """Whether ``n`` periods are enough for the heuristic initial states of ETS ``spec``.

    Parameters
    ----------
    n : int
        Periods in the training series.
    spec : dict
        ETSModel keywords; ``seasonal_periods`` is the season length when seasonal.

    Examples
    --------
    >>> heuristic_fits(365, {"seasonal": "add", "seasonal_periods": 7})
    True
    >>> heuristic_fits(27, {"seasonal": "add", "seasonal_periods": 7})
    False
    >>> heuristic_fits(15, {"trend": "add"})
    False
    """
    m = int(spec.get("seasonal_periods") or 1) if spec.get("seasonal") else 1
    need = max(HEURISTIC_MIN_PERIODS, HEURISTIC_MIN_SEASONS * m, 10 + 2 * (m // 2))
    return n >= need


@single_threaded_fit
class ETS(Forecaster):
    """ETS(A, Ad, A): additive errors, additive damped trend, additive seasonality.

    Per series the model is simplified to what the data can carry: seasonality only with at
    least ``min_seasons`` full seasons and ``m > 1``; a damped trend only with at least
    ``min_trend`` periods; otherwise simple exponential smoothing. A fit that fails falls back
    to the next simpler model. Intervals are the model's analytical ones [contacts/period].

    The initial states come from the heuristic of Hyndman & Athanasopoulos (2019, section 2.6:
    a classical decomposition of the first few seasons) rather than being estimated with the
    smoothing parameters: about seven times fewer CPU seconds per daily fit and, on the five
    daily data sets of ``benchmarks/forecast.py``, no MASE cell more than 0.6% worse (most
    better) than with estimated states. A series too short for the heuristic
    (:func:`heuristic_fits`), or a heuristic fit that fails, is fitted with estimated initial
    states instead (:meth:`_try_fit`).

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
    initialization : {"heuristic", "estimated"}
        How the initial level, trend and seasonal states are found (statsmodels'
        ``initialization_method``); ``"heuristic"`` falls back to ``"estimated"`` as above.
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
        initialization: str = "heuristic",
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.damped = damped
        self.log = log
        self.min_seasons = min_seasons
        self.min_trend = min_trend
        self.max_train = max_train
        self.maxiter = maxiter
        self.initialization = initialization

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
            res = self._try_fit(z, spec)
            if res is not None:
                return ("ets", res, spec)
        return ("const", float(z[-1]), float(np.std(np.diff(z))))  # pragma: no cover

    def _try_fit(self, z: np.ndarray, spec: dict[str, Any]) -> Any:
        """Fit one ETS ``spec`` to ``z``: heuristic start if asked and possible, else estimated.

        Returns the statsmodels results, or ``None`` if no initialisation gives a fit with a
        finite one-step forecast.
        """
        methods = ["estimated"]
        if self.initialization == "heuristic" and heuristic_fits(len(z), spec):
            methods.insert(0, "heuristic")
        for method in methods:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = ETSModel(
                        pd.Series(z), error="add", initialization_method=method, **spec
                    )
                    res = model.fit(disp=False, maxiter=self.maxiter)
                    if np.all(np.isfinite(res.forecast(1))):
                        return res
            except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - data dependent
                continue
        return None

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

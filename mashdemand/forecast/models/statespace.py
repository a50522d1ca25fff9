"""Unobserved components (structural time series) with calendar regressors, via statsmodels."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tsa.statespace.structural import UnobservedComponents

from mashdemand.forecast.base import DS, Forecaster, Y
from mashdemand.forecast.features import (
    BANK_HOLIDAYS,
    INTERVENTION_PREFIX,
    IS_CHRISTMAS,
    REBOUND_SHARE,
    SCHOOL_CLOSURE_SHARE,
    SCHOOL_HOLIDAY_SHARE,
    intervention_columns,
)
from mashdemand.forecast.models._common import exog_frame, fourier, normal_frame
from mashdemand.threads import single_threaded_fit

#: Default regressors; a name ending in ``*`` matches every column with that prefix.
DEFAULT_EXOG: tuple[str, ...] = (
    SCHOOL_HOLIDAY_SHARE,
    BANK_HOLIDAYS,
    IS_CHRISTMAS,
    SCHOOL_CLOSURE_SHARE,
    REBOUND_SHARE,
    f"{INTERVENTION_PREFIX}*",
)
#: Default training window per period [periods]: keeps a daily fit near 1.5 s.
MAX_TRAIN: dict[str, int] = {"day": 2 * 365, "week": 5 * 52}
_YEAR_DAYS = 365.25


@single_threaded_fit
class UCM(Forecaster):
    """Local linear trend + seasonal + regressors, fitted on ``log1p(y)``.

    * level: local linear trend with at least ``min_trend`` periods, else local level;
    * seasonal: dummy seasonal of period ``m`` when ``1 < m <= 12`` and there are at least two
      full seasons (weekly for days, monthly pattern for months, quarters);
    * yearly cycle for days and weeks: ``fourier_k`` sine/cosine pairs as regressors;
    * regressors: the ``exog`` feature columns (standardised; constant columns in the training
      window dropped), only with at least ``min_exog_n`` periods. Columns absent from the
      frames are computed from the calendar (:func:`~mashdemand.forecast.features.make_features`).

    Intervals are the Kalman filter's, back-transformed from the log scale [contacts/period].

    Parameters
    ----------
    freq, season_length : see :class:`~mashdemand.forecast.base.Forecaster`.
    exog : sequence of str or None
        Regressor columns (``None``: :data:`DEFAULT_EXOG`; ``()``: none).
    fourier_k : int
        Harmonics of the yearly cycle for daily and weekly data.
    max_train : int or None
        Fit on at most this many latest periods (``None``: :data:`MAX_TRAIN` for the freq).
    maxiter : int
        L-BFGS iterations.
    min_trend, min_exog_n : int
        Periods needed for a stochastic slope / for regressors.
    """

    uses_features = True

    def __init__(
        self,
        *,
        freq: str = "day",
        season_length: int | None = None,
        exog: Sequence[str] | None = None,
        fourier_k: int = 3,
        max_train: int | None = None,
        maxiter: int = 50,
        min_trend: int = 8,
        min_exog_n: int = 24,
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.exog = exog
        self.fourier_k = fourier_k
        self.max_train = max_train
        self.maxiter = maxiter
        self.min_trend = min_trend
        self.min_exog_n = min_exog_n

    def _exog_names(self, available: Sequence[str]) -> list[str]:
        wanted = DEFAULT_EXOG if self.exog is None else tuple(self.exog)
        names: list[str] = []
        for w in wanted:
            if w.endswith("*"):
                names += [c for c in available if c.startswith(w[:-1]) and c not in names]
            elif w not in names:
                names.append(w)
        return names

    def _design(self, ex: pd.DataFrame, ds: pd.DatetimeIndex) -> np.ndarray:
        cols = [ex.to_numpy(dtype=float)]
        if self.freq in ("day", "week") and self.fourier_k > 0:
            cols.append(fourier(ds, _YEAR_DAYS, self.fourier_k))
        return np.column_stack(cols) if cols else np.empty((len(ds), 0))

    def _fit_one(self, g: pd.DataFrame) -> Any:
        limit = self.max_train or MAX_TRAIN.get(self.freq)
        g = g.iloc[-limit:] if limit else g
        ds = pd.DatetimeIndex(g[DS])
        z = np.log1p(np.clip(g[Y].to_numpy(dtype=float), 0, None))
        n = len(z)
        have = g.set_index(DS)
        names = []
        if n >= self.min_exog_n:
            names = self._exog_names([*have.columns, *intervention_columns()])
        ex = exog_frame(have, ds, names, self.freq)
        X = self._design(ex, ds) if n >= self.min_exog_n else np.empty((n, 0))
        mu, sd = X.mean(axis=0), X.std(axis=0)
        keep = sd > 1e-9
        X = (X[:, keep] - mu[keep]) / sd[keep]
        seasonal = self.m if 1 < self.m <= 12 and n >= 2 * self.m + 2 else None
        levels = ["local linear trend", "local level"] if n >= self.min_trend else ["local level"]
        if np.ptp(z) == 0:
            return {"const": float(z[-1])}
        for lvl in levels:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mod = UnobservedComponents(
                        z, level=lvl, seasonal=seasonal, exog=X if X.shape[1] else None
                    )
                    res = mod.fit(method="lbfgs", maxiter=self.maxiter, disp=False)
                if np.isfinite(res.llf):
                    break
            except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - data dependent
                continue
        state = {"res": res, "names": names, "mu": mu, "sd": sd, "keep": keep}
        state["last"] = ex.iloc[-1] if len(names) else None
        return state

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:
        if "const" in state:
            return normal_frame(np.full(h, state["const"]), np.zeros(h), level, log=True)
        res = state["res"]
        ex = exog_frame(X, ds, state["names"], self.freq, fallback=state["last"])
        Xf = self._design(ex, ds) if res.model.k_exog else None
        if Xf is not None:
            keep = state["keep"]
            Xf = (Xf[:, keep] - state["mu"][keep]) / state["sd"][keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = res.get_forecast(h, exog=Xf)
            mean = np.asarray(fc.predicted_mean, dtype=float)
            var = np.asarray(fc.var_pred_mean, dtype=float)
        return normal_frame(mean, np.sqrt(np.clip(var, 0, None)), level, log=True)

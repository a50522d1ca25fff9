"""One gradient-boosting model (Poisson loss) pooled over every series."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from mashdemand.forecast.base import (
    DS,
    LEVELS,
    UID,
    YHAT,
    Forecaster,
    Y,
    check_training_frame,
    finish_forecast,
    future_dates,
)
from mashdemand.forecast.features import DRIVER_FEATURES, POP_ALL, make_features
from mashdemand.threads import single_threaded_fit

#: Periods averaged for each series' level (the scale its target is divided by).
SCALE_WINDOW: dict[str, int] = {
    "day": 28,
    "week": 13,
    "month": 12,
    "quarter": 4,
    "year": 1,
    "fy": 1,
}
_CODE = "_series"
_MIN_OWN = 60  # periods a series needs to use its own in-sample residuals


@single_threaded_fit
class PooledGBM(Forecaster):
    """A global ``HistGradientBoostingRegressor(loss="poisson")`` over all series.

    The target is each series' count divided by its level: the mean of its last
    :data:`SCALE_WINDOW` periods, times ``exposure(t) / exposure(last)`` when the ``exposure``
    driver column (default ``population``) is present. The model learns the calendar shape of
    that ratio (features: every calendar column of
    :func:`~mashdemand.forecast.features.make_features` for the freq, any other numeric column
    of the training frame except the drivers, and the series identity as a categorical
    feature); a forecast is level x exposure growth x predicted ratio.

    No lags are used, so any horizon is valid and no recursion is needed; the recent level
    carries the trend, and population growth (when given) carries it forward. Trees do not
    extrapolate the ``trend`` feature: beyond the training data it holds its last value.

    Intervals: quantiles of the in-sample standardised residuals ``(y - yhat) / sqrt(yhat)``
    of each series with at least 60 periods; shorter series use their (seasonal) naive
    one-step errors in the same units, pooled over the short series. Quantiles are scaled by
    ``sqrt(yhat)`` and ``sqrt(1 + j / n)`` at step ``j`` [contacts/period].

    Parameters
    ----------
    freq, season_length : see :class:`~mashdemand.forecast.base.Forecaster`.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization :
        Passed to ``HistGradientBoostingRegressor`` (``min_samples_leaf`` is lowered for tiny
        panels to a tenth of the rows, at least 2). 100 iterations at a rate of 0.15 fit in a
        third of the time of 300 at 0.05 and scored as well on the real series of
        ``benchmarks/forecast.py`` (mean MASE ratio to the best peer 0.962 against 0.969;
        60 at 0.25 gave 0.970): the fit is the longest task of a forecast.
    exposure : str or None
        Driver column whose growth scales the forecast; ``None`` for none.
    random_state : int
        Seed (the fit is deterministic without early stopping).
    """

    per_series = False  # one model pooled over every series

    uses_features = True

    def __init__(
        self,
        *,
        freq: str = "day",
        season_length: int | None = None,
        max_iter: int = 100,
        learning_rate: float = 0.15,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        exposure: str | None = POP_ALL,
        random_state: int = 0,
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.exposure = exposure
        self.random_state = random_state

    # -- design ------------------------------------------------------------------------------
    def _frame(self, idx: pd.DataFrame, given: pd.DataFrame | None) -> pd.DataFrame:
        """Calendar for ``idx`` (unique_id, ds), overlaid with ``given``'s columns."""
        out = make_features(idx[[UID, DS]], self.freq)
        if given is not None:
            extra = [c for c in given.columns if c not in (UID, DS, Y)]
            if extra:
                g = given[[UID, DS, *extra]].drop_duplicates([UID, DS])
                g = idx[[UID, DS]].merge(g, on=[UID, DS], how="left")
                for c in extra:
                    v = pd.to_numeric(g[c], errors="coerce")
                    out[c] = v.fillna(out[c]) if c in out.columns else v
        return out

    def _matrix(self, f: pd.DataFrame) -> np.ndarray:
        X = f.reindex(columns=self.columns_).to_numpy(dtype=float)
        X[:, -1] = f[UID].map(self.codes_).to_numpy(dtype=float)
        return X

    # -- protocol ----------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> Self:
        check_training_frame(df)
        df = df.sort_values([UID, DS], ignore_index=True)
        self.features_ = [c for c in df.columns if c not in (UID, DS, Y)]
        f = self._frame(df, df)
        uids = list(pd.unique(df[UID]))
        self.codes_ = {u: i for i, u in enumerate(uids)}
        numeric = [
            c
            for c in f.columns
            if c not in (UID, DS)
            and c not in DRIVER_FEATURES
            and pd.api.types.is_numeric_dtype(f[c])
        ]
        self.columns_ = [*numeric, _CODE]
        y = df[Y].to_numpy(dtype=float)
        w = SCALE_WINDOW.get(self.freq, self.m)
        grp = df.groupby(UID, sort=False)
        level = grp[Y].apply(lambda s: max(float(s.iloc[-w:].mean()), 1e-3))
        self.level_ = level.to_dict()
        self.last_ds_ = grp[DS].last().to_dict()
        self.n_ = grp.size().to_dict()
        has_exp = self.exposure is not None and self.exposure in f.columns
        self.exposure_last_ = {}
        expo = np.ones(len(df))
        if has_exp:
            e = f[self.exposure].ffill().bfill().to_numpy(dtype=float)
            last = pd.Series(e).groupby(df[UID].to_numpy()).last()
            self.exposure_last_ = last.to_dict()
            expo = e / df[UID].map(last).to_numpy(dtype=float)
        base = df[UID].map(level).to_numpy(dtype=float) * expo
        X = self._matrix(f)
        cat = np.zeros(X.shape[1], dtype=bool)
        cat[-1] = len(uids) < 255
        leaf = max(5, min(self.min_samples_leaf, len(df) // 10))
        self.model_ = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=cat if cat.any() else None,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(X, y / base)
        fitted = self.model_.predict(X) * base
        r = (y - fitted) / np.sqrt(np.maximum(fitted, 1.0))
        # Short series: in-sample residuals of a flexible model are far too small, so use
        # the (seasonal) naive one-step errors in the same standardised units instead.
        naive = []
        for idx in grp.indices.values():
            yi = y[idx]
            m = self.m if len(yi) > 2 * self.m else 1
            naive.append((yi[m:] - yi[:-m]) / np.sqrt(np.maximum(yi[:-m], 1.0)))
        self.resid_ = {
            u: r[idx] if len(idx) >= _MIN_OWN else naive[k]
            for k, (u, idx) in enumerate(grp.indices.items())
        }
        self.resid_short_ = np.concatenate(naive) if naive else np.zeros(1)
        return self

    def predict(
        self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = LEVELS
    ) -> pd.DataFrame:
        self._check_fitted()
        idx = pd.concat(
            [
                pd.DataFrame({UID: u, DS: future_dates(self.last_ds_[u], h, self.freq)})
                for u in self.codes_
            ],
            ignore_index=True,
        )
        f = self._frame(idx, X)
        for c in self.columns_[:-1]:  # drivers or extras missing in the future: hold last
            if c not in f.columns or f[c].isna().any():
                f[c] = f[c].ffill() if c in f.columns else np.nan
        f = f.fillna(0.0)
        expo = np.ones(len(idx))
        if self.exposure_last_:
            if X is not None and self.exposure in X.columns:
                e = idx.merge(X[[UID, DS, self.exposure]], on=[UID, DS], how="left")[self.exposure]
                e = e.fillna(idx[UID].map(self.exposure_last_)).to_numpy(dtype=float)
                expo = e / idx[UID].map(self.exposure_last_).to_numpy(dtype=float)
        base = idx[UID].map(self.level_).to_numpy(dtype=float) * expo
        mean = self.model_.predict(self._matrix(f)) * base
        out = idx.copy()
        out[YHAT] = mean
        j = np.tile(np.arange(1, h + 1), len(self.codes_)).astype(float)
        n = idx[UID].map(self.n_).to_numpy(dtype=float)
        spread = np.sqrt(np.maximum(mean, 1.0)) * np.sqrt(1 + j / n)
        resid = [
            self.resid_[u] if len(self.resid_[u]) >= _MIN_OWN else self.resid_short_
            for u in self.codes_
        ]
        for lv in level:
            a = (1 - lv / 100) / 2
            # idx holds h rows per series, in the order of codes_.
            q = np.array([np.quantile(r, [a, 1 - a]) for r in resid]).reshape(-1, 2)
            out[f"lo{lv}"] = mean + np.repeat(q[:, 0], h) * spread
            out[f"hi{lv}"] = mean + np.repeat(q[:, 1], h) * spread
        return finish_forecast(out, level)

"""Rate x population: contacts per 1,000 people, smoothed and pooled over areas.

The long-range model planners already reason with ("referrals per 10,000 children"), made
robust for short annual series: each area's rate is exponentially smoothed, the smoothing weight
and the error distribution are learned from every area together, and the forecast is the
smoothed rate times the projected population.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd

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
    series_rows,
)
from mashdemand.forecast.features import POP_ALL, POP_CHILD
from mashdemand.schema import SPLIT_SEP
from mashdemand.threads import single_threaded_fit

ALPHAS: tuple[float, ...] = (0.2, 0.35, 0.5, 0.65, 0.8, 1.0)
"""Candidate smoothing weights, chosen jointly for all series by backtest."""
_OFFSET = 0.5  # added to counts inside logs so a zero count has a finite error


def _exposure(df: pd.DataFrame, uid: str) -> np.ndarray:
    """The population a series' contacts come from [people]; 1 without drivers.

    Child series (``...|child``) use the 0-17 population, adult series all ages minus it;
    otherwise all ages, or the 0-17 population when that is the only band given (e.g.
    referrals to children's social care).
    """
    n = len(df)
    all_ = df[POP_ALL].to_numpy(dtype=float) if POP_ALL in df else np.full(n, np.nan)
    child = df[POP_CHILD].to_numpy(dtype=float) if POP_CHILD in df else np.full(n, np.nan)
    parts = uid.split(SPLIT_SEP)[1:]
    if "child" in parts and np.isfinite(child).any():
        e = child
    elif "adult" in parts and np.isfinite(child).any() and np.isfinite(all_).any():
        e = all_ - child
    elif np.isfinite(all_).any() and np.nanmax(all_) > 0:
        e = all_
    elif np.isfinite(child).any() and np.nanmax(child) > 0:
        e = child
    else:
        return np.ones(n)
    e = pd.Series(np.where(e > 0, e, np.nan)).ffill().bfill().to_numpy()
    return np.where(np.isfinite(e), e, 1.0) / 1000.0


def _smooth(rates: np.ndarray, m: int, alpha: float) -> np.ndarray:
    """Seasonal exponential smoothing: ``level[t]`` for each season position, as known
    after period ``t`` (``levels[t, s]``)."""
    n = len(rates)
    m = m if n > 2 * m else 1
    lev = np.full((n, m), np.nan)
    cur = np.full(m, np.nan)
    for t in range(n):
        s = t % m
        cur[s] = rates[t] if np.isnan(cur[s]) else alpha * rates[t] + (1 - alpha) * cur[s]
        lev[t] = cur
    return lev


@single_threaded_fit
class PooledRate(Forecaster):
    """Contacts per 1,000 population, smoothed per series, pooled across series.

    For each series the rate ``y / (population / 1000)`` is exponentially smoothed (per
    season position when the series has more than two seasons); the forecast ``j`` periods
    ahead is the smoothed rate of that season position times the projected population
    [contacts/period]. One smoothing weight from :data:`ALPHAS` is chosen for all series
    together, by the mean absolute log error of their in-sample forecasts 1 to
    ``tune_horizon`` periods ahead.

    Intervals: empirical quantiles, by steps ahead, of the log ratio actual / forecast over
    every series' in-sample forecasts (so eight annual points per area still get intervals
    learned from a hundred areas); beyond the longest step seen, the last step's spread grows
    with ``sqrt(j)``.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2015-04-01", periods=8,
    ...     freq="YS-APR"), "y": [100.0] * 8, "population": 50_000.0})
    >>> f = PooledRate(freq="fy").fit(df).predict(2, X=pd.DataFrame({"unique_id": "a",
    ...     "ds": pd.to_datetime(["2023-04-01", "2024-04-01"]), "population": [55_000.0] * 2}))
    >>> f["yhat"].round(1).tolist()  # 2 per 1,000 x 55,000
    [110.0, 110.0]
    """

    per_series = False  # one model pooled over every series

    uses_features = True

    def __init__(
        self,
        *,
        freq: str = "day",
        season_length: int | None = None,
        tune_horizon: int = 3,
        max_error_horizon: int = 8,
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.tune_horizon = tune_horizon
        self.max_error_horizon = max_error_horizon

    def _in_sample(self, alpha: float, H: int) -> list[np.ndarray]:
        """Log errors ``log((y + .5) / (yhat + .5))`` at steps 1..H, pooled over series."""
        errs: list[list[float]] = [[] for _ in range(H)]
        for y, e in self.series_.values():
            n = len(y)
            if n < 2:
                continue
            m = self.m if n > 2 * self.m else 1
            lev = _smooth(y / e, m, alpha)
            for j in range(1, min(H, n - 1) + 1):
                t = np.arange(max(m - 1, 0), n - j)
                if len(t) == 0:
                    continue
                pos = (t + j) % m
                pred = lev[t, pos] * e[t + j]
                ok = np.isfinite(pred)
                errs[j - 1].extend(np.log((y[t + j][ok] + _OFFSET) / (pred[ok] + _OFFSET)).tolist())
        return [np.asarray(x) for x in errs]

    def fit(self, df: pd.DataFrame) -> Self:
        check_training_frame(df)
        self.series_: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.last_ds_: dict[str, pd.Timestamp] = {}
        for uid, g in df.groupby(UID, sort=True):
            g = g.sort_values(DS)
            self.series_[str(uid)] = (g[Y].to_numpy(dtype=float), _exposure(g, str(uid)))
            self.last_ds_[str(uid)] = g[DS].iloc[-1]
        best, best_score = ALPHAS[-1], np.inf
        for a in ALPHAS:
            errs = self._in_sample(a, self.tune_horizon)
            pooled = np.concatenate([x for x in errs if len(x)] or [np.array([np.inf])])
            score = float(np.mean(np.abs(pooled)))
            if score < best_score - 1e-9:
                best, best_score = a, score
        self.alpha_ = best
        self.errors_ = [x for x in self._in_sample(best, self.max_error_horizon) if len(x) >= 5]
        self.models_ = {
            u: _smooth(y / e, self.m if len(y) > 2 * self.m else 1, best)[-1]
            for u, (y, e) in self.series_.items()
        }
        return self

    def predict(
        self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = LEVELS
    ) -> pd.DataFrame:
        self._check_fitted()
        qs = sorted({q for lv in level for q in ((1 - lv / 100) / 2, (1 + lv / 100) / 2)})
        table = np.array([np.quantile(x, qs) for x in self.errors_]) if self.errors_ else None
        rows = series_rows(X) if X is not None else {}
        out = []
        for uid, state in self.models_.items():
            ds = future_dates(self.last_ds_[uid], h, self.freq)
            y, e_hist = self.series_[uid]
            if X is not None:
                Xi = X.iloc[rows.get(uid, [])].set_index(DS).reindex(ds).reset_index()
                e = _exposure(Xi.reindex(columns=[POP_ALL, POP_CHILD]), uid)
                if np.all(e == 1.0) and not np.all(e_hist == 1.0):
                    e = np.full(h, e_hist[-1])
            else:
                e = np.full(h, e_hist[-1])
            m = len(state)
            n = len(y)
            j = np.arange(1, h + 1)
            rate = state[(n - 1 + j) % m]
            mean = rate * e
            f = pd.DataFrame({UID: uid, DS: ds, YHAT: mean})
            for lv in level:
                lo_q, hi_q = (1 - lv / 100) / 2, (1 + lv / 100) / 2
                if table is None:
                    lo_e = hi_e = np.zeros(h)
                else:
                    k = np.minimum(j, len(table)) - 1
                    grow = np.sqrt(np.maximum(j / len(table), 1.0))
                    lo_e = table[k, qs.index(lo_q)] * grow
                    hi_e = table[k, qs.index(hi_q)] * grow
                f[f"lo{lv}"] = (mean + _OFFSET) * np.exp(lo_e) - _OFFSET
                f[f"hi{lv}"] = (mean + _OFFSET) * np.exp(hi_e) - _OFFSET
            out.append(f)
        return finish_forecast(pd.concat(out, ignore_index=True), level)

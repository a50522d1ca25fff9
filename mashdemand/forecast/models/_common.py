"""Helpers shared by the model adapters: normal intervals, calendar columns, exogenous frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from mashdemand.calendar import DEFAULT_CALENDAR
from mashdemand.forecast.base import DS, UID, YHAT
from mashdemand.forecast.features import make_features


def z(level: int) -> float:
    """Two-sided standard-normal quantile for a ``level`` % interval (80 -> 1.2816)."""
    return float(norm.ppf(0.5 + level / 200.0))


def normal_frame(
    mean: np.ndarray, sd: np.ndarray, level: Sequence[int], log: bool = False
) -> pd.DataFrame:
    """``yhat, lo<L>, hi<L>`` from a normal forecast (on the log1p scale when ``log``).

    On the log scale ``yhat`` is the back-transformed mean ``expm1(mu + sd**2 / 2)`` and the
    bounds are back-transformed quantiles (so they stay >= 0 after clipping).
    """
    mean = np.asarray(mean, dtype=float)
    sd = np.broadcast_to(np.asarray(sd, dtype=float), mean.shape)
    if log:
        out = pd.DataFrame({YHAT: np.expm1(mean + 0.5 * sd**2)})
    else:
        out = pd.DataFrame({YHAT: mean})
    for lv in level:
        q = z(lv) * sd
        lo, hi = mean - q, mean + q
        out[f"lo{lv}"] = np.expm1(lo) if log else lo
        out[f"hi{lv}"] = np.expm1(hi) if log else hi
    return out


def calendar_for(
    ds: pd.DatetimeIndex, freq: str, uid: str = "_", calendar: str = DEFAULT_CALENDAR
) -> pd.DataFrame:
    """Calendar feature columns for dates ``ds`` (index ``ds``) in ``calendar``, no drivers."""
    f = make_features(pd.DataFrame({UID: uid, DS: ds}), freq, calendar=calendar)
    return f.drop(columns=UID).set_index(DS)


def exog_frame(
    have: pd.DataFrame | None,
    ds: pd.DatetimeIndex,
    cols: Sequence[str],
    freq: str,
    fallback: pd.Series | None = None,
    calendar: str = DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Columns ``cols`` for dates ``ds``: from ``have`` (indexed by ``ds``) where present,
    else computed from ``calendar`` (:func:`mashdemand.calendar.get_calendar`), else
    ``fallback`` (e.g. the last training row), else 0.
    """
    out = pd.DataFrame(index=pd.DatetimeIndex(ds))
    if have is not None:
        have = have.reindex(out.index)
    cal = None
    for c in cols:
        v = have[c] if have is not None and c in have.columns else None
        if v is None or v.isna().any():
            if cal is None:
                cal = calendar_for(out.index, freq, calendar=calendar)
            if c in cal.columns:
                v = cal[c] if v is None else v.fillna(cal[c])
            elif fallback is not None and c in fallback.index:
                v = pd.Series(fallback[c], index=out.index) if v is None else v.fillna(fallback[c])
        out[c] = (
            pd.Series(0.0, index=out.index)
            if v is None
            else pd.to_numeric(v, errors="coerce").ffill().fillna(0.0)
        )
    return out.astype(float)


def fourier(ds: pd.DatetimeIndex, period_days: float, k: int) -> np.ndarray:
    """``2k`` sin/cos columns of time in days since 2017-01-01 at ``period_days``."""
    t = (pd.DatetimeIndex(ds) - pd.Timestamp("2017-01-01")).days.to_numpy(dtype=float)
    cols = []
    for j in range(1, k + 1):
        a = 2 * np.pi * j * t / period_days
        cols += [np.sin(a), np.cos(a)]
    return np.column_stack(cols) if cols else np.empty((len(t), 0))

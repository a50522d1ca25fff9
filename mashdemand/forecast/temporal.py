"""Temporal coherence: monthly, quarterly and financial-year projections that agree with the
daily forecast where they overlap.

A planner reads the daily forecast (rotas, the next quarters) and the long-range projection
(the FMS, four years ahead) side by side; they must tell the same story where they overlap. So a
long-range forecast made from daily history embeds the near-term daily forecast:

- a period wholly covered by observed days and the daily forecast takes their sum (a financial
  year already half observed is the observed half plus the forecast half, not a fresh guess
  at the whole year); its interval keeps the long-range model's relative width, applied to the
  forecast part only (observed days are not uncertain);
- beyond the overlap, the long-range forecast is scaled by the last overlap ratio, fading
  linearly to 1 over a year, so there is no step where the daily forecast ends.

Aggregates are then re-summed bottom-up so hubs still add up to the force total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mashdemand.forecast.base import DS, UID, YHAT, Y, finish_forecast, interval_columns
from mashdemand.forecast.counts import FREQ_ALIASES, period_start

FADE_DAYS = 365
"""Days over which the near-term correction fades out beyond the overlap."""


def period_days(starts: pd.Series, freq: str) -> np.ndarray:
    """Number of days in each period starting at ``starts``.

    >>> period_days(pd.Series(pd.to_datetime(["2024-02-01", "2024-04-01"])), "month").tolist()
    [29, 30]
    """
    offset = pd.tseries.frequencies.to_offset(FREQ_ALIASES[freq])
    s = pd.to_datetime(starts)
    return ((s + offset) - s).dt.days.to_numpy()


def align_to_daily(
    coarse: pd.DataFrame,
    daily: pd.DataFrame,
    daily_history: pd.DataFrame,
    freq: str,
    level: Sequence[int] = (80, 95),
    fade_days: int = FADE_DAYS,
) -> pd.DataFrame:
    """Make a ``freq`` forecast agree with a daily forecast (and history) where they overlap.

    Parameters
    ----------
    coarse : DataFrame
        ``unique_id, ds, yhat, lo<L>, hi<L>`` at ``freq`` [contacts/period].
    daily : DataFrame
        The daily forecast of the same series, same columns [contacts/day].
    daily_history : DataFrame
        ``unique_id, ds, y`` observed days (fills periods the history partly covers).
    freq : str
        Period of ``coarse``.
    level : sequence of int
        Interval levels present.
    fade_days : int
        Beyond the overlap the correction ratio fades linearly to 1 over this many days.

    Returns
    -------
    DataFrame
        ``coarse`` with ``yhat`` and bounds adjusted (same rows and order) and a boolean column
        ``from_daily``: the period is the sum of observed and daily-forecast days.

    Examples
    --------
    >>> days = pd.date_range("2024-01-01", "2024-03-31")
    >>> hist = pd.DataFrame({"unique_id": "a", "ds": days[:31], "y": 1.0})
    >>> dly = pd.DataFrame({"unique_id": "a", "ds": days[31:60], "yhat": 2.0,
    ...                     "lo80": 1.0, "hi80": 3.0, "lo95": 0.5, "hi95": 4.0})
    >>> crs = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2024-02-01", "2024-03-01"]),
    ...                     "yhat": 50.0, "lo80": 40.0, "hi80": 60.0, "lo95": 35.0, "hi95": 65.0})
    >>> out = align_to_daily(crs, dly, hist, "month")
    >>> out["yhat"].round(2).tolist()  # Feb: 29 days x 2; March: 50 x 58/50 fading over a year
    [58.0, 57.36]
    >>> out["from_daily"].tolist()
    [True, False]
    """
    bounds = interval_columns(level)
    out = coarse.copy()
    out["from_daily"] = False
    if daily.empty:
        return out
    d = daily[[UID, DS, YHAT]].copy()
    d["_p"] = period_start(d[DS], freq)
    fsum = (
        d.groupby([UID, "_p"])[YHAT]
        .agg(["sum", "size"])
        .rename(columns={"sum": "_fsum", "size": "_fn"})
    )
    h = daily_history[[UID, DS, Y]].copy()
    h["_p"] = period_start(h[DS], freq)
    h = h[h["_p"].isin(fsum.index.get_level_values("_p").unique())]
    osum = (
        h.groupby([UID, "_p"])[Y]
        .agg(["sum", "size"])
        .rename(columns={"sum": "_osum", "size": "_on"})
    )
    both = fsum.join(osum, how="left").fillna({"_osum": 0.0, "_on": 0}).reset_index()
    both = both.rename(columns={"_p": DS})
    out = out.merge(both, on=[UID, DS], how="left")
    covered = (out["_fn"].fillna(0) + out["_on"].fillna(0)) == period_days(out[DS], freq)
    covered &= out["_fn"].fillna(0) > 0
    base = out[YHAT].to_numpy(dtype=float)
    safe = np.where(base > 0, base, np.nan)

    new = out["_osum"].fillna(0.0) + out["_fsum"].fillna(0.0)
    # Uncertainty of the forecast part only, at the long-range model's relative width.
    part = np.where(np.isfinite(safe), out["_fsum"].fillna(0.0) / safe, 1.0)
    for c in bounds:
        adj = new + (out[c] - base) * part
        out[c] = np.where(covered, adj, out[c])
    out["_ratio"] = np.where(covered & np.isfinite(safe), new / safe, np.nan)
    out[YHAT] = np.where(covered, new, base)
    out["from_daily"] = covered.to_numpy()

    # Beyond the overlap: fade each series' last overlap ratio to 1.
    last = out[covered].sort_values(DS).groupby(UID).tail(1).set_index(UID)
    ratio = out[UID].map(last["_ratio"]).fillna(1.0).to_numpy()
    end = out[UID].map(last[DS]).to_numpy()
    gap = (out[DS].to_numpy() - end) / np.timedelta64(1, "D")
    w = np.clip(1.0 - np.nan_to_num(gap, nan=np.inf) / fade_days, 0.0, 1.0)
    scale = 1.0 + (ratio - 1.0) * w
    later = (~covered).to_numpy() & (np.nan_to_num(gap, nan=-1) > 0)
    for c in [YHAT, *bounds]:
        out[c] = np.where(later, out[c].to_numpy(dtype=float) * scale, out[c])
    out = out.drop(columns=["_fsum", "_fn", "_osum", "_on", "_ratio"])
    out[[YHAT, *bounds]] = out[[YHAT, *bounds]].round(6)
    return finish_forecast(out, level)

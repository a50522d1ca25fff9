"""Forecast accuracy: scaled errors, bias, interval coverage and quantile loss.

Point metrics are scale-free so that a hub with 5 contacts a day and one with 200 can be
averaged: MASE and RMSSE divide the errors by the in-sample error of a seasonal-naive forecast
(Hyndman & Koehler 2006; the M5 competition's RMSSE). Probabilistic metrics (coverage, pinball
loss) are in the units of the data [contacts/period].

:func:`evaluate` turns a backtest frame (:func:`mashdemand.forecast.backtest.cross_validation`)
into tables by series, by horizon and overall.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mashdemand.forecast.base import DS, UID, YHAT, Y

ArrayLike = npt.ArrayLike

CUTOFF, HORIZON, MODEL = "cutoff", "horizon", "model"
METRICS: tuple[str, ...] = ("mae", "mase", "rmsse", "bias", "rel_bias")


def _arr(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float).ravel()


def naive_scale(y_train: ArrayLike, m: int, power: int = 1) -> float:
    """In-sample mean absolute (``power=1``) or squared (``power=2``) seasonal-naive error.

    Parameters
    ----------
    y_train : array-like
        Training values in time order [contacts/period].
    m : int
        Seasonal period [periods]. Falls back to ``m=1`` when the series has fewer than
        ``m + 1`` values.
    power : {1, 2}
        1 for the MAE (MASE scale), 2 for the MSE (RMSSE scale).

    Returns
    -------
    float
        The scale [contacts/period] or [(contacts/period)^2]. Never zero: a series whose
        seasonal-naive errors are all zero falls back to the lag-1 errors, and a constant series
        to 1.0, so the scaled metric becomes the plain error in counts. NaN if fewer than two
        values.

    Examples
    --------
    >>> naive_scale([1, 2, 3, 4, 5, 6, 7, 8], m=1)
    1.0
    >>> naive_scale([1, 2, 3], m=7)  # too short for m=7: lag-1 errors
    1.0
    >>> naive_scale([4, 4, 4], m=1)  # constant: guarded
    1.0
    """
    y = _arr(y_train)
    y = y[~np.isnan(y)]
    if len(y) < 2:
        return float("nan")
    lags = [m, 1] if len(y) >= m + 1 and m > 1 else [1]
    for lag in lags:
        scale = float(np.mean(np.abs(y[lag:] - y[:-lag]) ** power))
        if scale > 0:
            return scale
    return 1.0


def mase(y: ArrayLike, yhat: ArrayLike, y_train: ArrayLike, m: int) -> float:
    """Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE.

    Parameters
    ----------
    y, yhat : array-like
        Actuals and point forecasts [contacts/period].
    y_train : array-like
        Training values in time order, for the scale (:func:`naive_scale`).
    m : int
        Seasonal period [periods].

    Returns
    -------
    float
        Dimensionless; below 1 beats the in-sample seasonal-naive forecast.

    Examples
    --------
    >>> mase([9, 10], [10, 10], [1, 2, 3, 4, 5, 6, 7, 8], m=1)
    0.5
    """
    e = _arr(y) - _arr(yhat)
    return float(np.mean(np.abs(e)) / naive_scale(y_train, m, power=1))


def rmsse(y: ArrayLike, yhat: ArrayLike, y_train: ArrayLike, m: int) -> float:
    """Root mean squared scaled error (M5): sqrt(MSE over the in-sample seasonal-naive MSE).

    Parameters
    ----------
    y, yhat : array-like
        Actuals and point forecasts [contacts/period].
    y_train : array-like
        Training values in time order, for the scale (:func:`naive_scale`, ``power=2``).
    m : int
        Seasonal period [periods].

    Returns
    -------
    float
        Dimensionless.

    Examples
    --------
    >>> round(rmsse([9, 10], [10, 10], [1, 2, 3, 4, 5, 6, 7, 8], m=1), 6)
    0.707107
    """
    e = _arr(y) - _arr(yhat)
    return float(np.sqrt(np.mean(e**2) / naive_scale(y_train, m, power=2)))


def bias(y: ArrayLike, yhat: ArrayLike) -> float:
    """Mean error ``mean(yhat - y)`` [contacts/period]; positive means over-forecasting.

    Examples
    --------
    >>> bias([9, 10], [10, 10])
    0.5
    """
    return float(np.mean(_arr(yhat) - _arr(y)))


def rel_bias(y: ArrayLike, yhat: ArrayLike) -> float:
    """Relative bias ``sum(yhat - y) / sum(y)`` (dimensionless; 0.1 = 10% too high).

    NaN when the actuals sum to zero.

    Examples
    --------
    >>> round(rel_bias([9, 10], [10, 10]), 6)
    0.052632
    """
    total = float(np.sum(_arr(y)))
    return float(np.sum(_arr(yhat) - _arr(y)) / total) if total != 0 else float("nan")


def coverage(y: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> float:
    """Share of actuals inside the closed interval ``[lo, hi]`` (0 to 1).

    Examples
    --------
    >>> coverage([9, 10], [9.5, 9.5], [11, 11])
    0.5
    """
    yy = _arr(y)
    return float(np.mean((yy >= _arr(lo)) & (yy <= _arr(hi))))


def pinball(y: ArrayLike, q_pred: ArrayLike, q: float) -> float:
    """Mean pinball (quantile) loss of the ``q`` quantile forecast [contacts/period].

    ``q * (y - q_pred)`` when the actual is above the forecast quantile, else
    ``(1 - q) * (q_pred - y)``.

    Examples
    --------
    >>> round(pinball([10], [9], 0.9), 6)
    0.9
    >>> round(pinball([10], [11], 0.9), 6)
    0.1
    """
    d = _arr(y) - _arr(q_pred)
    return float(np.mean(np.maximum(q * d, (q - 1) * d)))


def interval_score(y: ArrayLike, lo: ArrayLike, hi: ArrayLike, level: float) -> float:
    """Mean interval (Winkler) score of a central ``level``% interval [contacts/period].

    Width plus ``2 / alpha`` times the distance of each actual outside the interval
    (Gneiting & Raftery 2007), ``alpha = 1 - level / 100``. Lower is better.

    Examples
    --------
    >>> round(interval_score([9, 12], [9.5, 9.5], [11, 11], 80), 6)  # 1.5 + 10 * (0.5 + 1) / 2
    9.0
    """
    yy, lo_, hi_ = _arr(y), _arr(lo), _arr(hi)
    alpha = 1 - level / 100
    s = (hi_ - lo_) + 2 / alpha * ((lo_ - yy) * (yy < lo_) + (yy - hi_) * (yy > hi_))
    return float(np.mean(s))


def level_quantiles(levels: Sequence[int]) -> dict[float, str]:
    """The quantile each interval bound stands for: ``{0.1: 'lo80', 0.9: 'hi80', ...}``.

    Examples
    --------
    >>> level_quantiles([80])
    {0.1: 'lo80', 0.9: 'hi80'}
    """
    out: dict[float, str] = {}
    for lv in levels:
        a = (1 - lv / 100) / 2
        out[round(a, 6)] = f"lo{lv}"
        out[round(1 - a, 6)] = f"hi{lv}"
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class EvaluationResult:
    """Backtest accuracy tables (from :func:`evaluate`).

    Attributes
    ----------
    by_series : DataFrame
        One row per ``[model,] unique_id``.
    by_horizon : DataFrame
        One row per ``[model,] horizon`` (1 = the period after the cutoff), pooled over series.
    overall : DataFrame
        One row per model (a single row when the backtest has no ``model`` column).

    Each table has ``n`` (forecast points), ``mae`` [contacts/period], ``mase``, ``rmsse``
    (dimensionless), ``bias`` [contacts/period], ``rel_bias`` (dimensionless),
    ``coverage<L>`` (share, 0 to 1) for each level, and ``pinball`` [contacts/period]: the
    mean pinball loss over the interval quantiles (0.025, 0.1, 0.9, 0.975 for 80 and 95%).
    Pooled MASE / RMSSE average the per-point scaled errors, so each point weighs the same
    whatever its hub's size; pinball and MAE are in counts and dominated by large hubs.
    """

    by_series: pd.DataFrame
    by_horizon: pd.DataFrame
    overall: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready records (dates as ISO strings)."""
        return {
            "version": 1,
            **{
                name: getattr(self, name).to_dict(orient="records")
                for name in ("by_series", "by_horizon", "overall")
            },
        }


def _scales(cv: pd.DataFrame, train: pd.DataFrame, m: int) -> pd.DataFrame:
    """MAE and MSE seasonal-naive scales per ``unique_id`` (and ``cutoff``, from data <= it)."""
    keys = [UID, CUTOFF] if CUTOFF in cv.columns else [UID]
    pairs = cv[keys].drop_duplicates()
    groups = {uid: g.sort_values(DS) for uid, g in train.groupby(UID, sort=False)}
    rows = []
    for rec in pairs.itertuples(index=False):
        uid = rec[0]
        g = groups.get(uid)
        if g is None:
            s1 = s2 = float("nan")
        else:
            yv = g[Y].to_numpy(dtype=float)
            if len(keys) == 2:
                yv = yv[(g[DS] <= rec[1]).to_numpy()]
            s1, s2 = naive_scale(yv, m, 1), naive_scale(yv, m, 2)
        rows.append((*rec, s1, s2))
    return pd.DataFrame(rows, columns=[*keys, "_s1", "_s2"])


def _summarise(d: pd.DataFrame, by: list[str], levels: Sequence[int]) -> pd.DataFrame:
    qcols = level_quantiles(levels)
    y, yhat = d[Y].to_numpy(dtype=float), d[YHAT].to_numpy(dtype=float)
    err = yhat - y
    work = pd.DataFrame(
        {
            "n": 1.0,
            "mae": np.abs(err),
            "mase": np.abs(err) / d["_s1"].to_numpy(),
            "rmsse": err**2 / d["_s2"].to_numpy(),
            "bias": err,
            "_err": err,
            "_y": y,
        },
        index=d.index,
    )
    for lv in levels:
        lo, hi = d[f"lo{lv}"].to_numpy(dtype=float), d[f"hi{lv}"].to_numpy(dtype=float)
        work[f"coverage{lv}"] = ((y >= lo) & (y <= hi)).astype(float)
    pin = np.zeros(len(d))
    for q, col in qcols.items():
        diff = y - d[col].to_numpy(dtype=float)
        pin += np.maximum(q * diff, (q - 1) * diff)
    work["pinball"] = pin / max(len(qcols), 1)
    for col in by:
        work[col] = d[col].to_numpy()
    agg = {c: "mean" for c in work.columns if c not in by and c not in ("n", "_err", "_y")}
    agg.update({"n": "sum", "_err": "sum", "_y": "sum"})
    out = work.groupby(by, sort=True).agg(agg) if by else work.agg(agg).to_frame().T
    out["rmsse"] = np.sqrt(out["rmsse"])
    out["rel_bias"] = np.where(
        out["_y"] != 0, out["_err"] / out["_y"].where(out["_y"] != 0), np.nan
    )
    out["n"] = out["n"].astype(int)
    cols = ["n", *METRICS, *[f"coverage{lv}" for lv in levels], "pinball"]
    return out[cols].reset_index() if by else out[cols].reset_index(drop=True)


def evaluate(
    cv: pd.DataFrame, train: pd.DataFrame, m: int, levels: Sequence[int] = (80, 95)
) -> EvaluationResult:
    """Score a backtest by series, by horizon and overall.

    Parameters
    ----------
    cv : DataFrame
        Backtest frame: ``unique_id, ds, y, yhat, lo<L>, hi<L>`` and normally ``cutoff,
        horizon`` and ``model`` (:func:`~mashdemand.forecast.backtest.cross_validation`).
        Several models may be stacked with a ``model`` column.
    train : DataFrame
        ``unique_id, ds, y`` history for the MASE / RMSSE scales. With a ``cutoff`` column in
        ``cv`` each window is scaled by the history up to its own cutoff, so the scale never
        uses data the forecast could not have seen.
    m : int
        Seasonal period for the scales [periods].
    levels : sequence of int
        Interval levels [%] whose ``lo<L>, hi<L>`` columns are scored.

    Returns
    -------
    EvaluationResult
        See its docstring for the columns.

    Examples
    --------
    >>> cv = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2024-01-09", "2024-01-10"]),
    ...     "horizon": [1, 2], "y": [9.0, 10.0], "yhat": [10.0, 10.0], "lo80": 9.5, "hi80": 11.0,
    ...     "lo95": 9.0, "hi95": 12.0})
    >>> train = pd.DataFrame({"unique_id": "a", "y": range(1, 9),
    ...     "ds": pd.date_range("2024-01-01", periods=8)})
    >>> evaluate(cv, train, m=1, levels=(80, 95)).overall[["mase", "bias", "coverage80"]]
       mase  bias  coverage80
    0   0.5   0.5         0.5
    """
    missing = [c for c in (UID, Y, YHAT) if c not in cv.columns]
    missing += [f"{s}{lv}" for lv in levels for s in ("lo", "hi") if f"{s}{lv}" not in cv.columns]
    if missing:
        raise ValueError(
            f"backtest frame: missing column(s) {', '.join(missing)}; found {', '.join(cv.columns)}"
        )
    scales = _scales(cv, train, m)
    keys = [c for c in (UID, CUTOFF) if c in scales.columns]
    d = cv.merge(scales, on=keys, how="left")
    model = [MODEL] if MODEL in d.columns else []
    by_h = [*model, HORIZON] if HORIZON in d.columns else model
    return EvaluationResult(
        by_series=_summarise(d, [*model, UID], levels),
        by_horizon=_summarise(d, by_h, levels),
        overall=_summarise(d, model, levels),
    )

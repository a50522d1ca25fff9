"""Forecast accuracy: scaled errors, bias, interval coverage and quantile loss.

Point metrics are scale-free so that a hub with 5 contacts a day and one with 200 can be
averaged: MASE and RMSSE divide the errors by the in-sample error of a seasonal-naive forecast
(Hyndman & Koehler 2006; the M5 competition's RMSSE). Probabilistic metrics (coverage, pinball
loss) are in the units of the data [contacts/period].

:func:`evaluate` turns a backtest frame (:func:`mashdemand.forecast.backtest.cross_validation`)
into tables by series, by horizon and overall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    return naive_scales(y_train, m, (power,))[0]


def naive_scales(y_train: ArrayLike, m: int, powers: Sequence[int] = (1, 2)) -> list[float]:
    """:func:`naive_scale` for each of ``powers``, from one pass over the differences.

    Examples
    --------
    >>> naive_scales([10, 20, 12, 22, 14, 24], m=2)
    [2.0, 4.0]
    """
    y = _arr(y_train)
    y = y[~np.isnan(y)]
    if len(y) < 2:
        return [float("nan")] * len(powers)
    lags = [m, 1] if len(y) >= m + 1 and m > 1 else [1]
    diffs = [np.abs(y[lag:] - y[:-lag]) for lag in lags]
    out = []
    for power in powers:
        scales = (float(np.mean(d**power)) for d in diffs)
        out.append(next((sc for sc in scales if sc > 0), 1.0))
    return out


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


def level_quantiles(level: Sequence[int]) -> dict[float, str]:
    """The quantile each interval bound stands for: ``{0.1: 'lo80', 0.9: 'hi80', ...}``.

    Examples
    --------
    >>> level_quantiles([80])
    {0.1: 'lo80', 0.9: 'hi80'}
    """
    out: dict[float, str] = {}
    for lv in level:
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


def series_history(train: pd.DataFrame) -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """Each series' dates and values in date order, keyed by ``unique_id``.

    Examples
    --------
    >>> t = pd.DataFrame({"unique_id": ["a", "b", "a"], "ds": [2, 1, 1], "y": [5.0, 6.0, 7.0]})
    >>> {k: v[1].tolist() for k, v in series_history(t).items()}
    {'a': [7.0, 5.0], 'b': [6.0]}
    """
    code, ids = pd.factorize(train[UID].to_numpy())
    ds, y = train[DS].to_numpy(), train[Y].to_numpy(dtype=float)
    order = np.lexsort((ds, code))
    bounds = np.searchsorted(code[order], np.arange(len(ids) + 1))
    return {
        uid: (ds[order[lo:hi]], y[order[lo:hi]])
        for uid, lo, hi in zip(ids, bounds[:-1], bounds[1:], strict=True)
    }


def row_scales(
    cv: pd.DataFrame,
    train: pd.DataFrame,
    m: int,
    history: Mapping[Any, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal-naive MAE and MSE scales (:func:`naive_scale`) of each row of a backtest.

    Each ``unique_id`` (and ``cutoff``) is scaled by its history in ``train`` (up to the
    cutoff, so never by data its forecast could not have seen); each pair's scales are
    computed once and spread over its rows.

    Parameters
    ----------
    cv : DataFrame
        ``unique_id [, cutoff]`` backtest rows.
    train : DataFrame
        ``unique_id, ds, y`` history.
    m : int
        Seasonal period [periods].
    history : mapping, optional
        ``train`` as :func:`series_history` lays it out, when several backtests are scaled
        by the same history.

    Returns
    -------
    tuple of ndarray
        MAE scale [contacts/period] and MSE scale [(contacts/period)^2] per row of ``cv``;
        NaN for a series without (enough) history.

    Examples
    --------
    >>> train = pd.DataFrame({"unique_id": "a", "ds": range(1, 7), "y": [1.0, 2, 4, 7, 8, 8]})
    >>> cv = pd.DataFrame({"unique_id": ["a", "a", "b"], "cutoff": [3, 6, 6]})
    >>> [s.tolist() for s in row_scales(cv, train, m=1)]
    [[1.5, 1.4, nan], [2.5, 3.0, nan]]
    """
    history = series_history(train) if history is None else history
    return _row_scales(cv, pd.factorize(cv[UID].to_numpy(), sort=True), history, m)


def _row_scales(
    cv: pd.DataFrame,
    uids: tuple[np.ndarray, np.ndarray],
    history: Mapping[Any, tuple[np.ndarray, np.ndarray]],
    m: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`row_scales` with ``cv``'s ``unique_id`` factorised (codes, values)."""
    code, values = uids
    by_cutoff = CUTOFF in cv.columns
    if by_cutoff:
        cut_code, cuts = pd.factorize(cv[CUTOFF].to_numpy())
    else:
        cut_code, cuts = np.zeros(len(cv), dtype=np.int64), np.array([None])
    pair = np.where((code < 0) | (cut_code < 0), -1, code * len(cuts) + cut_code)
    pairs, at = np.unique(pair, return_inverse=True)
    scales = np.full((len(pairs), 2), np.nan)
    for i, p in enumerate(pairs):
        uid, cut = divmod(p, len(cuts))
        if p < 0 or values[uid] not in history:
            continue
        ds, yv = history[values[uid]]
        if by_cutoff:
            yv = yv[: np.searchsorted(ds, cuts[cut], side="right")]
        scales[i] = naive_scales(yv, m)
    return scales[at, 0], scales[at, 1]


def pointwise(
    cv: pd.DataFrame, s1: np.ndarray, s2: np.ndarray, level: Sequence[int]
) -> dict[str, np.ndarray]:
    """Each backtest row's value of every metric, before averaging.

    Parameters
    ----------
    cv : DataFrame
        ``y, yhat, lo<L>, hi<L>`` rows.
    s1, s2 : ndarray
        The rows' MAE and MSE scales (:func:`row_scales`).
    level : sequence of int
        Interval levels [%] scored.

    Returns
    -------
    dict of str to ndarray
        ``n`` (1), ``mae``, ``mase``, ``rmsse`` (the squared scaled error: the root is taken
        after the mean), ``bias``, ``coverage<L>``, ``pinball`` (mean over the interval
        quantiles), and ``_err``, ``_y`` (summed for ``rel_bias``).

    Examples
    --------
    >>> cv = pd.DataFrame({"y": [9.0, 12.0], "yhat": 10.0, "lo80": 9.5, "hi80": 11.0})
    >>> rows = pointwise(cv, np.array([2.0, 2.0]), np.array([4.0, 4.0]), (80,))
    >>> rows["mase"].tolist(), rows["rmsse"].tolist(), rows["coverage80"].tolist()
    ([0.5, 1.0], [0.25, 1.0], [0.0, 0.0])
    """
    y, yhat = cv[Y].to_numpy(dtype=float), cv[YHAT].to_numpy(dtype=float)
    err = yhat - y
    out = {
        "n": np.ones(len(y)),
        "mae": np.abs(err),
        "mase": np.abs(err) / s1,
        "rmsse": err**2 / s2,
        "bias": err,
        "_err": err,
        "_y": y,
    }
    for lv in level:
        lo, hi = cv[f"lo{lv}"].to_numpy(dtype=float), cv[f"hi{lv}"].to_numpy(dtype=float)
        out[f"coverage{lv}"] = ((y >= lo) & (y <= hi)).astype(float)
    qcols = level_quantiles(level)
    pin = np.zeros(len(y))
    for q, col in qcols.items():
        diff = y - cv[col].to_numpy(dtype=float)
        pin += np.maximum(q * diff, (q - 1) * diff)
    out["pinball"] = pin / max(len(qcols), 1)
    return out


_SUMMED = ("n", "_err", "_y")


def _key_codes(
    codes: dict[str, tuple[np.ndarray, np.ndarray]], by: Sequence[str]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each row's group of the ``by`` columns (factorised in ``codes``), numbered in sorted
    key order (-1: a key is missing, as groupby leaves such rows out), and each column's
    sorted values."""
    code = np.zeros(len(codes[by[0]][0]), dtype=np.int64)
    for col in by:
        c, values = codes[col]
        code = np.where((code < 0) | (c < 0), -1, code * len(values) + c)
    return code, [np.asarray(codes[col][1]) for col in by]


def _summarise(
    rows: dict[str, np.ndarray],
    codes: dict[str, tuple[np.ndarray, np.ndarray]],
    by: list[str],
    level: Sequence[int],
) -> pd.DataFrame:
    """Means of the pointwise metrics ``rows`` (:func:`pointwise`) by the ``by`` columns
    (factorised in ``codes``), or over all rows when ``by`` is empty; ``n`` and ``rel_bias``
    from sums.

    The sums are pandas' (compensated within groups, as a groupby sums; pairwise over all
    rows, as a Series sums), so the tables are those a groupby on the columns gives.
    """
    names = list(rows)
    keys: dict[str, np.ndarray] = {}
    if by:
        code, uniques = _key_codes(codes, by)
        keep = code >= 0
        matrix = np.column_stack(list(rows.values()))
        if not keep.all():
            code, matrix = code[keep], matrix[keep]
        sums = pd.DataFrame(matrix).groupby(code, sort=True).sum()
        groups = sums.index.to_numpy()
        at = np.searchsorted(groups, code)
        size = np.bincount(at, minlength=len(groups))
        nobs = np.column_stack(
            [
                size if seen.all() else np.bincount(at[seen], minlength=len(groups))
                for seen in ~np.isnan(matrix.T)
            ]
        )
        totals = sums.to_numpy()
        for col, values in zip(reversed(by), reversed(uniques), strict=True):
            keys = {col: values[groups % len(values)], **keys}
            groups = groups // len(values)
    else:
        totals = np.array([[np.where(np.isnan(x), 0.0, x).sum() for x in rows.values()]])
        nobs = np.array([[np.count_nonzero(~np.isnan(x)) for x in rows.values()]])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(nobs > 0, totals / nobs, np.nan)
    agg = {c: totals[:, j] if c in _SUMMED else mean[:, j] for j, c in enumerate(names)}
    agg["rmsse"] = np.sqrt(agg["rmsse"])
    y_sum = np.where(agg["_y"] != 0, agg["_y"], np.nan)
    agg["rel_bias"] = np.where(agg["_y"] != 0, agg["_err"] / y_sum, np.nan)
    agg["n"] = agg["n"].astype(int)
    cols = ["n", *METRICS, *[f"coverage{lv}" for lv in level], "pinball"]
    return pd.DataFrame({**keys, **{c: agg[c] for c in cols}})


def check_backtest(cv: pd.DataFrame, level: Sequence[int]) -> None:
    """Raise ValueError naming the columns :func:`evaluate` needs that ``cv`` lacks."""
    missing = [c for c in (UID, Y, YHAT) if c not in cv.columns]
    missing += [f"{s}{lv}" for lv in level for s in ("lo", "hi") if f"{s}{lv}" not in cv.columns]
    if missing:
        raise ValueError(
            f"backtest frame: missing column(s) {', '.join(missing)}; found {', '.join(cv.columns)}"
        )


def evaluate(
    cv: pd.DataFrame, train: pd.DataFrame, m: int, level: Sequence[int] = (80, 95)
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
    level : sequence of int
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
    >>> evaluate(cv, train, m=1, level=(80, 95)).overall[["mase", "bias", "coverage80"]]
       mase  bias  coverage80
    0   0.5   0.5         0.5
    """
    check_backtest(cv, level)
    codes = {
        c: pd.factorize(cv[c].to_numpy(), sort=True)
        for c in (MODEL, UID, HORIZON)
        if c in cv.columns
    }
    rows = pointwise(cv, *_row_scales(cv, codes[UID], series_history(train), m), level)
    model = [MODEL] if MODEL in cv.columns else []
    by_h = [*model, HORIZON] if HORIZON in cv.columns else model
    return EvaluationResult(
        by_series=_summarise(rows, codes, [*model, UID], level),
        by_horizon=_summarise(rows, codes, by_h, level),
        overall=_summarise(rows, codes, model, level),
    )

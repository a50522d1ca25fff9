"""Per-series weighted ensembles chosen on the backtest.

For each series the ``top_k`` models by backtest accuracy are kept and weighted by the inverse
of their error (a model with half the MASE gets twice the weight), a simple, robust combination
that rarely does worse than the best single model (Kolassa 2011; the M4 findings). Intervals
are averaged with the same weights; they are not calibrated, so pass the ensemble through
:class:`~mashdemand.forecast.intervals.ConformalCalibrator` afterwards.

The best model a quarter ahead is not always the best a year ahead (a seasonal naive copies
last year's level; a smooth trend model does not), so weights can be chosen per horizon bucket
(:data:`WEIGHT_EDGES`: days 1-91, 92-365, 366-730) from the backtest errors at those horizons,
and each forecast period is combined with its bucket's weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from mashdemand.forecast.base import DS, UID, YHAT, Y, finish_forecast
from mashdemand.forecast.metrics import (
    CUTOFF,
    HORIZON,
    MODEL,
    check_backtest,
    pointwise,
    row_scales,
    series_history,
)

WEIGHT = "weight"
ENSEMBLE = "Ensemble"
H_MIN, H_MAX = "h_min", "h_max"
#: Last horizons [periods] of the weighting buckets per period (None: one set of weights).
#: Coarser than the interval buckets: a bucket needs enough backtest points per series to rank
#: the models.
WEIGHT_EDGES: dict[str, tuple[int, ...] | None] = {
    "day": (91, 365, 730),
    "week": (13, 52, 104),
    "month": (12, 24),
    "quarter": (4, 8),
    "year": None,
    "fy": None,
}
_LOWER_IS_BETTER = ("mase", "rmsse", "mae", "pinball")


def _interval_cols(f: pd.DataFrame) -> list[str]:
    return [c for c in f.columns if (c.startswith("lo") or c.startswith("hi")) and c[2:].isdigit()]


SHRINK = 30.0
"""Backtest points' worth of pooled evidence each series' model scores are shrunk towards."""


def inverse_weights(scores: np.ndarray) -> np.ndarray:
    """Normalised inverse-score weights; zero scores (perfect models) share all the weight.

    Examples
    --------
    >>> inverse_weights(np.array([0.5, 1.0])).round(4).tolist()
    [0.6667, 0.3333]
    >>> inverse_weights(np.array([0.0, 1.0])).tolist()
    [1.0, 0.0]
    """
    s = np.asarray(scores, dtype=float)
    w = (s == 0).astype(float) if np.any(s == 0) else 1.0 / s
    return w / w.sum()


class _Rows(NamedTuple):
    """One model's backtest rows, reduced once to what ranking the models needs.

    Attributes
    ----------
    uid : ndarray of int
        Each row's series as a position in the sorted series ids (-1: no id).
    err : ndarray of float
        Each row's value of the ranking metric before averaging
        (:func:`~mashdemand.forecast.metrics.pointwise`).
    horizon : ndarray of int or None
        Each row's horizon [periods] (None without a ``horizon`` column).
    """

    uid: np.ndarray
    err: np.ndarray
    horizon: np.ndarray | None


def _check_ranking(metric: str, top_k: int) -> None:
    if metric not in _LOWER_IS_BETTER:
        raise ValueError(f"metric must be one of {', '.join(_LOWER_IS_BETTER)}; got {metric!r}")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1; got {top_k}")


def _model_rows(
    cv_by_model: Mapping[str, pd.DataFrame], train: pd.DataFrame, m: int, metric: str
) -> tuple[np.ndarray, dict[str, _Rows]]:
    """The sorted series ids of all backtests and each model's :class:`_Rows`.

    Each row's error is scaled once by its own window's history (up to its cutoff), so any
    subset of the rows (earlier windows, a horizon bucket) is scored as
    :func:`~mashdemand.forecast.metrics.evaluate` would score it alone.
    """
    frames = list(cv_by_model.values())
    for cv in frames:
        check_backtest(cv, _levels(cv))
    codes, ids = pd.factorize(
        np.concatenate([cv[UID].to_numpy() for cv in frames]), sort=True, use_na_sentinel=True
    )
    ends = np.cumsum([len(cv) for cv in frames])
    history = series_history(train)
    rows = {}
    for (name, cv), uid in zip(cv_by_model.items(), np.split(codes, ends[:-1]), strict=True):
        err = pointwise(cv, *row_scales(cv, train, m, history), _levels(cv))[metric]
        hz = cv[HORIZON].to_numpy(dtype=int) if HORIZON in cv.columns else None
        rows[name] = _Rows(uid, err, hz)
    return np.asarray(ids), rows


def _series_scores(
    rows: Sequence[_Rows],
    take: Sequence[np.ndarray | slice],
    n_ids: int,
    metric: str,
    shrink: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each model's score per series on the rows ``take`` selects, shrunk towards its pooled
    score (see :func:`select_weights`).

    Returns
    -------
    tuple of ndarray
        Series position, model position (in ``rows``) and score of every series a model has
        rows for; NaN where its rows have no score.
    """
    keys, values, counts, pooled = [], [], [], []
    for j, (r, t) in enumerate(zip(rows, take, strict=True)):
        uid, err = r.uid[t], r.err[t]
        named = uid >= 0
        keys.append(uid[named] + j * n_ids)
        values.append(err[named])
        counts.append(np.bincount(uid[named], minlength=n_ids))
        pooled.append(float(pd.Series(err, dtype=float).mean()))
    n = np.concatenate(counts)
    mean = np.full(len(n), np.nan)
    by_series = pd.Series(np.concatenate(values)).groupby(np.concatenate(keys)).mean()
    mean[by_series.index.to_numpy()] = by_series.to_numpy()
    if metric == "rmsse":
        mean, pooled = np.sqrt(mean), list(np.sqrt(pooled))
    for j, p in enumerate(pooled):
        own = slice(j * n_ids, (j + 1) * n_ids)
        if shrink > 0 and np.count_nonzero(n[own]) > 1:
            mean[own] = (n[own] * mean[own] + shrink * p) / (n[own] + shrink)
    scored = np.flatnonzero(n > 0)
    return scored % n_ids, scored // n_ids, mean[scored]


def _rank(
    uid: np.ndarray, model: np.ndarray, score: np.ndarray, top_k: int, max_ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each series' ``top_k`` models by score (ties by ``model``), those within ``max_ratio``
    of its best, weighted by :func:`inverse_weights`: ``(uid, model, weight)`` sorted by
    series and score."""
    ok = ~np.isnan(score)
    order = np.lexsort((model[ok], score[ok], uid[ok]))
    uid, model, score = uid[ok][order], model[ok][order], score[ok][order]
    bounds = _runs(uid)
    first = np.repeat(bounds[:-1], np.diff(bounds))  # each row's series' first (best) row
    keep = np.arange(len(uid)) - first < top_k
    if np.isfinite(max_ratio):
        keep &= score <= max_ratio * score[first] + 1e-12
    uid, model, score = uid[keep], model[keep], score[keep]
    weight = np.empty(len(score))
    bounds = _runs(uid)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        weight[lo:hi] = inverse_weights(score[lo:hi])
    return uid, model, weight


def _runs(ordered: np.ndarray) -> np.ndarray:
    """Bounds of the runs of equal values in ``ordered``: run ``i`` is ``[b[i], b[i + 1])``.

    >>> _runs(np.array([3, 3, 5, 7, 7])).tolist()
    [0, 2, 3, 5]
    """
    if len(ordered) == 0:
        return np.zeros(1, dtype=int)
    return np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, len(ordered)]


def _weights(
    ids: np.ndarray,
    rows: Mapping[str, _Rows],
    take: Mapping[str, np.ndarray] | None,
    top_k: int,
    metric: str,
    max_ratio: float,
    shrink: float,
) -> pd.DataFrame:
    """:func:`select_weights` (one set) from the models' rows that ``take`` selects."""
    names = list(rows)
    chosen = [take[k] if take is not None else slice(None) for k in names]
    uid, model, score = _series_scores(list(rows.values()), chosen, len(ids), metric, shrink)
    by_name = np.argsort(np.argsort(np.array(names, dtype=object)))  # model order when tied
    uid, model, weight = _rank(uid, by_name[model], score, top_k, max_ratio)
    labels = np.array(sorted(names), dtype=object)
    return pd.DataFrame({UID: ids[uid], MODEL: labels[model], WEIGHT: weight})


def _bucket_weights(
    ids: np.ndarray,
    rows: Mapping[str, _Rows],
    take: Mapping[str, np.ndarray] | None,
    edges: Sequence[int],
    top_k: int,
    metric: str,
    max_ratio: float,
    shrink: float,
) -> pd.DataFrame:
    """:func:`_weights` on each horizon bucket of the selected rows; ``h_min, h_max`` added."""
    if any(r.horizon is None for r in rows.values()):
        raise ValueError("select_weights: weights per horizon bucket need a horizon column")
    every = {
        k: np.ones(len(r.err), dtype=bool) if take is None else take[k] for k, r in rows.items()
    }
    reached = np.concatenate([r.horizon[every[k]] for k, r in rows.items()])
    parts = []
    for lo, hi in horizon_buckets(reached, edges):
        sub = {k: every[k] & (r.horizon >= lo) & (r.horizon <= hi) for k, r in rows.items()}
        w = _weights(ids, rows, sub, top_k, metric, max_ratio, shrink)
        parts.append(w.assign(**{H_MIN: lo, H_MAX: hi}))
    return pd.concat(parts, ignore_index=True)


def select_weights(
    cv_by_model: Mapping[str, pd.DataFrame],
    train: pd.DataFrame,
    m: int,
    top_k: int = 3,
    metric: str = "mase",
    max_ratio: float = 1.2,
    shrink: float = SHRINK,
    edges: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Per-series ensemble weights from backtest accuracy (per horizon bucket with ``edges``).

    Parameters
    ----------
    cv_by_model : mapping of str to DataFrame
        Backtest frame of each model (:func:`~mashdemand.forecast.backtest.cross_validation`),
        keyed by model name.
    train : DataFrame
        ``unique_id, ds, y`` history (for the MASE / RMSSE scales).
    m : int
        Seasonal period [periods].
    top_k : int
        Models kept per series.
    metric : {"mase", "rmsse", "mae", "pinball"}
        Error used to rank and weight (lower is better).
    max_ratio : float
        Models whose error exceeds ``max_ratio`` times the series' best are left out: averaging
        in a clearly worse model costs accuracy (a combination helps among near-equals).

    Returns
    -------
    DataFrame
        ``unique_id, model, weight``: for each series its ``top_k`` models (fewer if fewer
        were scored), weights proportional to ``1 / metric`` and summing to 1. Models with
        a missing score for a series are left out for it.
    shrink : float
        Each series' score is shrunk towards the model's score pooled over all series:
        ``(n * own + shrink * pooled) / (n + shrink)`` with ``n`` the series' backtest points.
        Short series (a few annual points per area) then lean on what every area shows,
        long ones on their own record; 0 turns pooling off.
    edges : sequence of int, optional
        Last horizons [periods] of weighting buckets (:data:`WEIGHT_EDGES`): each bucket the
        backtest reaches gets its own weights from the errors at its horizons, and the result
        gains ``h_min, h_max`` columns (the last bucket ends at the largest horizon scored).
        None: one set of weights from every horizon.
    """
    if edges is not None and not any(len(cv) for cv in cv_by_model.values()):
        raise ValueError("select_weights: no backtest rows")
    _check_ranking(metric, top_k)
    if not cv_by_model:
        raise ValueError("select_weights: no models given")
    ids, rows = _model_rows(cv_by_model, train, m, metric)
    if edges is not None:
        return _bucket_weights(ids, rows, None, edges, top_k, metric, max_ratio, shrink)
    return _weights(ids, rows, None, top_k, metric, max_ratio, shrink)


def horizon_buckets(horizons: np.ndarray, edges: Sequence[int]) -> list[tuple[int, int]]:
    """``(h_min, h_max)`` of each bucket of ``edges`` that ``horizons`` reach; the last one
    ends at the largest horizon. An edge splits only when the horizons beyond it span a
    quarter of the bucket before it (a sliver of a bucket cannot rank the models).

    Examples
    --------
    >>> horizon_buckets(np.arange(1, 201), (91, 365, 730))
    [(1, 91), (92, 200)]
    >>> horizon_buckets(np.arange(1, 93), (91, 365, 730))  # day 92 alone: no bucket of its own
    [(1, 92)]
    """
    hz = np.asarray(horizons, dtype=int)
    lo, last = int(hz.min()), int(hz.max())
    out = []
    for e in [*(e for e in edges if lo <= e < last), last]:
        if e < last and last - e < (e - lo + 1) / 4:
            continue
        if ((hz >= lo) & (hz <= e)).any():
            out.append((lo, int(e)))
        lo = int(e) + 1
    return out


def _levels(f: pd.DataFrame) -> tuple[int, ...]:
    return tuple(sorted({int(c[2:]) for c in _interval_cols(f)}))


def _row_weights(
    keys: pd.DataFrame, model: np.ndarray, names: Sequence[str], weights: pd.DataFrame
) -> np.ndarray:
    """Weight of each stacked forecast row (``keys``: its ``unique_id, ds [, cutoff,
    horizon]``; ``model``: its position in ``names``).

    By series and model, and by the bucket of each row's horizon when ``weights`` has buckets
    (the nearest bucket when the row's horizon falls in none: beyond the backtest, or a bucket
    the backtest could not score). Models without a weight get 0; a series (in a bucket)
    without any weights, 1 for every model. ``weights`` holds one row per series, model (and
    bucket).
    """
    if weights.empty:
        return np.ones(len(keys))
    series = pd.Index(weights[UID].unique())
    u = series.get_indexer(keys[UID])
    wu = series.get_indexer(weights[UID])
    models = pd.Index(weights[MODEL].unique())
    mo = models.get_indexer(pd.Index(list(names)))[model]
    wm = models.get_indexer(weights[MODEL])
    if H_MAX in weights.columns:
        if HORIZON in keys.columns:
            hz = keys[HORIZON].to_numpy(dtype=int)
        else:
            group = [c for c in (UID, CUTOFF) if c in keys.columns]
            hz = keys.groupby(group)[DS].rank(method="dense").to_numpy(dtype=int)
        buckets = weights[[H_MIN, H_MAX]].drop_duplicates().sort_values(H_MAX)
        lo, hi = buckets[H_MIN].to_numpy(), buckets[H_MAX].to_numpy()
        inside = (hz[:, None] >= lo) & (hz[:, None] <= hi)
        nearest = np.abs(hz[:, None] - ((lo + hi) / 2)[None, :]).argmin(axis=1)
        pick = np.where(inside.any(axis=1), inside.argmax(axis=1), nearest)
        ends = pd.Index(pd.unique(hi))
        b, wb = ends.get_indexer(hi[pick]), ends.get_indexer(weights[H_MAX])
    else:
        ends = pd.Index([0])
        b, wb = np.zeros(len(keys), dtype=int), np.zeros(len(weights), dtype=int)
    table = np.full((len(series), len(models), len(ends)), np.nan)
    table[wu, wm, wb] = weights[WEIGHT].to_numpy(dtype=float)
    known = np.zeros((len(series), len(ends)), dtype=bool)
    known[wu, wb] = True
    has = (u >= 0) & known[u, b]
    w = np.where(has & (mo >= 0), table[u, np.maximum(mo, 0), b], np.nan)
    return np.where(has, np.nan_to_num(w, nan=0.0), 1.0)


def combine(
    forecasts: Mapping[str, pd.DataFrame], weights: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Weighted combination of model forecasts, per series.

    Parameters
    ----------
    forecasts : mapping of str to DataFrame
        Forecast (or backtest) frame of each model, keyed by the names used in ``weights``.
    weights : DataFrame, optional
        ``unique_id, model, weight`` (:func:`select_weights`), optionally per horizon bucket
        (``h_min, h_max``): each row then takes its bucket's weights by its ``horizon`` (or its
        rank of ``ds`` within the series and cutoff), the nearest bucket's beyond them. Series
        without weights, or all series when None, get equal weights over the models that
        forecast them. Weights are renormalised over the models present at each
        ``unique_id, ds`` (and ``cutoff``).

    Returns
    -------
    DataFrame
        ``unique_id, ds [, cutoff, horizon, y], yhat, lo<L>, hi<L> ..., model`` with
        ``model = "Ensemble"``: weighted ``yhat`` [contacts/period] and weighted interval bounds
        (made ordered by :func:`~mashdemand.forecast.base.finish_forecast`). The bounds are a
        heuristic, not quantiles of the mixture: recalibrate them.

    Examples
    --------
    >>> a = pd.DataFrame({"unique_id": "x", "ds": [1], "yhat": [10.0]})
    >>> b = pd.DataFrame({"unique_id": "x", "ds": [1], "yhat": [20.0]})
    >>> w = pd.DataFrame({"unique_id": ["x", "x"], "model": ["a", "b"], "weight": [0.75, 0.25]})
    >>> combine({"a": a, "b": b}, w)[["unique_id", "yhat"]].to_dict("records")
    [{'unique_id': 'x', 'yhat': 12.5}]
    """
    if not forecasts:
        raise ValueError("combine: no forecasts given")
    frames = list(forecasts.values())
    first = frames[0]
    keys = [c for c in (UID, DS, CUTOFF, HORIZON) if c in first.columns]
    ivals = [c for c in _interval_cols(first) if all(c in f.columns for f in frames)]
    values = [YHAT, *ivals]
    stacked = pd.concat([f[keys] for f in frames], ignore_index=True)
    model = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    # Groups numbered in key order; a row with a missing key is in none (as in groupby).
    numbered = stacked.groupby(keys, sort=True).ngroup().to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isnan(numbered))
    group = numbered[rows].astype(int)
    if weights is None:
        w = np.ones(len(rows))
    else:
        w = _row_weights(stacked.iloc[rows], model[rows], list(forecasts), weights)
        rows, group, w = rows[w > 0], group[w > 0], w[w > 0]
    kept, first_row, at = np.unique(group, return_index=True, return_inverse=True)
    wsum = pd.Series(w).groupby(group).sum().to_numpy()
    vals = np.concatenate([f[values].to_numpy(dtype=float) for f in frames])[rows]
    summed = pd.DataFrame(vals * (w / wsum[at])[:, None]).groupby(group).sum()
    out = stacked.iloc[rows[first_row]].reset_index(drop=True)
    if Y in first.columns:
        # The actuals of the first forecast (in model order) with each key.
        actual = np.concatenate([f[Y].to_numpy() for f in frames])
        _, earliest = np.unique(numbered, return_index=True)
        out[Y] = actual[earliest[kept]]
    out[values] = summed.to_numpy()
    out[MODEL] = ENSEMBLE
    return finish_forecast(out, sorted({int(c[2:]) for c in ivals})) if ivals else out


def combine_cv(
    cv_by_model: Mapping[str, pd.DataFrame],
    train: pd.DataFrame,
    m: int,
    top_k: int = 3,
    metric: str = "mase",
    max_ratio: float = 1.2,
    edges: Sequence[int] | None = None,
) -> pd.DataFrame:
    """An honest backtest of the ensemble itself.

    Weights for the window at cutoff ``c`` are chosen (:func:`select_weights`) only on errors
    that were known at ``c``: the earlier windows' forecasts for periods on or before ``c``
    (windows may overlap, so an earlier window counts with the part of it that had happened).
    The first window has nothing earlier and is dropped. The MASE scales likewise use history
    up to each window's cutoff.

    Parameters
    ----------
    cv_by_model : mapping of str to DataFrame
        Backtest frames of each model, over the same cutoffs.
    train, m, top_k, metric, max_ratio, edges
        As for :func:`select_weights`. With ``edges``, a bucket no earlier error reaches by
        ``c`` takes the nearest scored bucket's weights.

    Returns
    -------
    DataFrame
        A backtest frame like the inputs' with ``model = "Ensemble"``, for the windows that
        had earlier errors to learn from (empty if none did).
    """
    cuts = sorted(set().union(*(set(cv[CUTOFF].unique()) for cv in cv_by_model.values())))
    _check_ranking(metric, top_k)
    ids, rows = _model_rows(cv_by_model, train, m, metric)
    cut = {k: cv[CUTOFF].to_numpy() for k, cv in cv_by_model.items()}
    day = {k: cv[DS].to_numpy() for k, cv in cv_by_model.items()}
    parts = []
    for c in cuts:
        past = {k: (cut[k] < c) & (day[k] <= c) for k in cv_by_model}
        if not any(p.any() for p in past.values()):
            continue
        if edges is not None:
            w = _bucket_weights(ids, rows, past, edges, top_k, metric, max_ratio, SHRINK)
        else:
            w = _weights(ids, rows, past, top_k, metric, max_ratio, SHRINK)
        now = {k: cv[cut[k] == c] for k, cv in cv_by_model.items()}
        parts.append(combine(now, w))
    if not parts:
        return pd.DataFrame(columns=next(iter(cv_by_model.values())).columns)
    return pd.concat(parts, ignore_index=True)

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

import numpy as np
import pandas as pd

from mashdemand.forecast.base import DS, UID, YHAT, Y, finish_forecast
from mashdemand.forecast.metrics import CUTOFF, HORIZON, MODEL, evaluate

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
    if edges is not None:
        return _weights_by_bucket(cv_by_model, edges, train, m, top_k, metric, max_ratio, shrink)
    if metric not in _LOWER_IS_BETTER:
        raise ValueError(f"metric must be one of {', '.join(_LOWER_IS_BETTER)}; got {metric!r}")
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1; got {top_k}")
    scored = []
    for name, cv in cv_by_model.items():
        s = evaluate(cv.drop(columns=MODEL, errors="ignore"), train, m, levels=_levels(cv))
        own = s.by_series[[UID, "n", metric]].assign(**{MODEL: name})
        if shrink > 0 and len(own) > 1:
            pooled = float(s.overall[metric].iloc[0])
            own[metric] = (own["n"] * own[metric] + shrink * pooled) / (own["n"] + shrink)
        scored.append(own[[UID, metric, MODEL]])
    if not scored:
        raise ValueError("select_weights: no models given")
    s = pd.concat(scored, ignore_index=True).dropna(subset=[metric])
    s = s.sort_values([UID, metric, MODEL], kind="stable")
    s = s.groupby(UID, sort=True).head(top_k)
    if np.isfinite(max_ratio):
        best = s.groupby(UID)[metric].transform("min")
        s = s[s[metric] <= max_ratio * best + 1e-12]
    s[WEIGHT] = s.groupby(UID)[metric].transform(lambda x: inverse_weights(x.to_numpy()))
    return s[[UID, MODEL, WEIGHT]].reset_index(drop=True)


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


def _weights_by_bucket(
    cv_by_model: Mapping[str, pd.DataFrame],
    edges: Sequence[int],
    train: pd.DataFrame,
    m: int,
    top_k: int,
    metric: str,
    max_ratio: float,
    shrink: float,
) -> pd.DataFrame:
    """:func:`select_weights` on each horizon bucket's backtest rows; ``h_min, h_max`` added."""
    frames = [cv for cv in cv_by_model.values() if len(cv)]
    if not frames:
        raise ValueError("select_weights: no backtest rows")
    hz = np.concatenate([cv[HORIZON].to_numpy(dtype=int) for cv in frames])
    parts = []
    for lo, hi in horizon_buckets(hz, edges):
        sub = {k: cv[(cv[HORIZON] >= lo) & (cv[HORIZON] <= hi)] for k, cv in cv_by_model.items()}
        sub = {k: cv for k, cv in sub.items() if len(cv)}
        w = select_weights(sub, train, m, top_k, metric, max_ratio, shrink)
        parts.append(w.assign(**{H_MIN: lo, H_MAX: hi}))
    return pd.concat(parts, ignore_index=True)


def _attach_weights(stacked: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """``stacked`` forecast rows with their weight: by series and model, and by the bucket of
    each row's horizon when ``weights`` has buckets (the nearest bucket when the row's horizon
    falls in none: beyond the backtest, or a bucket the backtest could not score). Models
    without a weight get 0; a series (in a bucket) without any weights, 1 for every model."""
    if H_MAX not in weights.columns:
        out = stacked.merge(weights[[UID, MODEL, WEIGHT]], on=[UID, MODEL], how="left")
        return _unweighted_equal(out, weights, [UID])
    if HORIZON in stacked.columns:
        hz = stacked[HORIZON].to_numpy(dtype=int)
    else:
        group = [c for c in (UID, CUTOFF) if c in stacked.columns]
        hz = stacked.groupby(group)[DS].rank(method="dense").to_numpy(dtype=int)
    buckets = weights[[H_MIN, H_MAX]].drop_duplicates().sort_values(H_MAX)
    mids = ((buckets[H_MIN] + buckets[H_MAX]) / 2).to_numpy(dtype=float)
    inside = (hz[:, None] >= buckets[H_MIN].to_numpy()) & (hz[:, None] <= buckets[H_MAX].to_numpy())
    nearest = np.abs(hz[:, None] - mids[None, :]).argmin(axis=1)
    pick = np.where(inside.any(axis=1), inside.argmax(axis=1), nearest)
    stacked = stacked.assign(**{H_MAX: buckets[H_MAX].to_numpy()[pick]})
    w = weights[[UID, MODEL, H_MAX, WEIGHT]]
    out = stacked.merge(w, on=[UID, MODEL, H_MAX], how="left")
    return _unweighted_equal(out, weights, [UID, H_MAX]).drop(columns=H_MAX)


def _unweighted_equal(
    stacked: pd.DataFrame, weights: pd.DataFrame, keys: list[str]
) -> pd.DataFrame:
    """Weight 1 for rows whose ``keys`` have no weights at all, 0 for unweighted models."""
    known = pd.MultiIndex.from_frame(weights[keys].drop_duplicates())
    unweighted = ~pd.MultiIndex.from_frame(stacked[keys]).isin(known)
    stacked.loc[unweighted, WEIGHT] = 1.0
    stacked[WEIGHT] = stacked[WEIGHT].fillna(0.0)
    return stacked


def _levels(f: pd.DataFrame) -> tuple[int, ...]:
    return tuple(sorted({int(c[2:]) for c in _interval_cols(f)}))


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
    frames = [
        f.drop(columns=MODEL, errors="ignore").assign(**{MODEL: k}) for k, f in forecasts.items()
    ]
    first = frames[0]
    keys = [c for c in (UID, DS, CUTOFF, HORIZON) if c in first.columns]
    ivals = [c for c in _interval_cols(first) if all(c in f.columns for f in frames)]
    values = [YHAT, *ivals]
    stacked = pd.concat([f[[*keys, MODEL, *values]] for f in frames], ignore_index=True)
    if weights is None:
        stacked[WEIGHT] = 1.0
    else:
        stacked = _attach_weights(stacked, weights)
        stacked = stacked[stacked[WEIGHT] > 0]
    wsum = stacked.groupby(keys, sort=False)[WEIGHT].transform("sum")
    weighted = stacked[values].mul(stacked[WEIGHT] / wsum, axis=0)
    weighted[keys] = stacked[keys]
    out = weighted.groupby(keys, sort=True, as_index=False)[values].sum()
    if Y in first.columns:
        actual = pd.concat([f[[*keys, Y]] for f in frames]).drop_duplicates(subset=keys)
        out = out.merge(actual, on=keys, how="left")
    out[MODEL] = ENSEMBLE
    out = out[[*keys, *([Y] if Y in out.columns else []), *values, MODEL]]
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
    parts = []
    for c in cuts:
        past = {k: cv[(cv[CUTOFF] < c) & (cv[DS] <= c)] for k, cv in cv_by_model.items()}
        if all(len(p) == 0 for p in past.values()):
            continue
        w = select_weights(
            past, train, m, top_k=top_k, metric=metric, max_ratio=max_ratio, edges=edges
        )
        now = {k: cv[cv[CUTOFF] == c] for k, cv in cv_by_model.items()}
        parts.append(combine(now, w))
    if not parts:
        return pd.DataFrame(columns=next(iter(cv_by_model.values())).columns)
    return pd.concat(parts, ignore_index=True)

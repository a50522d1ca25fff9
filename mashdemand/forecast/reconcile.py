"""Coherent forecasts: splits add up to their hub and hubs add up to the force total.

Series ids name their place in the hierarchy: ``"ALL"`` is the force total, ``"<hub>"`` a hub
and ``"<hub>|<split value>"`` (e.g. ``"reading|police"``) a split of a hub; deeper splits add
further ``|`` parts. Forecasts made separately for each level do not add up; reconciliation
maps them to coherent ones, ``y_tilde = S G y_hat`` with the summing matrix ``S`` and

- ``bottom_up``: ``G`` picks the bottom series (the aggregates are their sums);
- ``ols``: ``G = (S'S)^-1 S'`` (Hyndman et al. 2011);
- ``wls_struct``: ``G = (S'W^-1 S)^-1 S'W^-1`` with ``W = diag(S 1)``, each node weighted by the
  number of bottom series under it (Athanasopoulos et al. 2017), apt for counts;
- ``mint_shrink``: the same with ``W`` the Schafer-Strimmer shrinkage estimate of the
  residual covariance (MinT; Wickramasuriya, Athanasopoulos & Hyndman 2019, JASA 114:804-819).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from mashdemand.forecast.base import DS, UID, YHAT, Y, finish_forecast
from mashdemand.forecast.metrics import CUTOFF
from mashdemand.schema import SPLIT_SEP

TOTAL = "ALL"
METHODS = ("bottom_up", "ols", "wls_struct", "mint_shrink")


class Hierarchy(NamedTuple):
    """A summing matrix and its labels (unpacks as ``S, ids, bottom``).

    Attributes
    ----------
    S : ndarray, shape (len(ids), len(bottom))
        ``S[i, j] = 1`` when bottom series ``j`` is part of node ``i``.
    ids : list of str
        All nodes: ``"ALL"`` first, then by depth and name; the rows of ``S``.
    bottom : list of str
        The leaves, the columns of ``S``.
    """

    S: np.ndarray
    ids: list[str]
    bottom: list[str]


def _ancestors(uid: str) -> list[str]:
    parts = uid.split(SPLIT_SEP)
    return [TOTAL, *(SPLIT_SEP.join(parts[:i]) for i in range(1, len(parts)))]


def hierarchy(bottom_ids: list[str] | np.ndarray | pd.Index) -> Hierarchy:
    """Build the summing matrix for bottom series -> hubs -> ``ALL``.

    Parameters
    ----------
    bottom_ids : sequence of str
        Series ids. Aggregates (``"ALL"``, or a hub when its splits are listed too) may be
        included and are ignored: the leaves are the ids with no listed descendant.

    Returns
    -------
    Hierarchy
        ``(S, ids, bottom)``.

    Examples
    --------
    >>> S, ids, bottom = hierarchy(["a|x", "a|y", "b"])
    >>> ids, bottom
    (['ALL', 'a', 'b', 'a|x', 'a|y'], ['b', 'a|x', 'a|y'])
    >>> S.astype(int).tolist()
    [[1, 1, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    given = {str(u) for u in bottom_ids} - {TOTAL}
    if not given:
        raise ValueError("hierarchy: no series ids besides ALL")
    inner = {a for u in given for a in _ancestors(u)}
    nodes = given | inner
    bottom = sorted(given - inner, key=lambda u: (u.count(SPLIT_SEP), u))
    ids = sorted(nodes, key=lambda u: (-1 if u == TOTAL else u.count(SPLIT_SEP), u))
    row = {u: i for i, u in enumerate(ids)}
    S = np.zeros((len(ids), len(bottom)))
    for j, b in enumerate(bottom):
        for u in (*_ancestors(b), b):
            S[row[u], j] = 1.0
    return Hierarchy(S, ids, bottom)


def shrink_covariance(resid: np.ndarray) -> np.ndarray:
    """Schafer-Strimmer shrinkage of a residual covariance towards its diagonal.

    As in MinT (Wickramasuriya et al. 2019; R ``hts::shrink.estim``): residuals are taken
    as mean zero, ``W = lambda * diag(W1) + (1 - lambda) * W1`` with the sample covariance
    ``W1`` and the shrinkage intensity ``lambda`` estimated from the variance of the sample
    correlations (Schafer & Strimmer 2005), clipped to ``[0, 1]``.

    Parameters
    ----------
    resid : ndarray, shape (n_obs, n_series)
        Residuals [contacts/period], no missing values.

    Returns
    -------
    ndarray, shape (n_series, n_series)
        Positive definite when every series has non-zero residuals [(contacts/period)^2].

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W = shrink_covariance(rng.normal(size=(200, 3)))
    >>> bool(np.allclose(W, W.T)), bool(np.all(np.linalg.eigvalsh(W) > 0))
    (True, True)
    """
    x = np.asarray(resid, dtype=float)
    n, p = x.shape
    cov = x.T @ x / n
    sd = np.sqrt(np.diag(cov))
    sd = np.where(sd > 0, sd, 1.0)
    xs = x / sd
    corr = xs.T @ xs / n
    v = (1 / (n * (n - 1))) * ((xs**2).T @ (xs**2) - (xs.T @ xs) ** 2 / n)
    np.fill_diagonal(v, 0.0)
    off = corr - np.diag(np.diag(corr))
    denom = float(np.sum(off**2))
    lam = 1.0 if denom == 0 else float(np.clip(np.sum(v) / denom, 0.0, 1.0))
    return lam * np.diag(np.diag(cov)) + (1 - lam) * cov


def _residual_matrix(residuals: pd.DataFrame, ids: list[str]) -> np.ndarray:
    r = residuals.copy()
    if "resid" not in r.columns:
        r["resid"] = r[Y] - r[YHAT]
    index = [c for c in (DS, CUTOFF) if c in r.columns]
    wide = r.pivot_table(index=index, columns=UID, values="resid", aggfunc="mean")
    missing = [u for u in ids if u not in wide.columns]
    if missing:
        raise ValueError(f"residuals: no rows for series {', '.join(missing[:5])}")
    return wide[ids].dropna().to_numpy()


def _projection(
    S: np.ndarray,
    ids: list[str],
    bottom: list[str],
    method: str,
    residuals: pd.DataFrame | None,
) -> np.ndarray:
    """``G``, shape (n_bottom, n_nodes), mapping base forecasts to bottom forecasts."""
    n, k = S.shape
    if method == "bottom_up":
        G = np.zeros((k, n))
        G[np.arange(k), [ids.index(b) for b in bottom]] = 1.0
        return G
    if method == "ols":
        W = np.eye(n)
    elif method == "wls_struct":
        W = np.diag(S.sum(axis=1))
    elif method == "mint_shrink":
        if residuals is None:
            raise ValueError("mint_shrink needs residuals (y, yhat or resid by unique_id, ds)")
        R = _residual_matrix(residuals, ids)
        if len(R) < 2:
            warnings.warn(
                "mint_shrink: fewer than 2 complete residual rows; using wls_struct",
                UserWarning,
                stacklevel=3,
            )
            W = np.diag(S.sum(axis=1))
        else:
            W = shrink_covariance(R)
            # Zero-variance series (e.g. a split that never occurs) make W singular.
            W += np.eye(n) * max(1e-9, 1e-9 * float(np.trace(W)) / n)
    else:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    Winv_S = np.linalg.solve(W, S)  # W^-1 S
    return np.linalg.solve(S.T @ Winv_S, Winv_S.T)


def reconcile(
    forecast: pd.DataFrame,
    S_info: Hierarchy | tuple[np.ndarray, list[str], list[str]],
    method: str = "wls_struct",
    residuals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Make forecasts coherent across ``ALL`` -> hubs -> splits.

    Parameters
    ----------
    forecast : DataFrame
        ``unique_id, ds, yhat`` [contacts/period] (and ``lo<L>, hi<L>``; a ``cutoff`` column
        for backtest frames) with a row for every node of the hierarchy at every ``ds``
        (``bottom_up`` needs the bottom series only).
    S_info : Hierarchy
        From :func:`hierarchy`.
    method : {"bottom_up", "ols", "wls_struct", "mint_shrink"}
        See the module docstring.
    residuals : DataFrame, optional
        For ``mint_shrink``: ``unique_id, ds [, cutoff]`` and ``resid`` or ``y, yhat``
        (in-sample or backtest residuals of the same models, all nodes).

    Returns
    -------
    DataFrame
        ``forecast`` with reconciled ``yhat`` for every node, rows in the input order (rows
        for absent aggregates are appended). Negative reconciled bottom values are set to 0
        and the aggregates re-summed, so for every ``ds`` the hubs sum to ``ALL`` and the
        splits to their hub exactly.
        Interval bounds are shifted by each series' change in ``yhat``, then clipped at 0 and
        ordered (:func:`~mashdemand.forecast.base.finish_forecast`): an approximation that keeps
        each interval's width; reconciled intervals need not themselves be coherent, and
        should be recalibrated when coverage matters.

    Examples
    --------
    >>> h = hierarchy(["a", "b"])
    >>> f = pd.DataFrame({"unique_id": ["ALL", "a", "b"], "ds": 1, "yhat": [12.0, 5.0, 5.0]})
    >>> reconcile(f, h, "ols")["yhat"].round(4).tolist()  # the gap of 2 shared by 3 nodes
    [11.3333, 5.6667, 5.6667]
    """
    S, ids, bottom = S_info
    S = np.asarray(S, dtype=float)
    uid = forecast[UID].astype(str)
    unknown = sorted(set(uid) - set(ids))
    if unknown:
        raise ValueError(f"reconcile: series not in the hierarchy: {', '.join(unknown[:5])}")
    needed = bottom if method == "bottom_up" else ids
    index = [c for c in (CUTOFF, DS) if c in forecast.columns]
    node = pd.Index(ids).get_indexer(uid)
    t, first, wide = _by_time(forecast, index, node, len(ids))
    if np.isnan(wide[:, [ids.index(u) for u in needed]]).any():
        bad = [u for u in needed if np.isnan(wide[:, ids.index(u)]).any()]
        raise ValueError(f"reconcile: missing yhat for {', '.join(bad[:5])} at some ds")
    G = _projection(S, ids, bottom, method, residuals)
    base = np.ascontiguousarray(np.nan_to_num(wide, nan=0.0).T)  # nodes x times
    bottom_hat = np.clip(G @ base, 0.0, None)
    rec = (S @ bottom_hat).T  # times x nodes
    # Input rows keep their order (rows at a time with no yhat at all are dropped); rows for
    # absent nodes follow, by time and node.
    kept = np.flatnonzero(t >= 0)
    seen = np.zeros(wide.shape, dtype=bool)
    seen[t[kept], node[kept]] = True
    add_t, add_node = np.nonzero(~seen)
    out = forecast.iloc[kept].assign(**{UID: uid.to_numpy()[kept]}).reset_index(drop=True)
    if len(add_t):
        added = forecast.iloc[first[add_t]][index].reset_index(drop=True)
        added[UID] = np.asarray(ids, dtype=object)[add_node]
        out = pd.concat([out, added], ignore_index=True)
    new = np.concatenate([rec[t[kept], node[kept]], rec[add_t, add_node]])
    old = out[YHAT].to_numpy(dtype=float)
    shift = new - np.where(np.isnan(old), new, old)
    levels = sorted({int(c[2:]) for c in out.columns if c.startswith("lo") and c[2:].isdigit()})
    for lv in levels:
        for side in ("lo", "hi"):
            col = out[f"{side}{lv}"].to_numpy(dtype=float)
            out[f"{side}{lv}"] = np.where(np.isnan(col), old, col) + shift
    out[YHAT] = new
    out = out[[c for c in forecast.columns if c in out.columns]]
    if levels:
        # finish_forecast clips yhat too; bottoms are already >= 0, so coherence holds.
        out = finish_forecast(out, levels)
    return out


def _by_time(
    forecast: pd.DataFrame, index: list[str], node: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``yhat`` laid out by time (the sorted ``index`` values that have any) and node.

    Returns
    -------
    tuple of ndarray
        Each row's time (-1 for a time without any ``yhat``), the first row of each time, and
        the matrix, times x nodes, of each node's first non-missing ``yhat`` (NaN if none).
    """
    code = forecast.groupby(index, sort=True).ngroup().to_numpy(dtype=float)
    y = forecast[YHAT].to_numpy(dtype=float)
    has = ~np.isnan(code) & ~np.isnan(y)
    times, first = np.unique(code[has], return_index=True)
    first = np.flatnonzero(has)[first]
    t = pd.Index(times).get_indexer(code)
    wide = np.full((len(times), n_nodes), np.nan)
    cell = t * n_nodes + node
    _, at = np.unique(cell[has], return_index=True)  # each cell's first row with a yhat
    rows = np.flatnonzero(has)[at]
    wide[t[rows], node[rows]] = y[rows]
    return t, first, wide


def coherence_error(forecast: pd.DataFrame, S_info: Hierarchy) -> float:
    """Largest absolute gap between any node's ``yhat`` and the sum of its bottom series.

    Examples
    --------
    >>> h = hierarchy(["a", "b"])
    >>> f = pd.DataFrame({"unique_id": ["ALL", "a", "b"], "ds": 1, "yhat": [12.0, 5.0, 5.0]})
    >>> coherence_error(f, h)
    2.0
    """
    S, ids, bottom = S_info
    index = [c for c in (CUTOFF, DS) if c in forecast.columns]
    wide = forecast.pivot_table(index=index, columns=UID, values=YHAT, aggfunc="first")
    wide = wide.reindex(columns=ids).to_numpy()
    summed = wide[:, [ids.index(b) for b in bottom]] @ np.asarray(S).T
    return float(np.nanmax(np.abs(wide - summed)))

"""Calibrated prediction intervals from backtest residuals (split conformal, count scale).

Model intervals are often too narrow (parameter and model uncertainty are ignored) or too wide.
:class:`ConformalCalibrator` replaces them with intervals that covered the stated share of
actuals in the backtest. Counts' variance grows with their mean (Poisson-like), so residuals are
scaled by the root of the forecast, ``r = (y - yhat) / sqrt(max(yhat, 1))``, and pooled over
series: one table then serves a hub with 5 contacts a day and one with 200. Residuals are
grouped into horizon buckets because errors grow with the horizon: fixed, readable buckets per
period (:data:`BUCKET_EDGES`, e.g. days 1-7, 8-28, 29-91, 92-365, 366-730), each calibrated on
the backtest's errors at that horizon, with too-thin buckets merged into their neighbour. The
backtest should reach the horizon forecast (:func:`~mashdemand.forecast.backtest.backtest_plan`);
beyond the last calibrated horizon the last bucket is held flat unless the buckets themselves
show the spread growing (:attr:`ConformalCalibrator.growth_`).

Quantiles take the finite-sample conformal correction: the upper bound of an ``L``% interval is
the ``ceil((n + 1)(1 - alpha/2))``-th smallest of ``n`` scaled residuals, the lower bound the
same order statistic counted from the top (Vovk et al. 2005; Angelopoulos & Bates 2021). With
exchangeable residuals this covers at least ``L``% of new points on average.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from mashdemand.forecast.base import DS, UID, YHAT, Y, finish_forecast
from mashdemand.forecast.metrics import HORIZON
from mashdemand.schema import FORCE_TOTAL, SPLIT_SEP

_BUCKET_COLS = ["h_min", "h_max", "n"]

#: Candidate last horizons [periods] of the calibration buckets, per period. Days: a week, four
#: weeks, a quarter, a year, two years (the issue's 1-91, 92-365 and 366-730, finer inside the
#: first quarter where the residuals allow). Year and fy: None, equal-count buckets (a few
#: points per area).
BUCKET_EDGES: dict[str, tuple[int, ...] | None] = {
    "day": (7, 28, 91, 365, 730),
    "week": (4, 13, 52, 104),
    "month": (3, 12, 24),
    "quarter": (1, 4, 8),
    "year": None,
    "fy": None,
}
#: Ways to go beyond the last calibrated horizon: ``learned`` widens by ``(h / h_max) ** g``
#: with ``g`` the growth the last two buckets show (0 to 0.5), ``flat`` holds the last bucket,
#: ``sqrt`` widens by ``sqrt(h / h_max)`` (version 1 calibrators).
EXTRAPOLATIONS: tuple[str, ...] = ("learned", "flat", "sqrt")
MAX_GROWTH = 0.5
#: Fewest residuals of a series group, and of each of its buckets, for its own spread factor.
MIN_GROUP = 60


def series_group(uid: str) -> str:
    """The level of a series in the hierarchy: ``ALL`` (force total), ``split`` or ``hub``.

    >>> [series_group(u) for u in ("ALL", "slough", "slough|police", "ALL|police")]
    ['ALL', 'hub', 'split', 'split']
    """
    if uid == FORCE_TOTAL:
        return "ALL"
    return "split" if SPLIT_SEP in uid else "hub"


def series_groups(uids: pd.Series) -> np.ndarray:
    """:func:`series_group` of each id (as text), worked out once per distinct id.

    >>> series_groups(pd.Series(["ALL", "slough", "slough", "slough|police"])).tolist()
    ['ALL', 'hub', 'hub', 'split']
    """
    code, ids = pd.factorize(uids.astype(str))
    return np.array([series_group(u) for u in ids], dtype=object)[code]


def count_scale(yhat: np.ndarray | pd.Series, power: float = 0.5) -> np.ndarray:
    """The residual scale for a count forecast: ``max(yhat, 1) ** power``.

    ``power`` 0.5 is Poisson noise (sd grows with the square root of the mean); 1.0 is errors
    proportional to volume (level shifts, which dominate on large series).

    Examples
    --------
    >>> count_scale(np.array([0.0, 4.0, 100.0])).tolist()
    [1.0, 2.0, 10.0]
    """
    return np.maximum(np.asarray(yhat, dtype=float), 1.0) ** power


# Candidate scale exponents; the one that makes residual spreads most alike across series wins.
POWERS: tuple[float, ...] = (0.5, 0.75, 1.0)


def choose_power(cv: pd.DataFrame, powers: Sequence[float] = POWERS) -> float:
    """The scale exponent under which series of different size have the most similar spread.

    For each candidate, residuals are scaled by ``max(yhat, 1) ** power`` and the spread
    (inter-quantile range 10-90%) is taken per series; the power with the smallest coefficient
    of variation of those spreads is chosen. With fewer than 3 series, 0.5 (Poisson).
    """
    if UID not in cv.columns or cv[UID].nunique() < 3:
        return 0.5
    code, _ = pd.factorize(cv[UID].to_numpy(), sort=True)
    named = code >= 0
    y, yhat = cv[Y].to_numpy(dtype=float)[named], cv[YHAT].to_numpy(dtype=float)[named]
    best, best_cv = 0.5, np.inf
    for p in powers:
        r = (y - yhat) / count_scale(yhat, p)
        lo, hi = group_quantiles(r, code[named], (0.1, 0.9))
        spread = hi - lo
        score = np.std(spread) / max(np.mean(spread), 1e-9)
        if score < best_cv - 1e-9:
            best, best_cv = p, score
    return float(best)


def group_quantiles(r: np.ndarray, group: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Linearly interpolated ``qs`` quantiles of ``r`` within each group, as pandas'
    ``groupby(...).quantile`` computes them (missing values left out).

    Parameters
    ----------
    r : ndarray
        Values.
    group : ndarray of int
        Each value's group, 0 .. n_groups - 1, every group present.
    qs : sequence of float
        Quantiles (0 to 1).

    Returns
    -------
    list of ndarray
        For each quantile, its value in each group (NaN for a group without values).

    Examples
    --------
    >>> r = np.array([4.0, 1.0, 3.0, 2.0, 10.0, 30.0])
    >>> [q.tolist() for q in group_quantiles(r, np.array([0, 0, 0, 0, 1, 1]), (0.1, 0.9))]
    [[1.3, 12.0], [3.7, 28.0]]
    """
    n_groups = int(group.max(initial=-1)) + 1
    seen = ~np.isnan(r)
    r, group = r[seen], group[seen]
    ordered = np.r_[r[np.lexsort((r, group))], np.nan]  # NaN: past the end (empty groups)
    counts = np.bincount(group, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    out = []
    for q in qs:
        at = q * (counts - 1).astype(float)
        idx = np.where(counts > 0, starts + at.astype(np.int64), len(r))
        frac = at % 1
        val, nxt = ordered[idx], ordered[np.minimum(idx + 1, len(r))]
        out.append(np.where(frac == 0.0, val, val + (nxt - val) * frac))
    return out


def conformal_quantile(r: np.ndarray, q: float) -> float:
    """Finite-sample-corrected empirical ``q`` quantile of ``r``.

    For ``q >= 0.5`` the ``ceil((n + 1) q)``-th smallest value; for ``q < 0.5`` the
    ``ceil((n + 1)(1 - q))``-th largest. When that rank exceeds ``n`` (too few residuals for the
    level) the sample extreme is used, which under-covers slightly.

    Examples
    --------
    >>> r = np.arange(1.0, 10.0)  # 1 .. 9, n = 9
    >>> conformal_quantile(r, 0.9), conformal_quantile(r, 0.1)  # ranks ceil(10 * 0.9) = 9
    (9.0, 1.0)
    >>> conformal_quantile(r, 0.75)  # ceil(10 * 0.75) = 8th smallest
    8.0
    """
    s = np.sort(np.asarray(r, dtype=float))
    n = len(s)
    if n == 0:
        return float("nan")
    k = min(math.ceil((n + 1) * max(q, 1 - q) - 1e-9), n)
    return float(s[k - 1] if q >= 0.5 else s[n - k])


def _bucket_edges(horizons: np.ndarray, n_buckets: int | None, min_per_bucket: int) -> list[int]:
    """Last horizon of each bucket: contiguous horizon groups with near-equal residual counts.

    Examples
    --------
    >>> _bucket_edges(np.repeat([1, 2, 3, 4], 20), None, 30)  # 80 residuals: 2 buckets of 40
    [2, 4]
    >>> _bucket_edges(np.repeat([1, 2, 3], 10), None, 30)  # too few: one bucket
    [3]
    """
    hs, counts = np.unique(horizons, return_counts=True)
    n = int(counts.sum())
    k = n_buckets if n_buckets is not None else n // min_per_bucket
    k = max(1, min(k, len(hs)))
    least = min_per_bucket if n_buckets is None else 1
    cum = np.cumsum(counts)
    edges: list[int] = []
    start = 0
    for h, c in zip(hs[:-1], cum[:-1], strict=True):
        if len(edges) == k - 1:
            break
        if c - start >= max(n / k, least) and n - c >= least:
            edges.append(int(h))
            start = int(c)
    return [*edges, int(hs[-1])]


def _fixed_edges(horizons: np.ndarray, candidates: Sequence[int], min_per_bucket: int) -> list[int]:
    """Last horizon of each bucket: the ``candidates`` that leave ``min_per_bucket`` residuals
    on both sides, plus the largest horizon seen (thin buckets merge into the next one).

    Examples
    --------
    >>> hz = np.repeat(np.arange(1, 201), 10)  # 10 residuals at each horizon 1 .. 200
    >>> _fixed_edges(hz, (7, 28, 91, 365, 730), 100)  # 1-7 has 70: merged into 8-28
    [28, 91, 200]
    >>> _fixed_edges(hz, (7, 28, 91, 365, 730), 900)
    [91, 200]
    """
    hs = np.sort(np.asarray(horizons, dtype=int))
    n, last = len(hs), int(hs[-1])
    edges: list[int] = []
    start = 0
    for e in candidates:
        if e >= last:
            break
        c = int(np.searchsorted(hs, e, side="right"))
        if c - start >= min_per_bucket and n - c >= min_per_bucket:
            edges.append(int(e))
            start = c
    return [*edges, last]


def _spread(r: np.ndarray) -> float:
    """Inter-quantile range 10-90% of residuals ``r``."""
    lo, hi = np.quantile(r, [0.1, 0.9])
    return float(hi - lo)


def group_scales(
    r: np.ndarray, bucket: np.ndarray, groups: np.ndarray, min_group: int = MIN_GROUP
) -> dict[str, float]:
    """Spread of each series group's scaled residuals relative to all series pooled.

    The force total sums every hub, so hub-level noise partly cancels in it and one scale
    exponent cannot serve both: pooled intervals then over-cover the total and under-cover
    hubs. Per group, the factor is the geometric mean over horizon buckets (with at least
    ``min_group`` of its residuals) of its 10-90% spread over the pooled spread in the bucket.
    Groups with fewer residuals get no factor (1).

    Examples
    --------
    >>> r = np.r_[np.linspace(-1, 1, 100), np.linspace(-2, 2, 100)]
    >>> g = np.repeat(["hub", "ALL"], 100)
    >>> {k: round(v, 2) for k, v in group_scales(r, np.zeros(200, int), g).items()}
    {'ALL': 1.34, 'hub': 0.67}
    """
    out: dict[str, float] = {}
    names = np.unique(groups)
    if len(names) < 2:
        return out
    for name in names:
        logs = []
        for b in np.unique(bucket):
            mine = (groups == name) & (bucket == b)
            pooled = _spread(r[bucket == b])
            if mine.sum() >= min_group and pooled > 0:
                logs.append(math.log(max(_spread(r[mine]), 1e-9) / pooled))
        if logs:
            out[str(name)] = float(math.exp(np.mean(logs)))
    return out


def spread_growth(table: pd.DataFrame, level: int, mid: Sequence[float]) -> float:
    """Exponent ``g`` of the spread's growth with the horizon over the last two buckets.

    ``g = log(w2 / w1) / log(m2 / m1)`` for interval widths ``w`` [scaled residuals] and mean
    horizons ``m`` of the last two buckets, clipped to 0 .. :data:`MAX_GROWTH` (0.5: a random
    walk). 0 with one bucket: nothing shows growth, so the last bucket is held flat.

    Examples
    --------
    >>> t = pd.DataFrame({"lo80": [-1.0, -2.0], "hi80": [1.0, 2.0]})
    >>> spread_growth(t, 80, [10.0, 40.0])  # width doubles over 4x the horizon
    0.5
    >>> spread_growth(t.iloc[::-1], 80, [10.0, 40.0])  # narrower further out: flat
    0.0
    """
    if len(table) < 2 or mid[-1] <= mid[-2] or mid[-2] <= 0:
        return 0.0
    w = (table[f"hi{level}"] - table[f"lo{level}"]).to_numpy(dtype=float)
    if w[-2] <= 0 or w[-1] <= 0:
        return 0.0
    g = math.log(w[-1] / w[-2]) / math.log(mid[-1] / mid[-2])
    return float(min(max(g, 0.0), MAX_GROWTH))


class ConformalCalibrator:
    """Recalibrate forecast intervals on the count scale from backtest residuals.

    Parameters
    ----------
    level : sequence of int
        Interval levels [%] to calibrate.
    n_buckets : int, optional
        Number of equal-count horizon buckets (when ``edges`` is None). Default: as many as
        keep ``min_per_bucket`` residuals in each (one bucket for short annual series).
    min_per_bucket : int
        Fewest residuals per bucket.
    edges : sequence of int, optional
        Candidate last horizons [periods] of fixed buckets (:data:`BUCKET_EDGES`); a bucket
        with fewer than ``min_per_bucket`` residuals merges into the next. None: equal-count
        buckets.
    extrapolate : {"learned", "flat", "sqrt"}
        Beyond the largest calibrated horizon ``h_max``: widen the last bucket by
        ``(h / h_max) ** growth_`` with ``growth_`` learned from the last two buckets
        (:func:`spread_growth`), hold it flat, or widen by ``sqrt(h / h_max)``.
    by_group : bool
        Scale each series group's intervals (:func:`series_group`: hubs, splits, the force
        total) by how its residual spread compares with the pooled one (:func:`group_scales`).

    Attributes
    ----------
    quantiles_ : DataFrame
        One row per horizon bucket: ``h_min, h_max`` [periods], ``n`` residuals, and
        ``lo<L>, hi<L>``: conformal quantiles of the scaled residuals
        [(contacts/period) ** (1 - power_)], so ``hi80 = yhat + hi80_q * max(yhat, 1) ** power_``.
    h_max_ : int
        Largest horizon [periods] calibrated on backtest errors.
    growth_ : float
        Exponent of the widening beyond ``h_max_`` (0: flat).
    group_scale_ : dict of str to float
        Factor on the quantiles per series group (``by_group``; empty otherwise).

    Examples
    --------
    >>> cv = pd.DataFrame({"horizon": 1, "y": np.arange(100.0), "yhat": 50.0})
    >>> cal = ConformalCalibrator(level=(80,)).fit(cv)
    >>> cal.quantiles_[["h_min", "h_max", "n"]].to_dict("records")
    [{'h_min': 1, 'h_max': 1, 'n': 100}]
    """

    def __init__(
        self,
        level: Sequence[int] = (80, 95),
        n_buckets: int | None = None,
        min_per_bucket: int = 30,
        edges: Sequence[int] | None = None,
        extrapolate: str = "learned",
        by_group: bool = False,
    ) -> None:
        self.level = level
        self.n_buckets = n_buckets
        self.min_per_bucket = min_per_bucket
        self.edges = edges
        self.extrapolate = extrapolate
        self.by_group = by_group

    def fit(self, cv: pd.DataFrame) -> Self:
        """Learn scaled-residual quantiles per horizon bucket from a backtest frame.

        Parameters
        ----------
        cv : DataFrame
            ``y, yhat, horizon`` (:func:`~mashdemand.forecast.backtest.cross_validation`),
            pooled over every series and cutoff in it.
        """
        if self.extrapolate not in EXTRAPOLATIONS:
            raise ValueError(
                f"extrapolate {self.extrapolate!r}: choose one of {', '.join(EXTRAPOLATIONS)}"
            )
        missing = [c for c in (Y, YHAT, HORIZON) if c not in cv.columns]
        if missing:
            raise ValueError(
                f"calibration frame: missing column(s) {', '.join(missing)}; "
                f"found {', '.join(cv.columns)}"
            )
        d = cv[[c for c in (UID, Y, YHAT, HORIZON) if c in cv.columns]].dropna()
        if d.empty:
            raise ValueError("calibration frame: no rows with y, yhat and horizon")
        self.power_ = choose_power(d)
        yhat = d[YHAT].to_numpy(dtype=float)
        r = (d[Y].to_numpy(dtype=float) - yhat) / count_scale(yhat, self.power_)
        hz = d[HORIZON].to_numpy(dtype=int)
        if self.edges is not None:
            edges = _fixed_edges(hz, self.edges, self.min_per_bucket)
        else:
            edges = _bucket_edges(hz, self.n_buckets, self.min_per_bucket)
        rows, mid = [], []
        lo_h = int(hz.min())
        self.group_scale_: dict[str, float] = {}
        if self.by_group and UID in d.columns:
            groups = series_groups(d[UID])
            bucket = bucket_index(hz, np.asarray(edges))
            self.group_scale_ = group_scales(r, bucket, groups)
        for hi_h in edges:
            inside = (hz >= lo_h) & (hz <= hi_h)
            rb = r[inside]
            row: dict[str, Any] = {"h_min": lo_h, "h_max": hi_h, "n": len(rb)}
            for lv in self.level:
                a = (1 - lv / 100) / 2
                row[f"lo{lv}"] = conformal_quantile(rb, a)
                row[f"hi{lv}"] = conformal_quantile(rb, 1 - a)
            rows.append(row)
            mid.append(float(hz[inside].mean()))
            lo_h = hi_h + 1
        self.quantiles_ = pd.DataFrame(rows)
        self.h_max_ = int(edges[-1])
        self.growth_ = {
            "learned": spread_growth(self.quantiles_, max(self.level), mid),
            "flat": 0.0,
            "sqrt": 0.5,
        }[self.extrapolate]
        return self

    def apply(self, forecast: pd.DataFrame) -> pd.DataFrame:
        """Replace ``lo<L>, hi<L>`` of ``forecast`` with calibrated intervals.

        Parameters
        ----------
        forecast : DataFrame
            ``unique_id, ds, yhat`` [contacts/period] and ideally ``horizon``; without it the
            horizon is each series' rank of ``ds`` (1 for its first forecast period).

        Returns
        -------
        DataFrame
            A copy with ``lo<L> = yhat + q_lo * max(yhat, 1) ** power_`` (likewise ``hi``) from
            the bucket of each row's horizon, clipped at 0 and ordered by
            :func:`~mashdemand.forecast.base.finish_forecast`. Horizons beyond ``h_max_`` use
            the last bucket widened by ``(h / h_max_) ** growth_`` (flat when ``growth_`` is 0).
        """
        if not hasattr(self, "quantiles_"):
            raise RuntimeError("ConformalCalibrator is not fitted; call fit() first")
        f = forecast.copy()
        if HORIZON in f.columns:
            hz = f[HORIZON].to_numpy(dtype=int)
        else:
            hz = f.groupby(UID)[DS].rank(method="dense").to_numpy(dtype=int)
        qt = self.quantiles_
        idx = bucket_index(hz, qt["h_max"].to_numpy())
        yhat = f[YHAT].to_numpy(dtype=float)
        s = count_scale(yhat, getattr(self, "power_", 0.5)) * self.widening(hz)
        scales = getattr(self, "group_scale_", {})
        if scales and UID in f.columns:
            names, at = np.unique(series_groups(f[UID]), return_inverse=True)
            s = s * np.array([scales.get(g, 1.0) for g in names], dtype=float)[at]
        for lv in self.level:
            for side in ("lo", "hi"):
                col = f"{side}{lv}"
                f[col] = yhat + qt[col].to_numpy()[idx] * s
        level = sorted({int(c[2:]) for c in f.columns if c.startswith("lo") and c[2:].isdigit()})
        return finish_forecast(f, level)

    def widening(self, horizons: np.ndarray) -> np.ndarray:
        """Factor on the last bucket's quantiles at each horizon: 1 up to ``h_max_``, then
        ``(h / h_max_) ** growth_``.

        Examples
        --------
        >>> cal = ConformalCalibrator().fit(
        ...     pd.DataFrame({"horizon": [1, 2] * 50, "y": np.arange(100.0), "yhat": 50.0}))
        >>> cal.h_max_, cal.growth_, cal.widening(np.array([1, 2, 8])).tolist()
        (2, 0.0, [1.0, 1.0, 1.0])
        """
        h_max = self._h_max()
        hz = np.asarray(horizons, dtype=float)
        return (np.maximum(hz, h_max) / h_max) ** float(getattr(self, "growth_", 0.5))

    def _h_max(self) -> int:
        return int(getattr(self, "h_max_", self.quantiles_["h_max"].iloc[-1]))

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters and learned table (``json.dumps`` works on the result).

        Version 2 adds ``edges``, ``extrapolate``, ``by_group`` and, once fitted, ``h_max``
        (the largest horizon calibrated on backtest errors [periods]), ``growth`` and
        ``group_scale``.
        """
        out: dict[str, Any] = {
            "version": 2,
            "level": [int(lv) for lv in self.level],
            "n_buckets": self.n_buckets,
            "min_per_bucket": int(self.min_per_bucket),
            "edges": None if self.edges is None else [int(e) for e in self.edges],
            "extrapolate": self.extrapolate,
            "by_group": bool(self.by_group),
        }
        if hasattr(self, "quantiles_"):
            out["power"] = float(getattr(self, "power_", 0.5))
            out["h_max"] = self._h_max()
            out["growth"] = float(getattr(self, "growth_", 0.5))
            out["group_scale"] = {k: float(v) for k, v in getattr(self, "group_scale_", {}).items()}
            out["quantiles"] = [
                {k: (int(v) if k in _BUCKET_COLS else float(v)) for k, v in rec.items()}
                for rec in self.quantiles_.to_dict("records")
            ]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConformalCalibrator:
        """Rebuild a calibrator saved with :meth:`to_dict` (version 1: widened by sqrt)."""
        version = d.get("version")
        if version not in (1, 2):
            raise ValueError(f"calibrator: unsupported version {version!r}")
        level = d["level"] if "level" in d else d["levels"]  # "levels" in files before 12/2026
        cal = cls(
            level=tuple(level),
            n_buckets=d["n_buckets"],
            min_per_bucket=d["min_per_bucket"],
            edges=None if d.get("edges") is None else tuple(d["edges"]),
            extrapolate=d.get("extrapolate", "sqrt"),
            by_group=bool(d.get("by_group", False)),
        )
        if "quantiles" in d:
            cal.quantiles_ = pd.DataFrame(d["quantiles"])
            cal.power_ = float(d.get("power", 0.5))
            cal.h_max_ = int(d.get("h_max", cal.quantiles_["h_max"].iloc[-1]))
            cal.growth_ = float(d.get("growth", 0.5))
            cal.group_scale_ = {k: float(v) for k, v in d.get("group_scale", {}).items()}
        return cal

    def __repr__(self) -> str:
        return (
            f"ConformalCalibrator(level={tuple(self.level)!r}, n_buckets={self.n_buckets!r}, "
            f"min_per_bucket={self.min_per_bucket!r}, edges={self.edges!r}, "
            f"extrapolate={self.extrapolate!r}, by_group={self.by_group!r})"
        )


def bucket_index(horizons: np.ndarray, h_max: np.ndarray) -> np.ndarray:
    """Row of the bucket table (sorted last horizons ``h_max``) for each horizon; horizons
    beyond the last bucket get the last one, horizons before the first the first.

    Examples
    --------
    >>> bucket_index(np.array([1, 7, 8, 91, 400]), np.array([7, 91])).tolist()
    [0, 0, 1, 1, 1]
    """
    edges = np.asarray(h_max)
    idx = np.searchsorted(edges, np.asarray(horizons), side="left")
    return np.clip(idx, 0, len(edges) - 1)


def calibrator_for(freq: str, level: Sequence[int], min_per_bucket: int) -> ConformalCalibrator:
    """The calibrator :func:`~mashdemand.forecast.api.forecast` uses for period ``freq``:
    fixed buckets (:data:`BUCKET_EDGES`) where the period has them, spread per series group.

    >>> calibrator_for("day", (80,), 200).edges
    (7, 28, 91, 365, 730)
    """
    return ConformalCalibrator(
        level=level, min_per_bucket=min_per_bucket, edges=BUCKET_EDGES.get(freq), by_group=True
    )

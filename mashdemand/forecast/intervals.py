"""Calibrated prediction intervals from backtest residuals (split conformal, count scale).

Model intervals are often too narrow (parameter and model uncertainty are ignored) or too wide.
:class:`ConformalCalibrator` replaces them with intervals that covered the stated share of
actuals in the backtest. Counts' variance grows with their mean (Poisson-like), so residuals are
scaled by the root of the forecast, ``r = (y - yhat) / sqrt(max(yhat, 1))``, and pooled over
series: one table then serves a hub with 5 contacts a day and one with 200. Residuals are
grouped into horizon buckets because errors grow with the horizon.

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

_BUCKET_COLS = ["h_min", "h_max", "n"]


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
    best, best_cv = 0.5, np.inf
    for p in powers:
        r = (cv[Y] - cv[YHAT]) / count_scale(cv[YHAT], p)
        q = r.groupby(cv[UID]).quantile([0.1, 0.9]).unstack()
        spread = (q[0.9] - q[0.1]).to_numpy()
        score = np.std(spread) / max(np.mean(spread), 1e-9)
        if score < best_cv - 1e-9:
            best, best_cv = p, score
    return float(best)


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


class ConformalCalibrator:
    """Recalibrate forecast intervals on the count scale from backtest residuals.

    Parameters
    ----------
    levels : sequence of int
        Interval levels [%] to calibrate.
    n_buckets : int, optional
        Number of horizon buckets. Default: as many as keep ``min_per_bucket`` residuals in
        each (one bucket for short annual series).
    min_per_bucket : int
        Fewest residuals per bucket when ``n_buckets`` is None.

    Attributes
    ----------
    quantiles_ : DataFrame
        One row per horizon bucket: ``h_min, h_max`` [periods], ``n`` residuals, and
        ``lo<L>, hi<L>``: conformal quantiles of the scaled residuals
        [sqrt(contacts/period)], so ``hi80 = yhat + hi80_q * sqrt(max(yhat, 1))``.

    Examples
    --------
    >>> cv = pd.DataFrame({"horizon": 1, "y": np.arange(100.0), "yhat": 50.0})
    >>> cal = ConformalCalibrator(levels=(80,)).fit(cv)
    >>> cal.quantiles_[["h_min", "h_max", "n"]].to_dict("records")
    [{'h_min': 1, 'h_max': 1, 'n': 100}]
    """

    def __init__(
        self,
        levels: Sequence[int] = (80, 95),
        n_buckets: int | None = None,
        min_per_bucket: int = 30,
    ) -> None:
        self.levels = levels
        self.n_buckets = n_buckets
        self.min_per_bucket = min_per_bucket

    def fit(self, cv: pd.DataFrame) -> Self:
        """Learn scaled-residual quantiles per horizon bucket from a backtest frame.

        Parameters
        ----------
        cv : DataFrame
            ``y, yhat, horizon`` (:func:`~mashdemand.forecast.backtest.cross_validation`),
            pooled over every series and cutoff in it.
        """
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
        edges = _bucket_edges(hz, self.n_buckets, self.min_per_bucket)
        rows = []
        lo_h = int(hz.min())
        for hi_h in edges:
            rb = r[(hz >= lo_h) & (hz <= hi_h)]
            row: dict[str, Any] = {"h_min": lo_h, "h_max": hi_h, "n": len(rb)}
            for lv in self.levels:
                a = (1 - lv / 100) / 2
                row[f"lo{lv}"] = conformal_quantile(rb, a)
                row[f"hi{lv}"] = conformal_quantile(rb, 1 - a)
            rows.append(row)
            lo_h = hi_h + 1
        self.quantiles_ = pd.DataFrame(rows)
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
            A copy with ``lo<L> = yhat + q_lo * sqrt(max(yhat, 1))`` (likewise ``hi``), clipped
            at 0 and ordered by :func:`~mashdemand.forecast.base.finish_forecast`. Horizons
            beyond the calibrated range use the last bucket widened by ``sqrt(h / h_max)``.
        """
        if not hasattr(self, "quantiles_"):
            raise RuntimeError("ConformalCalibrator is not fitted; call fit() first")
        f = forecast.copy()
        if HORIZON in f.columns:
            hz = f[HORIZON].to_numpy(dtype=int)
        else:
            hz = f.groupby(UID)[DS].rank(method="dense").to_numpy(dtype=int)
        qt = self.quantiles_
        h_max = int(qt["h_max"].iloc[-1])
        idx = np.searchsorted(qt["h_max"].to_numpy(), np.clip(hz, None, h_max), side="left")
        widen = np.sqrt(np.maximum(hz, h_max) / h_max)
        yhat = f[YHAT].to_numpy(dtype=float)
        s = count_scale(yhat, getattr(self, "power_", 0.5)) * widen
        for lv in self.levels:
            for side in ("lo", "hi"):
                col = f"{side}{lv}"
                f[col] = yhat + qt[col].to_numpy()[idx] * s
        levels = sorted({int(c[2:]) for c in f.columns if c.startswith("lo") and c[2:].isdigit()})
        return finish_forecast(f, levels)

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters and learned table (``json.dumps`` works on the result)."""
        out: dict[str, Any] = {
            "version": 1,
            "levels": [int(lv) for lv in self.levels],
            "n_buckets": self.n_buckets,
            "min_per_bucket": int(self.min_per_bucket),
        }
        if hasattr(self, "quantiles_"):
            out["power"] = float(getattr(self, "power_", 0.5))
            out["quantiles"] = [
                {k: (int(v) if k in _BUCKET_COLS else float(v)) for k, v in rec.items()}
                for rec in self.quantiles_.to_dict("records")
            ]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConformalCalibrator:
        """Rebuild a calibrator saved with :meth:`to_dict`."""
        if d.get("version") != 1:
            raise ValueError(f"calibrator: unsupported version {d.get('version')!r}")
        cal = cls(
            levels=tuple(d["levels"]), n_buckets=d["n_buckets"], min_per_bucket=d["min_per_bucket"]
        )
        if "quantiles" in d:
            cal.quantiles_ = pd.DataFrame(d["quantiles"])
            cal.power_ = float(d.get("power", 0.5))
        return cal

    def __repr__(self) -> str:
        return (
            f"ConformalCalibrator(levels={tuple(self.levels)!r}, n_buckets={self.n_buckets!r}, "
            f"min_per_bucket={self.min_per_bucket!r})"
        )

"""Yearly shape, learned special days and population exposure for any forecaster.

:class:`Adjusted` wraps a model (seasonal naive, ETS ...) that sees only ``y``. In ``fit`` it
divides each series by

- its **exposure** ``e(t) = population(t) / population(end of training)`` when the
  ``population`` driver column is present, so the inner model forecasts contacts per resident
  and population growth is carried ahead (:func:`exposure_index`);
- its **calendar factor** ``exp(s(t))`` (daily series with at least a year of history,
  :func:`fit_calendar`): a yearly profile (20 Fourier harmonics of the day of year, plus the
  learned effect of the ``is_school_holiday`` feature column, whose sharp edges harmonics
  cannot follow) and special-day effects learned from the data: the ``is_bank_holiday``
  feature column (whatever calendar it came from), and fixed-date or Easter-relative days
  that are far off in the same direction in every year of the history (Christmas, New Year,
  14 July, Good Friday in Alsace ...), each shrunk towards no effect;

fits the inner model on the adjusted series, and in ``predict`` multiplies its forecast and
interval bounds back by ``e(t) x exp(s(t))`` for the forecast days.

The calendar profile is a ridge regression of ``log(y / e + 0.5)`` on an intercept, a
piecewise-linear trend (knots a year apart, so the trend cannot mimic the yearly cycle),
day-of-week dummies, the harmonics (prior sd ``0.3 / j`` for harmonic ``j``) and the school
holiday flag, refitted with Huber weights so that shocks such as a lockdown do not shape the
profile. The trend and day of week are left to the inner model; only the yearly profile and
the special days are divided out.

Measured (``benchmarks/holdout_quick.py``, three 365-day hold-outs 91 days apart; 182 days
for Bristol), the adjusted ETS is at least as accurate as the plain one on every daily data
set (mean daily MASE: Bristol 0.84 against 1.36, SAMU 0.87 against 1.03, Welsh ambulance
0.763 against 0.764, the sample force 0.70 against 0.93), and so is the adjusted seasonal
naive; the default ensemble with the step scored Bristol 0.92 (1.08 without), SAMU 0.97
(1.03), Welsh 0.758 (0.752), sample 0.658 (0.646). The pooled GBM is not wrapped: wrapping it
was worse on all three real data sets (it learns the calendar from its features and applies
the population itself). Monthly and weekly members are not wrapped: exposure alone did not
help the sample force's monthly forecast (0.552 against 0.545).

:func:`adjust_candidates` is the step :func:`mashdemand.forecast.api.forecast` calls: it
wraps the members named in :data:`ADJUSTED_BY_FREQ` and adds the adjusted variants in
:data:`ADDED_BY_FREQ`, keeping the plain seasonal naive as the baseline reports compare to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd
from dateutil.easter import easter

from mashdemand.forecast.base import (
    DS,
    LEVELS,
    UID,
    YHAT,
    Forecaster,
    Y,
    check_training_frame,
    clone,
    finish_forecast,
)
from mashdemand.forecast.features import IS_BANK_HOLIDAY, IS_SCHOOL_HOLIDAY, POP_ALL
from mashdemand.threads import single_threaded_fit

__all__ = [
    "ADDED_BY_FREQ",
    "ADJUSTED_BY_FREQ",
    "Adjusted",
    "CalendarProfile",
    "adjust_candidates",
    "calendar_factor",
    "exposure_index",
    "fit_calendar",
]

#: Members wrapped in place (same candidate name) per period: their forecasts get the yearly
#: shape, the special days and the population growth. The GBM is left alone: it learns the
#: calendar from its features and scales by population itself.
ADJUSTED_BY_FREQ: dict[str, tuple[str, ...]] = {"day": ("ets",)}
#: Adjusted variants added beside the plain member (name -> wrapped member), so the plain
#: seasonal naive stays the baseline every report compares against.
ADDED_BY_FREQ: dict[str, dict[str, str]] = {"day": {"snaive_adj": "snaive"}}

YEAR_DAYS = 365.25
MIN_DAYS = 365  # history needed before a yearly profile is learned [days]
EASTER_OFFSETS = range(-7, 61)  # days from Easter Sunday tried as special days
_LOG_OFFSET = 0.5  # log(y + 0.5): defined for zero counts, nearly unbiased above a few a day
_HUBER = 2.5  # residuals beyond this many robust sd get Huber weights


# --- exposure -----------------------------------------------------------------------------
def exposure_index(values: np.ndarray | None, last: float | None = None) -> np.ndarray | None:
    """Exposure relative to ``last`` (default: the last finite value); None without data.

    >>> exposure_index(np.array([98.0, 99.0, 100.0])).tolist()
    [0.98, 0.99, 1.0]
    >>> exposure_index(np.array([np.nan, 200.0]), last=100.0).tolist()
    [2.0, 2.0]
    """
    if values is None:
        return None
    v = pd.Series(np.asarray(values, dtype=float)).ffill().bfill().to_numpy()
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        return None
    ref = float(v[-1]) if last is None else float(last)
    return v / ref


# --- the calendar profile -----------------------------------------------------------------
@dataclass(frozen=True)
class CalendarProfile:
    """One series' learned calendar effects on the log scale.

    Attributes
    ----------
    fourier : np.ndarray
        ``sin, cos`` coefficients of harmonics ``1..K`` of the day of year (empty: no profile).
    fixed : dict
        ``MMDD -> effect`` for fixed-date special days (``1225``: 25 December).
    easter : dict
        ``days after Easter Sunday -> effect`` for Easter-relative special days.
    bank_holiday : float
        Effect of a day flagged ``is_bank_holiday`` that is not one of the dates above.
    school_holiday : float
        Effect of a day flagged ``is_school_holiday`` (on top of the harmonics, which cannot
        follow the sharp edges of a holiday).
    """

    fourier: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fixed: dict[int, float] = field(default_factory=dict)
    easter: dict[int, float] = field(default_factory=dict)
    bank_holiday: float = 0.0
    school_holiday: float = 0.0


def _fourier(ds: pd.DatetimeIndex, k: int) -> np.ndarray:
    """``sin, cos`` of harmonics ``1..k`` of the day of year, shape ``(len(ds), 2k)``."""
    x = 2 * np.pi * (ds.day_of_year.to_numpy(dtype=float) - 1) / YEAR_DAYS
    cols = [f(j * x) for j in range(1, k + 1) for f in (np.sin, np.cos)]
    return np.column_stack(cols) if cols else np.zeros((len(ds), 0))


def _day_keys(ds: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Each day's ``MMDD`` (1225 for 25 December) and its days from its year's Easter Sunday.

    >>> [k.tolist() for k in _day_keys(pd.DatetimeIndex(["2024-03-29", "2024-12-25"]))]
    [[329, 1225], [-2, 269]]
    """
    years = ds.year.to_numpy()
    uniq = np.unique(years)
    sundays = np.array([np.datetime64(easter(int(y)), "D") for y in uniq])
    days = ds.to_numpy().astype("datetime64[D]")
    eoff = (days - sundays[np.searchsorted(uniq, years)]).astype(int)
    return np.asarray(ds.month * 100 + ds.day), eoff


def _special_log(
    md: np.ndarray, eoff: np.ndarray, bank: np.ndarray, profile: CalendarProfile
) -> tuple[np.ndarray, np.ndarray]:
    """Log effects of the special days and a mask of the days a date rule already covers."""
    out = np.zeros(len(md))
    covered = np.zeros(len(md), dtype=bool)
    for keys, effects in ((md, profile.fixed), (eoff, profile.easter)):
        for key, effect in effects.items():
            hit = keys == key
            out[hit] += effect
            covered |= hit
    out += profile.bank_holiday * (bank > 0) * ~covered
    return out, covered


def calendar_factor(
    ds: pd.DatetimeIndex,
    profile: CalendarProfile,
    bank: np.ndarray | None = None,
    school: np.ndarray | None = None,
) -> np.ndarray:
    """The multiplicative calendar factor ``exp(s(t))`` for days ``ds``.

    >>> p = CalendarProfile(fixed={1225: np.log(0.5)}, bank_holiday=np.log(0.8))
    >>> ds = pd.DatetimeIndex(["2025-12-24", "2025-12-25", "2025-12-26"])
    >>> calendar_factor(ds, p, bank=np.array([0, 1, 1])).round(2).tolist()
    [1.0, 0.5, 0.8]
    """
    bank = _flag(bank, len(ds))
    log = _special_log(*_day_keys(ds), bank, profile)[0]
    log = log + profile.school_holiday * _flag(school, len(ds))
    if len(profile.fourier):
        log = log + _fourier(ds, len(profile.fourier) // 2) @ profile.fourier
    return np.exp(log)


def _flag(values: np.ndarray | None, n: int) -> np.ndarray:
    """A 0/1 (or share) feature column as floats, zeros when absent or missing."""
    return np.zeros(n) if values is None else np.nan_to_num(np.asarray(values, dtype=float))


def _design(
    ds: pd.DatetimeIndex, k: int, knot_days: int, school: np.ndarray
) -> tuple[np.ndarray, np.ndarray, slice]:
    """Smooth design (intercept, trend, hinges, day of week, harmonics, school holiday), its
    ridge penalty weights (0 = free) and the slice of the harmonic columns (the school
    holiday column follows them)."""
    t = (ds - ds[0]).days.to_numpy(dtype=float)
    span = t[-1]
    knots = np.arange(knot_days, span - knot_days / 2, knot_days)
    dow = ds.day_of_week.to_numpy()
    cols = [np.ones(len(ds)), t / YEAR_DAYS]
    cols += [np.maximum(t - kn, 0) / YEAR_DAYS for kn in knots]
    cols += [(dow == d).astype(float) for d in range(1, 7)]
    pen = [0.0, 0.0, *[1.0] * len(knots), *[0.0] * 6]
    four = _fourier(ds, k)
    start = len(cols)
    pen += [float(j * j) for j in range(1, k + 1) for _ in (0, 1)]
    X = np.column_stack([*cols, four, school])
    return X, np.asarray([*pen, 1.0]), slice(start, start + 2 * k)


def _ridge(X: np.ndarray, z: np.ndarray, w: np.ndarray, pen: np.ndarray) -> np.ndarray:
    """Weighted ridge solution of ``z ~ X`` with diagonal penalty ``pen``."""
    Xw = X * w[:, None]
    A = X.T @ Xw + np.diag(pen)
    return np.linalg.solve(A, Xw.T @ z)


def _robust_sd(r: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(r - np.median(r)))) or float(np.std(r)) or 1.0


def _shrunk(mean: np.ndarray | float, se2: np.ndarray | float) -> np.ndarray:
    """``mean x (1 - se**2 / mean**2)``, at least 0: the positive-part James-Stein shrinkage
    of an effect towards none given its squared standard error ``se2``.

    >>> _shrunk(np.array([-1.0, 0.2]), 0.01).round(3).tolist()
    [-0.99, 0.15]
    """
    mean = np.asarray(mean, dtype=float)
    return mean * np.clip(1 - np.asarray(se2) / np.maximum(mean**2, 1e-12), 0, 1)


def _learn_dates(
    keys: np.ndarray, years: np.ndarray, r: np.ndarray, sd: float, z: float
) -> dict[int, float]:
    """Special days among integer ``keys`` (one per day): far off, same sign, every year.

    A key is kept when it occurs in at least two years, its residual has the same sign in
    every year, and its mean exceeds ``z`` standard errors (``sd / sqrt(years)``, or the
    spread between years if larger); the effect is the mean, shrunk (:func:`_shrunk`).

    >>> keys = np.array([1, 2, 1, 2]); years = np.array([2020, 2020, 2021, 2021])
    >>> eff = _learn_dates(keys, years, np.array([-0.5, 0.01, -0.6, -0.01]), sd=0.05, z=4)
    >>> {k: round(v, 3) for k, v in eff.items()}
    {1: -0.545}
    """
    if len(keys) == 0:
        return {}
    k_codes, k_inv = np.unique(keys, return_inverse=True)
    y_codes, y_inv = np.unique(years, return_inverse=True)
    cell = k_inv * len(y_codes) + y_inv
    shape = len(k_codes) * len(y_codes)
    cnt = np.bincount(cell, minlength=shape).reshape(len(k_codes), -1)
    tot = np.bincount(cell, weights=r, minlength=shape).reshape(len(k_codes), -1)
    seen = cnt > 0
    per = np.where(seen, tot / np.maximum(cnt, 1), np.nan)  # key x year means
    n = seen.sum(axis=1)
    with np.errstate(all="ignore"):
        mean = np.nansum(per, axis=1) / np.maximum(n, 1)
        var = np.nansum((per - mean[:, None]) ** 2, axis=1) / np.maximum(n - 1, 1)
        lo, hi = np.nanmin(per, axis=1), np.nanmax(per, axis=1)
    se2 = np.maximum(sd**2, var) / np.maximum(n, 1)
    keep = (n >= 2) & ((lo > 0) | (hi < 0)) & (mean**2 > z**2 * se2)
    eff = _shrunk(mean, se2)
    return {int(k): float(e) for k, e in zip(k_codes[keep], eff[keep], strict=True)}


def fit_calendar(
    ds: pd.DatetimeIndex,
    y: np.ndarray,
    bank: np.ndarray | None = None,
    school: np.ndarray | None = None,
    harmonics: int = 20,
    special_z: float = 4.0,
    passes: int = 3,
    knot_days: int = 365,
) -> CalendarProfile:
    """Learn one daily series' yearly profile and special days (see the module docstring).

    Parameters
    ----------
    ds : pd.DatetimeIndex
        Consecutive days.
    y : np.ndarray
        Counts per day, already divided by the exposure [contacts/day].
    bank, school : np.ndarray, optional
        The ``is_bank_holiday`` and ``is_school_holiday`` flags of each day (0/1).
    harmonics : int
        Harmonics of the yearly profile (fewer are used below two years of history).
    special_z : float
        Standard errors a special day's mean effect must exceed.
    passes : int
        Backfitting passes between the smooth profile and the special days.
    knot_days : int
        Days between the knots of the piecewise-linear trend [days].

    Returns
    -------
    CalendarProfile
        Empty (no effects) with less than :data:`MIN_DAYS` of history.

    Examples
    --------
    >>> ds = pd.date_range("2021-01-01", "2024-12-31")
    >>> lam = 100 * np.exp(0.2 * np.cos(2 * np.pi * (ds.day_of_year - 1) / 365.25))
    >>> lam = np.where((ds.month == 12) & (ds.day == 25), lam * 0.3, lam)
    >>> p = fit_calendar(ds, np.random.default_rng(0).poisson(lam).astype(float))
    >>> round(float(p.fourier[1]), 2), round(float(np.exp(p.fixed[1225])), 1)
    (0.2, 0.3)
    """
    n = len(ds)
    if n < MIN_DAYS or harmonics < 1:
        return CalendarProfile()
    years_seen = n / YEAR_DAYS
    k = harmonics if years_seen >= 2 else max(1, harmonics // 2)
    bank, school = _flag(bank, n), _flag(school, n)
    X, pen_w, four = _design(ds, k, knot_days, school)
    z = np.log(np.clip(np.asarray(y, float), 0, None) + _LOG_OFFSET)
    years = ds.year.to_numpy()
    md, eoff = _day_keys(ds)
    in_easter = (eoff >= EASTER_OFFSETS.start) & (eoff < EASTER_OFFSETS.stop)
    profile = CalendarProfile()
    w = np.ones(n)
    special = np.zeros(n)
    for _ in range(passes):
        resid0 = z - special
        sd = _robust_sd(resid0 - X @ _ridge(X, resid0, w, np.zeros(len(pen_w)) + 1e-6))
        # Prior sd of a harmonic of order j: 0.3 / j on the log scale.
        beta = _ridge(X, resid0, w, pen_w * sd**2 / 0.09 + 1e-9)
        r = z - X @ beta
        sd = _robust_sd(r)
        fixed = _learn_dates(md, years, r, sd, special_z)
        school_eff = float(beta[four.stop])
        profile = CalendarProfile(beta[four].copy(), fixed, {}, 0.0, school_eff)
        rest = r - _special_log(md, eoff, bank, profile)[0]
        east = _learn_dates(eoff[in_easter], years[in_easter], rest[in_easter], sd, special_z)
        profile = CalendarProfile(beta[four].copy(), fixed, east, 0.0, school_eff)
        rest = r - _special_log(md, eoff, bank, profile)[0]
        covered = _special_log(md, eoff, bank, profile)[1]
        flagged = (bank > 0) & ~covered
        bh = 0.0
        if flagged.sum() >= 2:
            mean = float(rest[flagged].mean())
            nb = int(flagged.sum())
            if abs(mean) > 2 * sd / np.sqrt(nb):
                bh = float(_shrunk(mean, sd**2 / nb))
        profile = CalendarProfile(beta[four].copy(), fixed, profile.easter, bh, school_eff)
        special = _special_log(md, eoff, bank, profile)[0]
        resid = r - special
        u = np.abs(resid) / (_HUBER * sd)
        w = np.where(u <= 1, 1.0, 1.0 / np.maximum(u, 1e-12))
    return profile


# --- the wrapper --------------------------------------------------------------------------
@single_threaded_fit
class Adjusted(Forecaster):
    """Fit ``model`` on each series divided by its exposure and calendar factor.

    Parameters
    ----------
    model : Forecaster
        The inner model (unfitted); a clone is fitted.
    exposure : str or None
        Driver column whose growth scales the forecast (``None``: none). Leave it ``None``
        for a model that scales by population itself (the pooled GBM).
    calendar : bool
        Learn and divide out the yearly profile and special days (daily series only).
    school : bool
        Learn the effect of the ``is_school_holiday`` feature column (when present).
    harmonics, special_z :
        See :func:`fit_calendar`.

    Examples
    --------
    >>> from mashdemand.forecast.models import make_model
    >>> Adjusted(make_model("snaive")).name
    'AdjustedSeasonalNaive'
    """

    uses_features = True

    def __init__(
        self,
        model: Forecaster,
        *,
        exposure: str | None = POP_ALL,
        calendar: bool = True,
        harmonics: int = 20,
        special_z: float = 4.0,
        school: bool = True,
        freq: str | None = None,
        season_length: int | None = None,
    ) -> None:
        super().__init__(freq=freq or model.freq, season_length=season_length)
        self.model = model
        self.exposure = exposure
        self.calendar = calendar
        self.harmonics = harmonics
        self.special_z = special_z
        self.school = school

    @property
    def name(self) -> str:
        return f"Adjusted{self.model.name}"

    @property
    def m(self) -> int:
        return self.model.m

    @property
    def per_series(self) -> bool:  # type: ignore[override]
        """Per series when the inner model is (the calendar profiles are per series)."""
        return self.model.per_series

    def _factor(self, uid: str, ds: pd.DatetimeIndex, frame: pd.DataFrame | None) -> np.ndarray:
        """Exposure x calendar factor of series ``uid`` on forecast days ``ds``."""
        out = np.ones(len(ds))
        has = self.exposure is not None and frame is not None and self.exposure in frame.columns
        if has and uid in self.exposure_last_:
            e = exposure_index(frame[self.exposure].to_numpy(), self.exposure_last_[uid])
            if e is not None:
                out *= e
        profile = self.profiles_.get(uid)
        if profile is not None:
            out *= calendar_factor(
                ds, profile, _column(frame, IS_BANK_HOLIDAY), _column(frame, IS_SCHOOL_HOLIDAY)
            )
        return out

    def fit(self, df: pd.DataFrame) -> Self:
        check_training_frame(df)
        df = df.sort_values([UID, DS], ignore_index=True)
        self.profiles_: dict[str, CalendarProfile] = {}
        self.exposure_last_: dict[str, float] = {}
        y = df[Y].to_numpy(dtype=float).copy()
        for uid, idx in df.groupby(UID, sort=False).indices.items():
            g = df.iloc[idx]
            ds = pd.DatetimeIndex(g[DS])
            factor = np.ones(len(g))
            values = _column(g, self.exposure) if self.exposure is not None else None
            e = exposure_index(values)
            if e is not None:
                # the value exposure_index divided by, kept to scale the forecast period
                self.exposure_last_[uid] = float(pd.Series(values).ffill().iloc[-1])
                factor = e
            if self.calendar and self.freq == "day":
                bank = _column(g, IS_BANK_HOLIDAY)
                school = _column(g, IS_SCHOOL_HOLIDAY)
                profile = fit_calendar(
                    ds,
                    y[idx] / factor,
                    bank,
                    school if self.school else None,
                    self.harmonics,
                    self.special_z,
                )
                self.profiles_[uid] = profile
                factor = factor * calendar_factor(ds, profile, bank, school)
            y[idx] = y[idx] / factor
        adjusted = df.assign(**{Y: y})
        self.model_ = clone(self.model).fit(adjusted)
        return self

    def predict(
        self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = LEVELS
    ) -> pd.DataFrame:
        self._check_fitted()
        fc = self.model_.predict(h, X=X, level=level)
        cols = [YHAT, *[c for c in fc.columns if c[:2] in ("lo", "hi")]]
        factor = np.ones(len(fc))
        rows = X.groupby(UID, sort=False).indices if X is not None else {}
        for uid, idx in fc.groupby(UID, sort=False).indices.items():
            ds = pd.DatetimeIndex(fc[DS].iloc[idx])
            frame = None
            if X is not None:  # the series' own rows of X, split once (not a scan per series)
                frame = X.iloc[rows.get(uid, [])].set_index(DS).reindex(ds)
            factor[idx] = self._factor(uid, ds, frame)
        fc = fc.copy()
        fc[cols] = fc[cols].to_numpy(dtype=float) * factor[:, None]
        return finish_forecast(fc, level)


def _column(frame: pd.DataFrame | None, name: str) -> np.ndarray | None:
    """``frame[name]`` as floats, or None when there is no such column."""
    if frame is None or name not in frame.columns:
        return None
    return frame[name].to_numpy(dtype=float)


def adjust_candidates(
    candidates: Mapping[str, Forecaster],
    freq: str,
    adjusted: Mapping[str, Sequence[str]] | None = None,
    added: Mapping[str, Mapping[str, str]] | None = None,
    default_set: bool = True,
) -> dict[str, Forecaster]:
    """The ensemble's members with the calendar and exposure step applied.

    Members named in ``adjusted[freq]`` (default :data:`ADJUSTED_BY_FREQ`) are wrapped in
    :class:`Adjusted` under the same name; for each ``new: member`` of ``added[freq]``
    (default :data:`ADDED_BY_FREQ`) whose member is present, ``Adjusted(member)`` is added
    as ``new``. Models that use features themselves (the pooled GBM) are wrapped without
    exposure, which they apply already. ``default_set=False`` (models the user named
    explicitly) returns the members unchanged. The result's ``models`` stay the names asked
    for; its ``weights`` name every member, added ones included.

    >>> from mashdemand.forecast.models import make_model
    >>> c = adjust_candidates({"snaive": make_model("snaive"), "ets": make_model("ets")}, "day")
    >>> {k: v.name for k, v in c.items()}
    {'snaive': 'SeasonalNaive', 'ets': 'AdjustedETS', 'snaive_adj': 'AdjustedSeasonalNaive'}
    """
    if not default_set:
        return dict(candidates)
    wrap = (ADJUSTED_BY_FREQ if adjusted is None else adjusted).get(freq, ())
    extra = (ADDED_BY_FREQ if added is None else added).get(freq, {})
    out = {n: _wrap(m) if n in wrap else m for n, m in candidates.items()}
    for new, member in extra.items():
        if member in candidates and new not in out:
            out[new] = _wrap(clone(candidates[member]))
    return out


def _wrap(model: Forecaster) -> Adjusted:
    return Adjusted(model, exposure=None if model.uses_features else POP_ALL)

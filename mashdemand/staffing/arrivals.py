"""From a daily forecast to hourly arrivals by priority, at a planning quantile.

Three steps:

1. :func:`build_profiles` learns, for each hub with a record-level contact log, the joint
   distribution of priority and local hour of day on each day type (Monday..Sunday, bank
   holiday): ``P(priority, hour | day type)``, overall and by source, plus the source mix of each
   priority (which sets the minutes per contact where a source differs). Each day type is shrunk
   towards the hub's weekday or weekend profile, so thin cells (bank holidays, urgent contacts)
   stay stable. Hubs without records get the pooled profile of the hubs that have them (noted).
2. :func:`planning_counts` turns each forecast row into a planning count at quantile ``q``.
   With ``sigma`` the upper half-width of the 80% interval over ``z(0.9) = 1.2816``::

       planned = yhat + z(q) * (hi80 - yhat) / 1.2816        (q >= 0.5; lo80 below)

   so ``q = 0.9`` plans at ``hi80`` and ``q = 0.5`` at ``yhat``. Applied day by day, which is
   conservative for a quarter (days' errors are not perfectly correlated) and right for the
   busy days a roster must absorb.
3. :func:`hourly_arrivals` spreads each day's planned count over the hours of that day and the
   priorities with the hub's profile for that day type, giving arrival rates
   [contacts/hour] and work [staff-minutes/hour] on the simulation grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.hubs import display_name
from mashdemand.staffing import defaults
from mashdemand.staffing.config import DAY_TYPES, PRIORITIES, StaffingConfig, StaffingError
from mashdemand.staffing.grid import Grid, day_types

__all__ = [
    "ArrivalProfile",
    "build_profiles",
    "default_profile",
    "hourly_arrivals",
    "planning_counts",
    "validate_forecast",
]

SOURCES: tuple[str, ...] = schema.SOURCES
FORECAST_REQUIRED: tuple[str, ...] = (schema.HUB, schema.DATE, schema.YHAT, "lo80", "hi80")
PLANNED = "planned"
Z90 = 1.2815515655446004  # z(0.9), the standard normal's 90th percentile
WEEKDAYS = slice(0, 5)
WEEKEND = [5, 6, 7]


@dataclass(frozen=True)
class ArrivalProfile:
    """When a hub's contacts arrive, and of which priority and source.

    Attributes
    ----------
    joint : numpy.ndarray
        (8, 4, 24): ``P(priority, hour | day type)``; each ``joint[d]`` sums to 1.
    joint_by_source : numpy.ndarray
        (6, 8, 4, 24): the same for each source (``schema.SOURCES`` order).
    source_mix : numpy.ndarray
        (4, 6): ``P(source | priority)``.
    day_volume : numpy.ndarray
        (8,) mean contacts on a day of each type relative to the mean day.
    n_contacts : int
        Records the profile was learnt from.
    origin : str
        ``own`` (the hub's records), ``pooled`` (other hubs') or ``default``.
    """

    joint: np.ndarray
    joint_by_source: np.ndarray
    source_mix: np.ndarray
    day_volume: np.ndarray
    n_contacts: int
    origin: str

    def priority_mix(self, day_type: int | None = None) -> np.ndarray:
        """``P(priority)`` on a day type (or averaged over day types by volume), shape (4,)."""
        if day_type is not None:
            return self.joint[day_type].sum(axis=1)
        w = self.day_volume / self.day_volume.sum()
        return np.einsum("d,dph->p", w, self.joint)

    def minutes(self, config: StaffingConfig) -> np.ndarray:
        """Mean staff minutes per contact of each priority, over this hub's source mix (4,)."""
        table = np.array([[config.minutes_for(p, s) for s in SOURCES] for p in PRIORITIES])
        return (self.source_mix * table).sum(axis=1)


def _shrunk(counts: np.ndarray, k: float) -> np.ndarray:
    """Normalise (8, 4, 24) counts per day type, shrunk towards weekday/weekend pools."""
    out = np.empty_like(counts, dtype=float)
    pools = {
        "weekday": counts[WEEKDAYS].sum(axis=0),
        "weekend": counts[WEEKEND].sum(axis=0),
    }
    overall = counts.sum(axis=0)
    for d in range(len(DAY_TYPES)):
        prior = pools["weekday" if d < 5 else "weekend"]
        if prior.sum() <= 0:
            prior = overall
        prior = prior / prior.sum() if prior.sum() > 0 else np.full(prior.shape, 1 / prior.size)
        n = counts[d].sum()
        out[d] = (counts[d] + k * prior) / (n + k)
    return out


def _profile_from_counts(
    counts: np.ndarray, n_days: np.ndarray, k: float, origin: str
) -> ArrivalProfile:
    """counts: (6 sources, 8 day types, 4 priorities, 24 hours); n_days: (8,) days observed."""
    total = counts.sum(axis=0)
    joint = _shrunk(total, k)
    by_source = np.empty(counts.shape)
    for s in range(len(SOURCES)):
        by_source[s] = _shrunk(counts[s], k) if counts[s].sum() > 0 else joint
    per_p = counts.sum(axis=(1, 3)).T  # (4, 6)
    overall_src = counts.sum(axis=(1, 2, 3))
    overall_src = overall_src / max(overall_src.sum(), 1)
    mix = np.where(
        per_p.sum(axis=1, keepdims=True) > 0,
        per_p / np.maximum(per_p.sum(axis=1, keepdims=True), 1),
        overall_src,
    )
    per_day = total.sum(axis=(1, 2)) / np.maximum(n_days, 1)
    weekday_mean = per_day[WEEKDAYS].mean() if per_day[WEEKDAYS].sum() > 0 else 1.0
    per_day = np.where(n_days > 0, per_day, weekday_mean)
    day_volume = per_day / per_day.mean()
    return ArrivalProfile(joint, by_source, mix, day_volume, int(counts.sum()), origin)


def default_profile() -> ArrivalProfile:
    """A profile from the sample force's documented generating assumptions (``mashdemand.sample``):
    used only when no record-level contacts are given at all.

    >>> p = default_profile()
    >>> p.joint.shape, round(float(p.joint[0].sum()), 6)
    ((8, 4, 24), 1.0)
    """
    from mashdemand import sample

    w = np.zeros((len(SOURCES), len(DAY_TYPES)))
    for i, s in enumerate(SOURCES):
        w[i, :7] = np.array(sample.DAY_OF_WEEK[s]) * sample.SOURCE_RATE[s]
        w[i, 7] = sample.SOURCE_RATE[s] * sample.BANK_HOLIDAY[s]
    counts = np.zeros((len(SOURCES), len(DAY_TYPES), len(PRIORITIES), 24))
    for i, s in enumerate(SOURCES):
        pri = np.array(sample.PRIORITY_MIX[s])
        hour = np.asarray(sample.HOUR_PROFILE[s])
        counts[i] = w[i][:, None, None] * pri[None, :, None] * hour[None, None, :]
    counts *= 1e6  # as if from many records: no shrinkage needed
    return _profile_from_counts(counts, np.ones(len(DAY_TYPES)), 0.0, "default")


def _local_date_hour(contacts: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """Local (Europe/London) date and hour of each contact."""
    if schema.RECEIVED_DATE in contacts and schema.RECEIVED_HOUR in contacts:
        date = pd.to_datetime(contacts[schema.RECEIVED_DATE]).dt.normalize()
        return date, contacts[schema.RECEIVED_HOUR].to_numpy(dtype=np.int64)
    if schema.RECEIVED_AT_UTC in contacts:
        ts = pd.to_datetime(contacts[schema.RECEIVED_AT_UTC])
        ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts
        local = ts.dt.tz_convert(schema.UK_TZ).dt.tz_localize(None)
    elif schema.RECEIVED_AT in contacts:
        col = contacts[schema.RECEIVED_AT]
        if pd.api.types.is_datetime64_any_dtype(col):
            ts = pd.to_datetime(col)
            if ts.dt.tz is not None:
                ts = ts.dt.tz_convert(schema.UK_TZ).dt.tz_localize(None)
            local = ts  # naive: local UK time (CONTRACTS.md)
        else:
            from mashdemand.ingest.parsing import parse_local_timestamps

            utc, _ = parse_local_timestamps(col)
            local = utc.dt.tz_convert(schema.UK_TZ).dt.tz_localize(None)
    else:
        raise StaffingError(
            "contacts: missing column received_at (or received_at_utc, or received_date and "
            f"received_hour); found {', '.join(map(str, contacts.columns))}"
        )
    return local.dt.normalize(), local.dt.hour.to_numpy(dtype=np.int64)


def _codes(values: pd.Series, vocab: tuple[str, ...], default: int | None) -> np.ndarray:
    """Index of each value in ``vocab`` (normalised text); ``default`` or -1 when unknown.

    Each distinct value is normalised once (a contact log repeats a handful of values).

    >>> _codes(pd.Series([" High", "STANDARD", None, "x"]), ("urgent", "high", "standard"), 2)
    array([1, 2, 2, 2])
    """
    codes, uniques = pd.factorize(values)  # missing values: -1
    norm_ = pd.Series(uniques, dtype=object).astype("string").str.strip().str.lower()
    norm_ = norm_.str.replace(r"[\s-]+", "_", regex=True)
    lookup = {v: i for i, v in enumerate(vocab)}
    fill = -1 if default is None else default
    table = norm_.map(lookup).to_numpy(dtype=float, na_value=np.nan)
    table = np.where(np.isnan(table), fill, table).astype(np.int64)
    return np.append(table, fill)[codes]


def build_profiles(
    contacts: pd.DataFrame | None,
    hubs: Iterable[str],
    config: StaffingConfig,
) -> tuple[dict[str, ArrivalProfile], list[str], dict[str, float]]:
    """Arrival profiles for ``hubs`` from a record-level contact log.

    Parameters
    ----------
    contacts : pandas.DataFrame or None
        At least ``hub, received_at`` (tz-aware, or naive local UK time, or text) and
        ``priority``; ``source`` optional. A store's ``contacts`` table works as it is.
    hubs : iterable of str
        Hubs to profile (those in the forecast).
    config : StaffingConfig
        ``profile_years`` (history used, to each hub's latest record) and ``shrinkage``.

    Returns
    -------
    profiles : dict
        Hub -> :class:`ArrivalProfile`.
    notes : list of str
        Fallbacks used and records left out.
    rpa_share : dict
        Hub -> measured share of contacts with ``rpa`` true in the profile window (where the
        log has that column).
    """
    hubs = list(hubs)
    notes: list[str] = []
    if contacts is None or len(contacts) == 0:
        prof = default_profile()
        notes.append(
            "no record-level contacts given: every hub uses the hour-of-week profile and priority "
            "mix of the sample force's documented assumptions (mashdemand.sample)"
        )
        return {h: prof for h in hubs}, notes, {}
    missing = [c for c in (schema.HUB, schema.PRIORITY) if c not in contacts.columns]
    if missing:
        raise StaffingError(
            f"contacts: missing column(s) {', '.join(missing)}; required hub, received_at, "
            f"priority; found {', '.join(map(str, contacts.columns))}"
        )
    date, hour = _local_date_hour(contacts)
    hub_col = contacts[schema.HUB].astype("string").to_numpy()
    prio = _codes(contacts[schema.PRIORITY], PRIORITIES, None)
    src = (
        _codes(contacts[schema.SOURCE], SOURCES, SOURCES.index("other"))
        if schema.SOURCE in contacts
        else np.full(len(contacts), SOURCES.index("other"))
    )
    ok = (prio >= 0) & date.notna().to_numpy() & (hour >= 0) & (hour < 24)
    if (~ok).sum():
        notes.append(
            f"contacts: {int((~ok).sum()):,} records without a known priority or time left out "
            "of the arrival profiles"
        )
    rpa_col = contacts[schema.RPA].to_numpy() if schema.RPA in contacts else None
    counts_by_hub: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rpa_share: dict[str, float] = {}
    frame = pd.DataFrame({"hub": hub_col, "date": date.to_numpy(), "ok": ok})
    for h, idx in frame.groupby("hub", sort=True).indices.items():
        idx = idx[ok[idx]]
        if len(idx) == 0:
            continue
        d = frame["date"].to_numpy()[idx]
        last = d.max()
        keep = d > last - np.timedelta64(int(round(config.profile_years * 365.25)), "D")
        idx, d = idx[keep], d[keep]
        days = pd.date_range(pd.Timestamp(d.min()), pd.Timestamp(d.max()))
        dt_all = day_types(days)
        n_days = np.bincount(dt_all, minlength=len(DAY_TYPES)).astype(float)
        pos = ((pd.DatetimeIndex(d) - days[0]).days).to_numpy()
        dt = dt_all[pos]
        flat = ((src[idx] * len(DAY_TYPES) + dt) * len(PRIORITIES) + prio[idx]) * 24 + hour[idx]
        counts = np.bincount(flat, minlength=len(SOURCES) * len(DAY_TYPES) * len(PRIORITIES) * 24)
        counts_by_hub[str(h)] = (
            counts.reshape(len(SOURCES), len(DAY_TYPES), len(PRIORITIES), 24).astype(float),
            n_days,
        )
        if rpa_col is not None:
            vals = pd.Series(rpa_col[idx]).astype("boolean")
            if vals.notna().any():
                rpa_share[str(h)] = float(vals.mean())
    if not counts_by_hub:
        raise StaffingError("contacts: no usable records (need hub, received_at and priority)")
    k = config.shrinkage
    own = {h: _profile_from_counts(c, n, k, "own") for h, (c, n) in counts_by_hub.items()}
    pooled_counts = sum(c for c, _ in counts_by_hub.values())
    pooled_days = sum(n for _, n in counts_by_hub.values())
    pooled = _profile_from_counts(pooled_counts, pooled_days, k, "pooled")
    profiles = {}
    fallback = []
    for h in hubs:
        if h in own:
            profiles[h] = own[h]
        else:
            profiles[h] = pooled
            fallback.append(h)
    if fallback:
        notes.append(
            f"no record-level history for {', '.join(map(display_name, fallback))}: they use "
            "the pooled hour-of-week profile and priority mix of "
            + ", ".join(display_name(h) for h in sorted(own))
        )
    return profiles, notes, rpa_share


# --- Forecast ---------------------------------------------------------------------------------
def validate_forecast(forecast: pd.DataFrame, where: str = "forecast") -> pd.DataFrame:
    """Check and tidy a forecast frame (CONTRACTS.md section 4); drop the force total ``ALL``.

    Returns a copy with ``date`` as datetime and, where present, ``priority``/``source``
    normalised; raises :class:`StaffingError` naming the missing columns or bad values.
    """
    missing = schema.missing_columns(forecast.columns, FORECAST_REQUIRED)
    if missing:
        raise StaffingError(
            f"{where}: missing column(s) {', '.join(missing)}; required "
            f"{', '.join(FORECAST_REQUIRED)}; found {', '.join(map(str, forecast.columns))}"
        )
    fc = forecast.copy()
    fc[schema.HUB] = fc[schema.HUB].astype(str)
    fc = fc[fc[schema.HUB] != schema.FORCE_TOTAL]
    if fc.empty:
        raise StaffingError(f"{where}: no hub rows (only the force total {schema.FORCE_TOTAL})")
    try:
        fc[schema.DATE] = pd.to_datetime(fc[schema.DATE]).dt.tz_localize(None).dt.normalize()
    except (ValueError, TypeError, AttributeError):
        try:
            fc[schema.DATE] = pd.to_datetime(fc[schema.DATE], dayfirst=True).dt.normalize()
        except (ValueError, TypeError):
            raise StaffingError(f"{where}: column date has values that are not dates") from None
    for c in (schema.YHAT, "lo80", "hi80"):
        vals = pd.to_numeric(fc[c], errors="coerce")
        if vals.isna().any():
            raise StaffingError(f"{where}: column {c} has missing or non-numeric values")
        fc[c] = vals.astype(float)
    for dim, vocab in ((schema.PRIORITY, PRIORITIES), (schema.SOURCE, SOURCES)):
        if dim in fc:
            vals = fc[dim].astype(str).str.strip().str.lower()
            bad = sorted(set(vals) - set(vocab))
            if bad:
                raise StaffingError(
                    f"{where}: column {dim} has unknown value(s) {', '.join(bad[:5])}; "
                    f"expected {', '.join(vocab)}"
                )
            fc[dim] = vals
    return fc.reset_index(drop=True)


def forecast_dims(fc: pd.DataFrame) -> tuple[str, ...]:
    """The split dimensions a forecast carries among ``priority`` and ``source``."""
    return tuple(d for d in (schema.PRIORITY, schema.SOURCE) if d in fc.columns)


def planning_counts(forecast: pd.DataFrame, quantile: float = defaults.QUANTILE) -> pd.DataFrame:
    """Planning count per forecast row at ``quantile`` (see the module docstring).

    Returns the rows with a ``planned`` column [contacts/period], never negative.

    >>> fc = pd.DataFrame({"hub": ["a"], "date": ["2026-10-01"], "yhat": [100.0],
    ...                    "lo80": [80.0], "hi80": [125.6]})
    >>> planning_counts(fc, 0.9)["planned"].round(1).tolist()
    [125.6]
    >>> planning_counts(fc, 0.8)["planned"].round(1).tolist()
    [116.8]
    """
    if not 0 < quantile < 1:
        raise StaffingError(f"planning quantile {quantile} must be strictly between 0 and 1")
    fc = validate_forecast(forecast) if PLANNED not in forecast else forecast.copy()
    from scipy.special import ndtri  # the normal quantile (scipy.stats is slow to import)

    z = float(ndtri(quantile))
    if quantile >= 0.5:
        sigma = (fc["hi80"] - fc[schema.YHAT]).clip(lower=0) / Z90
    else:
        sigma = (fc[schema.YHAT] - fc["lo80"]).clip(lower=0) / Z90
    fc[PLANNED] = (fc[schema.YHAT] + z * sigma).clip(lower=0)
    return fc


def next_period_start(date: pd.Timestamp, step_days: int) -> pd.Timestamp:
    """Start of the period after the one starting on ``date``, for periods of about
    ``step_days`` days (calendar months, quarters and years by the calendar).

    >>> next_period_start(pd.Timestamp("2026-12-01"), 30).date()
    datetime.date(2027, 1, 1)
    >>> next_period_start(pd.Timestamp("2026-10-05"), 7).date()
    datetime.date(2026, 10, 12)
    """
    if 28 <= step_days <= 31:
        return date + pd.DateOffset(months=1)
    if 89 <= step_days <= 92:
        return date + pd.DateOffset(months=3)
    if 365 <= step_days <= 366:
        return date + pd.DateOffset(years=1)
    return date + pd.Timedelta(days=step_days)


def _daily(
    planned: pd.DataFrame, keys: list[str], profile_volume: np.ndarray, step: int | None = None
) -> pd.DataFrame:
    """Spread non-daily planning counts over the days of each period by day-type volume.

    ``step`` is the period length in days (inferred from the dates when not given; a single
    row cannot tell, so callers that slice a forecast pass the whole forecast's step).
    """
    dates = pd.DatetimeIndex(planned[schema.DATE].drop_duplicates().sort_values())
    if step is None:
        if len(dates) < 2:
            return planned
        step = int(np.median(np.diff(dates.values).astype("timedelta64[D]").astype(int)))
    if step <= 1:
        return planned
    rows = []
    for _, g in planned.groupby(keys, sort=False):
        g = g.sort_values(schema.DATE)
        starts = list(g[schema.DATE])
        ends = starts[1:] + [next_period_start(starts[-1], step)]
        for (_, r), a, b in zip(g.iterrows(), starts, ends, strict=True):
            days = pd.date_range(a, b - pd.Timedelta(days=1))
            w = profile_volume[day_types(days)]
            for d, share in zip(days, w / w.sum(), strict=True):
                row = {k: r[k] for k in keys}
                row[schema.DATE] = d
                row[PLANNED] = r[PLANNED] * share
                rows.append(row)
    return pd.DataFrame(rows)


def hourly_arrivals(
    planned: pd.DataFrame,
    profile: ArrivalProfile,
    grid: Grid,
    config: StaffingConfig,
    minutes_scale: Mapping[str, float] | None = None,
    step: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly arrival rates and work on a grid for one hub.

    Parameters
    ----------
    planned : pandas.DataFrame
        One hub's rows of :func:`planning_counts` (``date``, ``planned`` and optional
        ``priority``/``source``).
    profile : ArrivalProfile
        The hub's profile.
    grid : Grid
        Days to fill. Days outside the forecast take the mean planned count of the window's
        days of the same day type (warm-up and cool-down).
    config : StaffingConfig
        Minutes per contact.
    minutes_scale : mapping, optional
        Minutes to subtract per contact by priority (RPA scenario) [min].

    Returns
    -------
    rate : numpy.ndarray
        (n_steps, 4) expected contacts per hour by priority [contacts/h].
    work : numpy.ndarray
        (n_steps, 4) staff-minutes per hour by priority [min/h].
    """
    dims = [d for d in (schema.PRIORITY, schema.SOURCE) if d in planned.columns]
    daily = _daily(planned, dims or [schema.HUB], profile.day_volume, step)
    n = grid.n_days
    minutes_tab = np.array([[config.minutes_for(p, s) for s in SOURCES] for p in PRIORITIES])
    if minutes_scale:
        cut = np.array([minutes_scale.get(p, 0.0) for p in PRIORITIES])
        minutes_tab = np.maximum(minutes_tab - cut[:, None], 1e-6)
    rate = np.zeros((n, len(PRIORITIES), 24))
    work = np.zeros((n, len(PRIORITIES), 24))
    pos = ((pd.DatetimeIndex(daily[schema.DATE]) - grid.days[0]).days).to_numpy()
    in_grid = (pos >= 0) & (pos < n)
    groups = daily[dims].drop_duplicates().to_dict("records") if dims else [{}]
    window = np.zeros(n, dtype=bool)
    window[grid.lo : grid.hi] = True
    for seg in groups:
        mask = in_grid.copy()
        for k, v in seg.items():
            mask &= (daily[k] == v).to_numpy()
        per_day = np.full(n, np.nan)
        per_day[pos[mask]] = daily[PLANNED].to_numpy()[mask]
        # fill days outside the forecast with the window's mean by day type
        for d in range(len(DAY_TYPES)):
            sel = grid.day_type == d
            known = sel & ~np.isnan(per_day) & window
            fill = per_day[known].mean() if known.any() else np.nan
            if np.isnan(fill):
                known_any = ~np.isnan(per_day) & window
                base = np.nanmean(per_day[known_any]) if known_any.any() else 0.0
                fill = base * profile.day_volume[d] / profile.day_volume[:5].mean()
            per_day[sel & np.isnan(per_day)] = fill
        per_day = np.nan_to_num(per_day)
        src = seg.get(schema.SOURCE)
        s_idx = SOURCES.index(src) if src is not None else None
        base = profile.joint_by_source[s_idx] if s_idx is not None else profile.joint
        shape = base[grid.day_type]  # (n, 4, 24)
        pri = seg.get(schema.PRIORITY)
        if pri is not None:
            p = PRIORITIES.index(pri)
            cond = shape[:, p, :] / np.maximum(shape[:, p, :].sum(axis=1, keepdims=True), 1e-12)
            shape = np.zeros_like(shape)
            shape[:, p, :] = cond
        r = per_day[:, None, None] * shape
        rate += r
        if s_idx is not None:
            mins = minutes_tab[:, s_idx]
        else:
            mins = (profile.source_mix * minutes_tab).sum(axis=1)
        work += r * mins[None, :, None]
    rate = rate.transpose(0, 2, 1).reshape(n * 24, len(PRIORITIES))
    work = work.transpose(0, 2, 1).reshape(n * 24, len(PRIORITIES))
    return rate, work

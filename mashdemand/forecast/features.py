"""Calendar and driver features for every period of every series.

:func:`make_features` turns a grid of ``unique_id, ds`` (period starts at ``freq``) into the
feature columns the models use. Calendar features depend on the period only, so they are
computed once per unique period start and merged; drivers depend on the hub behind each series.

Columns (all numeric, never missing):

=========================  =================================================================
column                     meaning [unit]
=========================  =================================================================
``days``                   days in the period [days]
``working_days``           Monday-Friday days that are not bank holidays [days]
``bank_holidays``          bank holidays of the series' calendar in the period [days]
``school_holiday_share``   share of days in the calendar's state-school holidays [0-1]
``school_closure_share``   share of days schools were closed to most pupils (COVID) [0-1]
``rebound_share``          share of days in the 8 weeks after schools fully reopened [0-1]
``iv_<name>``              share of days inside each intervention window (for a level shift:
                           on or after its start); from :func:`calendar.load_interventions`
                           [0-1]; a hub-specific intervention is 0 for other hubs' series
``trend``                  years since 2017-01-01 at the period start [years]
=========================  =================================================================

For ``freq="day"`` also: ``dow`` (0 = Monday), ``doy_sin``, ``doy_cos`` (day of year on the
unit circle), ``is_bank_holiday``, ``is_school_holiday`` and ``is_christmas`` (24 December to
1 January) [0/1].

Drivers, when ``population`` / ``housing`` are given, for the hub behind each series (the force
total ``ALL`` sums every hub in the driver table), at the middle of the period:

=========================  =================================================================
``population``             all ages, mid-year estimates then the principal projection,
                           linearly interpolated between mid-years (30 June) [persons]
``population_0_17``        the same for children aged 0-17 [persons]
``dwellings``              cumulative net additional dwellings since 2017-01-01 (negative
                           before), actual then planned; a year's delivery is spread evenly
                           over its financial year, 1 April to 31 March [dwellings]
=========================  =================================================================

Outside the driver tables' years values are held at the nearest edge (no extrapolation).

Calendars: ``calendar`` names the public holidays and school terms (:func:`calendar.get_calendar`:
``england-and-wales`` by default, ``scotland``, ``northern-ireland`` or a country code such as
``FR``), one for every series or one per hub. Series of hubs on different calendars get their
own bank- and school-holiday columns; the force total ``ALL`` gets the mean over its hubs (the
share of hubs on holiday) unless the mapping names a calendar for ``ALL`` itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from mashdemand import calendar as cal
from mashdemand.drivers import ALL_BAND, CHILD_BAND, housing_for_years, population_for_years
from mashdemand.forecast.base import DS, FREQ_ALIASES, UID, offset
from mashdemand.schema import (
    AGE_BAND,
    FORCE_TOTAL,
    HUB,
    NET_ADDITIONAL_DWELLINGS,
    POPULATION,
    SPLIT_SEP,
    YEAR,
)

__all__ = [
    "BANK_HOLIDAYS",
    "CALENDAR_FEATURES",
    "DAILY_FEATURES",
    "DAYS",
    "DOW",
    "DOY_COS",
    "DOY_SIN",
    "DRIVER_FEATURES",
    "DWELLINGS",
    "INTERVENTION_PREFIX",
    "IS_BANK_HOLIDAY",
    "IS_CHRISTMAS",
    "IS_SCHOOL_HOLIDAY",
    "POP_ALL",
    "POP_CHILD",
    "REBOUND_SHARE",
    "SCHOOL_CLOSURE_SHARE",
    "SCHOOL_HOLIDAY_SHARE",
    "TREND",
    "TREND_ORIGIN",
    "WORKING_DAYS",
    "CalendarChoice",
    "hub_calendars",
    "intervention_columns",
    "make_features",
]

DAYS = "days"
WORKING_DAYS = "working_days"
BANK_HOLIDAYS = "bank_holidays"
SCHOOL_HOLIDAY_SHARE = "school_holiday_share"
SCHOOL_CLOSURE_SHARE = "school_closure_share"
REBOUND_SHARE = "rebound_share"
INTERVENTION_PREFIX = "iv_"
TREND = "trend"
DOW = "dow"
DOY_SIN = "doy_sin"
DOY_COS = "doy_cos"
IS_BANK_HOLIDAY = "is_bank_holiday"
IS_SCHOOL_HOLIDAY = "is_school_holiday"
IS_CHRISTMAS = "is_christmas"
POP_ALL = "population"
POP_CHILD = "population_0_17"
DWELLINGS = "dwellings"

#: Calendar columns for every freq (plus one ``iv_<name>`` per intervention).
CALENDAR_FEATURES: tuple[str, ...] = (
    DAYS,
    WORKING_DAYS,
    BANK_HOLIDAYS,
    SCHOOL_HOLIDAY_SHARE,
    SCHOOL_CLOSURE_SHARE,
    REBOUND_SHARE,
    TREND,
)
#: Extra calendar columns for ``freq="day"``.
DAILY_FEATURES: tuple[str, ...] = (
    DOW,
    DOY_SIN,
    DOY_COS,
    IS_BANK_HOLIDAY,
    IS_SCHOOL_HOLIDAY,
    IS_CHRISTMAS,
)
#: Driver columns, present when the driver tables are given.
DRIVER_FEATURES: tuple[str, ...] = (POP_ALL, POP_CHILD, DWELLINGS)

#: One calendar key for every series, or hub slug -> calendar key (see :func:`hub_calendars`).
CalendarChoice: TypeAlias = str | Mapping[str, str]

TREND_ORIGIN = pd.Timestamp("2017-01-01")
REBOUND_DAYS = 56  # schools' full return: referrals rebound over about two months
_TABLE = "_calendar_table"  # temporary column: which calendar table a row takes


def intervention_columns(interventions: pd.DataFrame | None = None) -> list[str]:
    """The ``iv_<name>`` column names for ``interventions`` (default: the shipped ones).

    >>> intervention_columns()
    ['iv_covid_lockdown_1', 'iv_covid_lockdown_2', 'iv_covid_school_closure_2021']
    """
    iv = cal.load_interventions() if interventions is None else interventions
    return [f"{INTERVENTION_PREFIX}{n}" for n in iv["name"]]


def _decimal_year(ts: pd.DatetimeIndex) -> np.ndarray:
    """Calendar year plus the elapsed fraction of it, e.g. 30 June 2024 -> ~2024.49."""
    year = ts.year.to_numpy()
    length = np.where(ts.is_leap_year, 366.0, 365.0)
    return year + (ts.day_of_year.to_numpy() - 1) / length


def _window_flags(days: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    lo = days >= start
    return lo & (days <= end) if pd.notna(end) else lo


def _calendar_table(
    starts: pd.DatetimeIndex,
    freq: str,
    interventions: pd.DataFrame,
    school_overrides: pd.DataFrame | None,
    region: str = cal.DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Calendar features for each period start in ``starts`` (unique, sorted) in ``region``."""
    ends = starts + offset(freq)  # exclusive period ends
    days = pd.date_range(starts.min(), ends.max() - pd.Timedelta(days=1), freq="D", unit="s")
    first = days[0]

    bank = days.isin(cal.bank_holidays(days[0], days[-1], region))
    school = cal.school_holidays(days[0], days[-1], school_overrides, region).to_numpy()
    working = (days.day_of_week < 5) & ~bank
    closure = np.zeros(len(days), dtype=bool)
    rebound = np.zeros(len(days), dtype=bool)
    daily: dict[str, np.ndarray] = {
        DAYS: np.ones(len(days)),
        WORKING_DAYS: working,
        BANK_HOLIDAYS: bank,
        SCHOOL_HOLIDAY_SHARE: school,
    }
    for row in interventions.itertuples(index=False):
        daily[f"{INTERVENTION_PREFIX}{row.name}"] = _window_flags(days, row.start, row.end)
        if pd.notna(row.schools_closed_until) or row.schools == "closed":
            until = row.schools_closed_until if pd.notna(row.schools_closed_until) else row.end
            closure |= _window_flags(days, row.start, until)
        if pd.notna(row.rebound_from):
            stop = row.rebound_from + pd.Timedelta(days=REBOUND_DAYS - 1)
            rebound |= _window_flags(days, row.rebound_from, stop)
    daily[SCHOOL_CLOSURE_SHARE] = closure
    daily[REBOUND_SHARE] = rebound

    # Sums over [start, end) from cumulative sums: one pass, any period length.
    i0 = (starts - first).days.to_numpy()
    i1 = (ends - first).days.to_numpy()
    n = (i1 - i0).astype(float)
    out = {DS: starts}
    shares = {SCHOOL_HOLIDAY_SHARE, SCHOOL_CLOSURE_SHARE, REBOUND_SHARE}
    for name, flags in daily.items():
        cs = np.concatenate([[0.0], np.cumsum(flags, dtype=float)])
        total = cs[i1] - cs[i0]
        out[name] = total / n if name in shares or name.startswith(INTERVENTION_PREFIX) else total
    out[TREND] = (starts - TREND_ORIGIN).days.to_numpy() / 365.25
    if freq == "day":
        doy = 2 * np.pi * (starts.day_of_year.to_numpy() - 1) / 365.25
        out[DOW] = starts.day_of_week.to_numpy().astype(float)
        out[DOY_SIN] = np.sin(doy)
        out[DOY_COS] = np.cos(doy)
        out[IS_BANK_HOLIDAY] = out[BANK_HOLIDAYS]
        out[IS_SCHOOL_HOLIDAY] = out[SCHOOL_HOLIDAY_SHARE]
        md = starts.month * 100 + starts.day
        out[IS_CHRISTMAS] = ((md >= 1224) | (md <= 101)).astype(float)
    frame = pd.DataFrame(out)
    iv_cols = [c for c in frame.columns if c.startswith(INTERVENTION_PREFIX)]
    ordered = [DS, *CALENDAR_FEATURES, *iv_cols]
    if freq == "day":
        ordered += list(DAILY_FEATURES)
    return frame[ordered].astype({c: float for c in ordered if c != DS})


def hub_calendars(hubs: list[str], choice: CalendarChoice = cal.DEFAULT_CALENDAR) -> dict[str, str]:
    """The canonical calendar key of each hub in ``hubs``.

    Parameters
    ----------
    hubs : list of str
        Hub slugs.
    choice : str or mapping
        One key of :func:`calendar.get_calendar` for every hub, or hub slug -> key (also as
        text, ``"hub=key,hub=key"``; :func:`calendar.calendar_choice`); hubs the mapping
        leaves out follow :data:`calendar.DEFAULT_CALENDAR` (England and Wales).

    Raises
    ------
    calendar.CalendarError
        One line naming an unknown calendar and the choices.

    Examples
    --------
    >>> hub_calendars(["glasgow", "leeds"], {"glasgow": "Scotland"})
    {'glasgow': 'scotland', 'leeds': 'england-and-wales'}
    """
    checked = cal.calendar_choice(choice)
    if isinstance(checked, dict):
        return {h: checked.get(h, cal.DEFAULT_CALENDAR) for h in hubs}
    return dict.fromkeys(hubs, checked)


# A group of hubs sharing one calendar table: (calendar key, rows of the term-dates table).
_Group = tuple[str, tuple[int, ...]]


def _hub_group(hub: str, key: str, overrides: pd.DataFrame | None) -> _Group:
    rows = cal.overrides_for_hub(overrides, hub)
    return key, tuple(rows.index) if rows is not None else ()


def _force_total_table(members: list[_Group], tables: dict[_Group, pd.DataFrame]) -> pd.DataFrame:
    """Mean of the member hubs' calendar tables (the share of hubs on holiday, per period)."""
    first = tables[members[0]]
    values = sum(tables[g].drop(columns=DS).to_numpy() for g in members) / len(members)
    return pd.DataFrame(values, columns=first.columns.drop(DS)).assign(**{DS: first[DS]})[
        first.columns
    ]


def _calendar_tables(
    starts: pd.DatetimeIndex,
    freq: str,
    interventions: pd.DataFrame,
    school_overrides: pd.DataFrame | None,
    hubs: list[str],
    choice: CalendarChoice,
) -> tuple[dict[str, int], list[pd.DataFrame]]:
    """Calendar tables per group of hubs sharing a calendar and term dates.

    Returns the table number of each hub and the tables. The force total ``ALL`` follows its
    own entry in a mapping ``choice``; otherwise its hubs' calendar when they share one, else
    the mean of its hubs' tables.
    """
    choice = cal.calendar_choice(choice)
    members = [h for h in hubs if h != FORCE_TOTAL]
    own = not members or (isinstance(choice, dict) and FORCE_TOTAL in choice)
    listed = members + [FORCE_TOTAL] if own and FORCE_TOTAL in hubs else members
    keys = hub_calendars(listed, choice)
    group_of = {h: _hub_group(h, keys[h], school_overrides) for h in listed}
    tables: dict[_Group, pd.DataFrame] = {}
    for group in dict.fromkeys(group_of.values()):
        key, rows = group
        ov = school_overrides.loc[list(rows)] if rows else None
        tables[group] = _calendar_table(starts, freq, interventions, ov, key)
    if FORCE_TOTAL in hubs and not own:
        groups = [group_of[h] for h in members]
        if len(set(groups)) == 1:
            group_of[FORCE_TOTAL] = groups[0]
        else:
            group_of[FORCE_TOTAL] = (FORCE_TOTAL, ())
            tables[group_of[FORCE_TOTAL]] = _force_total_table(groups, tables)
    number = {g: i for i, g in enumerate(tables)}
    return {h: number[g] for h, g in group_of.items()}, list(tables.values())


def _hub_curves(
    population: pd.DataFrame | None, housing: pd.DataFrame | None
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per hub and driver column: (decimal-year knots, values) to interpolate between."""
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    if population is not None and len(population):
        years = range(int(population[YEAR].min()), int(population[YEAR].max()) + 1)
        pop = population_for_years(population, years, fill="nearest")
        for (hub, band), g in pop.groupby([HUB, AGE_BAND], sort=True):
            col = {ALL_BAND: POP_ALL, CHILD_BAND: POP_CHILD}.get(band)
            if col is None:
                continue
            g = g.sort_values(YEAR)
            # Mid-year estimates refer to 30 June: about half way through the year.
            knots = g[YEAR].to_numpy(dtype=float) + 0.496
            curves.setdefault(str(hub), {})[col] = (knots, g[POPULATION].to_numpy(dtype=float))
    if housing is not None and len(housing):
        years = range(int(housing[YEAR].min()), int(housing[YEAR].max()) + 1)
        hs = housing_for_years(housing, years)
        origin = float(_decimal_year(pd.DatetimeIndex([TREND_ORIGIN]))[0])
        for hub, g in hs.groupby(HUB, sort=True):
            g = g.sort_values(YEAR)
            # Financial year y runs 1 April y (y + 0.247) to 31 March y + 1.
            knots = np.concatenate([[g[YEAR].iloc[0]], g[YEAR].to_numpy() + 1.0]) + 0.247
            cum = np.concatenate([[0.0], np.cumsum(g[NET_ADDITIONAL_DWELLINGS].to_numpy(float))])
            cum = cum - np.interp(origin, knots, cum)
            curves.setdefault(str(hub), {})[DWELLINGS] = (knots, cum)
    return curves


def _driver_table(
    starts: pd.DatetimeIndex,
    freq: str,
    hubs: list[str],
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]],
) -> pd.DataFrame | None:
    """Driver columns per (hub, period start), or None when a hub is not covered."""
    mids = starts + (starts + offset(freq) - starts) / 2
    t = _decimal_year(pd.DatetimeIndex(mids))
    cols = sorted(
        {c for hub_curves in curves.values() for c in hub_curves}, key=DRIVER_FEATURES.index
    )
    every = sorted(curves)
    frames = []
    for hub in hubs:
        members = every if hub == FORCE_TOTAL else [hub]
        missing = [m for m in members if any(c not in curves.get(m, {}) for c in cols)]
        if missing:
            warnings.warn(
                f"make_features: no {'/'.join(cols)} for hub(s) {', '.join(missing)}; "
                "driver columns left out",
                UserWarning,
                stacklevel=3,
            )
            return None
        f = pd.DataFrame({HUB: hub, DS: starts})
        for c in cols:
            f[c] = sum(np.interp(t, *curves[m][c]) for m in members)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def make_features(
    index: pd.DataFrame,
    freq: str,
    hub_of: Mapping[str, str] | None = None,
    population: pd.DataFrame | None = None,
    housing: pd.DataFrame | None = None,
    interventions: pd.DataFrame | None = None,
    school_overrides: pd.DataFrame | str | Path | None = None,
    calendar: CalendarChoice = cal.DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """Calendar and driver features for each ``unique_id, ds`` of ``index``.

    Parameters
    ----------
    index : pandas.DataFrame
        ``unique_id, ds``; ``ds`` are period starts at ``freq`` (extra columns are ignored).
    freq : str
        Period code, one of ``FREQ_ALIASES`` (``day``, ``week``, ``month``, ``quarter``,
        ``year``, ``fy``).
    hub_of : mapping, optional
        ``unique_id`` -> hub slug (``"ALL"`` for the force). Default: the part of the id
        before :data:`~mashdemand.schema.SPLIT_SEP` (``"reading|police"`` -> ``"reading"``).
    population, housing : pandas.DataFrame, optional
        Driver tables (CONTRACTS.md section 3, :func:`drivers.read_population`,
        :func:`drivers.read_housing`). If a series' hub is not in a table, a warning is
        issued and the driver columns are left out.
    interventions : pandas.DataFrame, optional
        As from :func:`calendar.load_interventions` (default: the shipped COVID-19 windows).
    school_overrides : pandas.DataFrame or path, optional
        Published school-holiday ranges ``start, end`` (see :func:`calendar.school_holidays`),
        optionally per local authority with a column ``la`` naming the hub (a hub uses its
        own rows, else the rows without ``la``; :func:`calendar.overrides_for_hub`).
    calendar : str or mapping
        Public holidays and school terms: a key of :func:`calendar.get_calendar` for every
        series (default ``england-and-wales``; ``scotland``, ``northern-ireland``, ``FR``...),
        or hub slug -> key (see :func:`hub_calendars`).

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds`` and the feature columns described in the module docstring, one row
        per row of ``index``, in its order, with no missing values.

    Examples
    --------
    >>> idx = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2022-04-01"])})
    >>> f = make_features(idx, "month")
    >>> f[["days", "bank_holidays", "working_days"]].iloc[0].tolist()
    [30.0, 2.0, 19.0]
    >>> make_features(idx, "month", calendar="scotland")["bank_holidays"].tolist()
    [1.0]
    """
    if freq not in FREQ_ALIASES:
        raise ValueError(f"freq {freq!r} is not one of {', '.join(FREQ_ALIASES)}")
    missing = [c for c in (UID, DS) if c not in index.columns]
    if missing:
        raise ValueError(
            f"make_features: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, index.columns))}"
        )
    base = index[[UID, DS]].copy()
    base[DS] = pd.to_datetime(base[DS]).dt.normalize()
    if base.empty:
        return base
    iv = cal.load_interventions() if interventions is None else interventions
    if isinstance(school_overrides, str | Path):
        school_overrides = cal.read_school_holiday_overrides(school_overrides)

    starts = pd.DatetimeIndex(np.sort(base[DS].unique())).as_unit("s")
    uids = pd.Index(base[UID].unique())
    hubs = pd.Series(
        [
            hub_of[u] if hub_of is not None and u in hub_of else str(u).split(SPLIT_SEP)[0]
            for u in uids
        ],
        index=uids,
    )
    hub_col = base[UID].map(hubs).to_numpy()

    table_of, tables = _calendar_tables(
        starts, freq, iv, school_overrides, sorted(set(hubs)), calendar
    )
    base[DS] = base[DS].astype("datetime64[s]")
    base[_TABLE] = pd.Series(hub_col).map(table_of).to_numpy()
    cal_frame = pd.concat([t.assign(**{_TABLE: i}) for i, t in enumerate(tables)])
    out = base.merge(cal_frame, on=[_TABLE, DS], how="left").drop(columns=_TABLE)

    # Hub-specific interventions only touch their own hub's series.
    for row in iv.itertuples(index=False):
        if isinstance(row.hub, str) and row.hub:
            col = f"{INTERVENTION_PREFIX}{row.name}"
            out.loc[hub_col != row.hub, col] = 0.0

    curves = _hub_curves(population, housing)
    if curves:
        drv = _driver_table(starts, freq, sorted(set(hubs)), curves)
        if drv is not None:
            out[HUB] = hub_col
            out = out.merge(drv, on=[HUB, DS], how="left").drop(columns=HUB)
    out[DS] = out[DS].astype(index[DS].dtype) if index[DS].dtype.kind == "M" else out[DS]
    return out.reset_index(drop=True)

"""Aggregated counts: reading (CONTRACTS.md section 2), period inference and aggregation.

A counts frame is tidy: ``hub, date, contacts`` plus optional split columns (``priority``,
``source``, ``subject``), where ``date`` is the start of the period. The period is inferred from
the dates (:func:`infer_freq`): day, week (Monday starts), month, quarter, calendar year, or UK
financial year (1 April to 31 March, as public bodies report, labelled by its start).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.forecast.base import FREQ_ALIASES
from mashdemand.hubs import validate_hubs

SPLITS: tuple[str, ...] = (schema.PRIORITY, schema.SOURCE, schema.SUBJECT)
# Coarseness order: a history can be aggregated to any later entry.
FREQ_ORDER: tuple[str, ...] = ("day", "week", "month", "quarter", "year", "fy")


class CountsError(schema.SchemaError):
    """Aggregated counts cannot be used; the message names the file, row or column."""


def read_counts(path: str | Path) -> tuple[pd.DataFrame, str]:
    """Read an aggregated-counts CSV and infer its period.

    Parameters
    ----------
    path : path
        CSV with ``hub, date, contacts`` and optional ``priority, source, subject``. Dates are
        ISO (``2024-04-01``) or UK day-first (``01/04/2024``).

    Returns
    -------
    (frame, freq)
        ``hub, date, contacts [, splits]`` [contacts/period] sorted, and the period code.

    Raises
    ------
    CountsError
        Missing columns, a hub breaking the hub rule (:func:`mashdemand.hubs.validate_hubs`:
        empty, ``|``, a control character, a formula such as ``=HYPERLINK(...)``), unparseable
        dates or counts (naming the row), negative counts, duplicate rows, or dates that fit
        no period.
    """
    p = Path(path)
    if not p.exists():
        raise CountsError(f"{p}: file not found")
    try:
        df = pd.read_csv(p, dtype=str, encoding="utf-8-sig", sep=None, engine="python")
    except UnicodeDecodeError:
        df = pd.read_csv(p, dtype=str, encoding="cp1252", sep=None, engine="python")
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise CountsError(f"{p}: cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = schema.missing_columns(df.columns, schema.COUNT_REQUIRED)
    if missing:
        raise CountsError(
            f"{p}: missing column(s) {', '.join(missing)}; required hub, date, contacts; "
            f"found {', '.join(df.columns)}"
        )
    if df.empty:
        raise CountsError(f"{p}: has a header but no data rows")
    keep = [schema.HUB, schema.DATE, schema.CONTACTS] + [c for c in SPLITS if c in df.columns]
    df = df[keep].copy()
    rows = pd.Series(np.arange(2, len(df) + 2), index=df.index)  # spreadsheet rows

    df[schema.HUB] = validate_hubs(df[schema.HUB], p, column=schema.HUB, error=CountsError)

    date = _per_distinct(df[schema.DATE], _parse_dates)
    bad = date.isna()
    if bad.any():
        i = bad.idxmax()
        raise CountsError(
            f"{p}: row {rows[i]}, column date: cannot read {df.loc[i, schema.DATE]!r} as a date "
            "(use 2024-04-01 or 01/04/2024)"
        )
    df[schema.DATE] = date

    n = _per_distinct(df[schema.CONTACTS], _parse_counts)
    bad = n.isna() | (n < 0) | (n != np.floor(n))
    if bad.any():
        i = bad.idxmax()
        raise CountsError(
            f"{p}: row {rows[i]}, column contacts: {df.loc[i, schema.CONTACTS]!r} is not a "
            "whole number of contacts >= 0 (suppressed values such as 'c' or '[c]' cannot be "
            "modelled: fill or drop them first)"
        )
    df[schema.CONTACTS] = n.astype("int64")
    for c in SPLITS:
        if c in df.columns:
            df[c] = _per_distinct(df[c], _token).fillna("unknown")

    keys = [c for c in df.columns if c != schema.CONTACTS]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        i = dup.idxmax()
        raise CountsError(f"{p}: row {rows[i]}: the same {', '.join(keys)} appears more than once")
    try:
        freq = infer_freq(df[schema.DATE])
    except ValueError as exc:
        raise CountsError(f"{p}: column date: {exc}") from None
    return df.sort_values(keys).reset_index(drop=True), freq


def _per_distinct(s: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``parse(s)``, computed once per distinct value of ``s`` and spread back to its rows.

    A counts file repeats a few thousand dates and a handful of sources over many rows; string
    methods and ``to_datetime`` would otherwise run on every row. Missing values are parsed
    as one more value.
    """
    codes, uniques = pd.factorize(s)
    values = list(uniques) + ([np.nan] if (codes < 0).any() else [])  # code -1: the last
    parsed = parse(pd.Series(values, dtype=s.dtype))
    return pd.Series(parsed.take(codes).to_numpy(), index=s.index, name=s.name)


def _parse_counts(s: pd.Series) -> pd.Series:
    """Counts as numbers (thousands separators allowed); NaN where not a number."""
    return pd.to_numeric(s.str.replace(",", "").str.strip(), errors="coerce")


def _token(s: pd.Series) -> pd.Series:
    """Split values normalised: trimmed, lower case, spaces and hyphens to ``_``."""
    return s.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def _parse_dates(s: pd.Series) -> pd.Series:
    s = s.str.strip()
    iso = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(s, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)


def infer_freq(dates: pd.Series | pd.DatetimeIndex) -> str:
    """The period code of a set of period-start dates.

    >>> infer_freq(pd.to_datetime(["2021-04-01", "2022-04-01", "2023-04-01"]))
    'fy'
    >>> infer_freq(pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"]))
    'quarter'
    >>> infer_freq(pd.to_datetime(["2024-01-01", "2024-01-08"]))
    'week'
    """
    d = pd.DatetimeIndex(pd.unique(pd.DatetimeIndex(dates))).sort_values()
    if len(d) < 2:
        raise ValueError("need at least two distinct dates to tell the period")
    gaps = np.diff(d.values).astype("timedelta64[D]").astype(int)
    first = (d.day == 1).all()
    if first and (d.month == 4).all() and (gaps >= 365).all():
        return "fy"
    if first and (d.month == 1).all() and (gaps >= 365).all():
        return "year"
    if first and np.isin(d.month, [1, 4, 7, 10]).all() and (gaps >= 90).all():
        return "quarter"
    if first and (gaps >= 28).all():
        return "month"
    if (d.day_of_week == 0).all() and (gaps % 7 == 0).all():
        return "week"
    if (gaps >= 1).all() and (gaps.min() == 1):
        return "day"
    raise ValueError(
        "dates fit no period (day, week starting Monday, month, quarter, year, or financial "
        "year starting 1 April): use the start date of each period"
    )


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The start of the ``freq`` period containing each date.

    >>> period_start(pd.Series(pd.to_datetime(["2024-03-31", "2024-04-01"])), "fy").tolist()
    [Timestamp('2023-04-01 00:00:00'), Timestamp('2024-04-01 00:00:00')]
    """
    d = pd.to_datetime(dates)
    if freq == "day":
        return d.dt.normalize()
    if freq == "week":
        return (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).dt.normalize()
    if freq == "month":
        return d.dt.to_period("M").dt.start_time
    if freq == "quarter":
        return d.dt.to_period("Q").dt.start_time
    if freq == "year":
        return d.dt.to_period("Y").dt.start_time
    if freq == "fy":
        year = d.dt.year - (d.dt.month < 4).astype(int)
        return pd.to_datetime({"year": year, "month": 4, "day": 1})
    raise ValueError(f"unknown period {freq!r}; choose from {', '.join(FREQ_ALIASES)}")


def aggregate(counts: pd.DataFrame, freq: str, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Sum daily (or finer-period) counts into ``freq`` periods: ``hub, [by], date, contacts``.

    Only complete periods are kept: a period is complete when the history covers all its days
    (a partial first or last month would look like a fall in demand).
    """
    keys = [schema.HUB, *by]
    df = counts.copy()
    df["_period"] = period_start(df[schema.DATE], freq)
    out = df.groupby([*keys, "_period"], as_index=False)[schema.CONTACTS].sum()
    out = out.rename(columns={"_period": schema.DATE})
    if freq != "day":
        lo, hi = counts[schema.DATE].min(), counts[schema.DATE].max()
        starts = out[schema.DATE]
        ends = starts + pd.tseries.frequencies.to_offset(FREQ_ALIASES[freq]) - pd.Timedelta(days=1)
        out = out[(starts >= lo) & (ends <= hi)]
    return out.sort_values([*keys, schema.DATE]).reset_index(drop=True)


#: A missing period is a gap in the record, not a period without contacts, when its series
#: averages at least this many contacts per period: such a series almost never has a true zero.
MIN_LEVEL_TO_IMPUTE = 5.0
_LEVEL_WINDOW = 28  # days each side whose mean sets the level across a daily gap


def fill_missing(
    counts: pd.DataFrame, freq: str, by: tuple[str, ...] | list[str] = ()
) -> pd.DataFrame:
    """Complete each series' span: missing periods become zero, or an estimate where the
    series is busy enough that a missing row means missing data.

    A counts file (CONTRACTS.md section 2) may leave out periods. For a small series (under
    :data:`MIN_LEVEL_TO_IMPUTE` contacts per period on average) an absent period most likely
    had no contacts and is filled with 0. For a busier one a zero is all but impossible, so the
    absent period is a gap in the record (an outage, a lost export): it is estimated so that it
    neither drags the level down nor teaches the models a false pattern. Daily gaps take the
    level of the ``28`` observed days either side (linearly across the gap) times the series'
    own day-of-week shape; other periods are interpolated linearly. The fill happens before the
    hubs are summed, so the force total is not understated on the days a hub is missing.

    Parameters
    ----------
    counts : DataFrame
        ``hub, date, contacts`` (+ ``by`` columns) at ``freq``.
    freq : str
        Period of ``counts`` (``day``, ``week``, ...).
    by : sequence of str
        Split columns; each hub x split series is completed on its own.

    Returns
    -------
    DataFrame
        ``counts`` with a row added for each absent period of each series (other columns,
        such as a source not split by, left empty there); unchanged when nothing is absent.

    Examples
    --------
    >>> days = pd.date_range("2024-01-01", periods=70, freq="D")
    >>> c = pd.DataFrame({"hub": "a", "date": days, "contacts": 100.0})
    >>> gap = c.drop(index=range(30, 40))  # ten days lost
    >>> out = fill_missing(gap, "day")
    >>> len(out), float(out["contacts"].min())
    (70, 100.0)
    >>> small = c.assign(contacts=1.0).drop(index=[5])
    >>> float(fill_missing(small, "day")["contacts"].min())
    0.0
    """
    keys = [schema.HUB, *by]
    # Other columns (a source column when not splitting by it) may give several rows a day.
    totals = counts.groupby([*keys, schema.DATE], observed=True, as_index=False)[
        schema.CONTACTS
    ].sum()
    added = []
    for key, g in totals.groupby(keys, sort=False, observed=True):
        idx = pd.date_range(g[schema.DATE].min(), g[schema.DATE].max(), freq=FREQ_ALIASES[freq])
        if len(idx) == len(g):
            continue
        y = g.set_index(schema.DATE)[schema.CONTACTS].astype(float).reindex(idx)
        absent = y.isna().to_numpy()
        if y.mean() < MIN_LEVEL_TO_IMPUTE:
            y = y.fillna(0.0)
        elif freq == "day":
            y = _fill_daily_gap(y)
        else:
            y = y.interpolate(method="time", limit_direction="both")
        f = pd.DataFrame({schema.DATE: idx[absent], schema.CONTACTS: y.to_numpy()[absent]})
        for col, value in zip(keys, key if isinstance(key, tuple) else (key,), strict=True):
            f[col] = value
        added.append(f)
    if not added:
        return counts
    # New rows for the absent periods only; other columns (e.g. source) are unknown there.
    out = pd.concat([counts, *added], ignore_index=True)
    return out.sort_values([*keys, schema.DATE], kind="stable").reset_index(drop=True)[
        list(counts.columns)
    ]


def _fill_daily_gap(y: pd.Series) -> pd.Series:
    """Missing days of ``y`` (float, NaN where missing): local level x day-of-week shape."""
    seen = y.notna()
    dow = y.index.day_of_week
    shape = y[seen].groupby(dow[seen.to_numpy()]).mean()
    shape = (shape / shape.mean()).reindex(range(7)).fillna(1.0)
    factor = shape.to_numpy()[dow]
    level = (y / factor).rolling(2 * _LEVEL_WINDOW + 1, center=True, min_periods=1).mean()
    level = level.where(seen).interpolate(method="time", limit_direction="both")
    return y.fillna(level * factor)

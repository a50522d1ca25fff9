"""Calendars that shape safeguarding demand: bank holidays, school terms and interventions.

All dates are local UK calendar dates (Europe/London) as tz-naive, day-resolution timestamps.
Everything here is a pure function of its arguments and the shipped defaults in
``mashdemand/defaults/``; nothing reads the network.

* :func:`bank_holidays` -- England and Wales bank holidays. The gov.uk list
  (``defaults/bank_holidays_england_and_wales.json``, 2019-2027, including one-off days such as
  the 2022 jubilee, the Queen's funeral and the 2023 coronation) is preferred for the years it
  covers; the ``holidays`` package fills other years.
* :func:`school_holidays` / :func:`school_days` -- a documented rule for English state-school
  holidays (see :func:`school_holidays`), with an optional table of ``start, end`` ranges that
  overrides the rule (a local authority's published term dates).
* :func:`load_interventions` / :data:`LOCKDOWNS` -- COVID-19 restrictions shipped in
  ``defaults/interventions.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import holidays
import pandas as pd
from dateutil.easter import easter

__all__ = [
    "LOCKDOWNS",
    "GOV_UK_YEARS",
    "Intervention",
    "bank_holidays",
    "fy_label",
    "fy_start",
    "load_interventions",
    "read_school_holiday_overrides",
    "school_days",
    "school_holidays",
    "working_days",
]

DateLike = str | dt.date | pd.Timestamp

_DEFAULTS = resources.files("mashdemand") / "defaults"
_BANK_HOLIDAYS_JSON = "bank_holidays_england_and_wales.json"
_INTERVENTIONS_TOML = "interventions.toml"


def _day(x: DateLike) -> pd.Timestamp:
    """Normalise a date-like to a tz-naive midnight timestamp (local UK date)."""
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("Europe/London").tz_localize(None)
    return ts.normalize()


@cache
def _gov_uk_dates() -> tuple[tuple[int, ...], tuple[dt.date, ...]]:
    """Years covered and dates of the shipped gov.uk England and Wales list."""
    data = json.loads((_DEFAULTS / _BANK_HOLIDAYS_JSON).read_text(encoding="utf-8"))
    dates = tuple(sorted(dt.date.fromisoformat(e["date"]) for e in data["events"]))
    years = tuple(range(dates[0].year, dates[-1].year + 1))
    return years, dates


GOV_UK_YEARS: tuple[int, ...] = _gov_uk_dates()[0]
"""Calendar years for which the shipped gov.uk bank-holiday list is authoritative."""


def bank_holidays(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Bank holidays in England and Wales between ``start`` and ``end`` (inclusive).

    Parameters
    ----------
    start, end : date-like
        Local UK dates bounding the period (inclusive).

    Returns
    -------
    pandas.DatetimeIndex
        Sorted, unique midnight timestamps named ``date``. Years in :data:`GOV_UK_YEARS` come
        from the shipped gov.uk list; other years from ``holidays.country_holidays("GB",
        subdiv="ENG")``, keeping weekdays only (a holiday falling on a weekend is replaced by
        its substitute day, which the package lists as "observed").

    Examples
    --------
    >>> [d.strftime("%d/%m/%Y") for d in bank_holidays("2023-05-01", "2023-05-31")]
    ['01/05/2023', '08/05/2023', '29/05/2023']
    """
    lo, hi = _day(start), _day(end)
    covered, gov = _gov_uk_dates()
    days = [d for d in gov if lo.year <= d.year <= hi.year]
    other_years = [y for y in range(lo.year, hi.year + 1) if y not in covered]
    if other_years:
        pkg = holidays.country_holidays("GB", subdiv="ENG", years=other_years)
        days += [d for d in pkg if d.weekday() < 5 and d.year in other_years]
    idx = pd.DatetimeIndex(sorted(set(days)), name="date").as_unit("s")
    return idx[(idx >= lo) & (idx <= hi)]


def _monday_on_or_before(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _rule_holidays_for_year(year: int) -> list[tuple[dt.date, dt.date]]:
    """School-holiday ranges (inclusive, weekends included) that start in ``year``."""
    td = dt.timedelta
    out: list[tuple[dt.date, dt.date]] = []
    # February half term: the Monday-Friday week starting on the Monday on or after 12 Feb.
    feb = dt.date(year, 2, 12)
    feb_mon = feb + td(days=(7 - feb.weekday()) % 7)
    out.append((feb_mon - td(days=2), feb_mon + td(days=6)))
    # Easter: the two weeks from the Monday before Easter Sunday to the Sunday after Easter week.
    es = easter(year)
    out.append((es - td(days=8), es + td(days=7)))
    # May half term: the week containing the Spring bank holiday (last Monday in May).
    may31 = dt.date(year, 5, 31)
    spring = may31 - td(days=may31.weekday())
    out.append((spring - td(days=2), spring + td(days=6)))
    # Summer: from the Saturday before the Monday nearest 22 July, until the day before the
    # first Wednesday of September (pupils return then; INSET days before it are not counted).
    jul22 = dt.date(year, 7, 22)
    mon = _monday_on_or_before(jul22)
    if (jul22 - mon).days > 3:
        mon += td(days=7)
    sep1 = dt.date(year, 9, 1)
    first_wed = sep1 + td(days=(2 - sep1.weekday()) % 7)
    out.append((mon - td(days=2), first_wed - td(days=1)))
    # October half term: the Monday-Friday week containing 28 October.
    oct_mon = _monday_on_or_before(dt.date(year, 10, 28))
    out.append((oct_mon - td(days=2), oct_mon + td(days=6)))
    # Christmas: from the Saturday nearest 21 December until the day before the first
    # weekday on or after 4 January.
    dec21 = dt.date(year, 12, 21)
    shift = (5 - dec21.weekday()) % 7
    xmas_sat = dec21 + td(days=shift - 7 if shift > 3 else shift)
    jan4 = dt.date(year + 1, 1, 4)
    back = jan4 + td(days={5: 2, 6: 1}.get(jan4.weekday(), 0))
    out.append((xmas_sat, back - td(days=1)))
    return out


def read_school_holiday_overrides(path: str | Path) -> pd.DataFrame:
    """Read a CSV of school-holiday ranges with columns ``start, end`` (inclusive dates).

    Dates may be ISO (``2024-02-12``) or UK day-first (``12/02/2024``).
    """
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in ("start", "end") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}"
        )

    def parse(v: str) -> pd.Timestamp:
        v = v.strip()
        if len(v) >= 10 and v[4] == "-":
            return pd.Timestamp(dt.date.fromisoformat(v[:10]))
        return pd.to_datetime(v, dayfirst=True).normalize()

    out = pd.DataFrame({c: [parse(v) for v in df[c]] for c in ("start", "end")})
    return out


def school_holidays(
    start: DateLike, end: DateLike, overrides: pd.DataFrame | None = None
) -> pd.Series:
    """Whether each day is in an English state-school holiday.

    The default rule approximates a typical local-authority calendar:

    ==================  ===========================================================
    break               rule (inclusive; adjacent weekends included)
    ==================  ===========================================================
    February half term  week starting the Monday on or after 12 February
    Easter              Monday before Easter Sunday to the Sunday a week after it
    May half term       week containing the Spring bank holiday (last Monday in May)
    summer              Saturday before the Monday nearest 22 July to the day before
                        the first Wednesday of September (pupils return that day)
    October half term   week (Monday-Friday) containing 28 October
    Christmas           Saturday nearest 21 December to the day before the
                        first weekday on or after 4 January
    ==================  ===========================================================

    Weekends and bank holidays are not school days either; see :func:`school_days`.

    Parameters
    ----------
    start, end : date-like
        Local UK dates bounding the period (inclusive).
    overrides : pandas.DataFrame, optional
        Columns ``start, end`` (inclusive) of published holiday ranges. Between the earliest
        ``start`` and the latest ``end`` of the table, these replace the rule; outside that
        span the rule applies.

    Returns
    -------
    pandas.Series
        Boolean, indexed by day (``DatetimeIndex`` named ``date``), named ``school_holiday``.

    Examples
    --------
    >>> h = school_holidays("2024-08-01", "2024-09-06")
    >>> h["2024-08-30"], h["2024-09-04"]
    (np.True_, np.False_)
    """
    lo, hi = _day(start), _day(end)
    days = pd.date_range(lo, hi, freq="D", name="date", unit="s")
    flag = pd.Series(False, index=days, name="school_holiday")
    for year in range(lo.year - 1, hi.year + 1):
        for a, b in _rule_holidays_for_year(year):
            flag.loc[pd.Timestamp(a) : pd.Timestamp(b)] = True
    if overrides is not None and len(overrides):
        ov = pd.DataFrame(
            {"start": pd.to_datetime(overrides["start"]), "end": pd.to_datetime(overrides["end"])}
        )
        span = (days >= ov["start"].min()) & (days <= ov["end"].max())
        flag[span] = False
        for a, b in zip(ov["start"], ov["end"], strict=True):
            flag.loc[a.normalize() : b.normalize()] = True
    return flag


# --- UK financial years (April to March) --------------------------------------------------
def fy_start(ts: DateLike) -> pd.Timestamp:
    """1 April starting the financial year (April to March) that contains ``ts``.

    >>> fy_start("2027-03-31")
    Timestamp('2026-04-01 00:00:00')
    """
    t = pd.Timestamp(ts)
    year = t.year if t.month >= 4 else t.year - 1
    return pd.Timestamp(year=year, month=4, day=1)


def fy_label(ts: DateLike) -> str:
    """UK financial-year label (April to March) of a date: ``"2026-27"``.

    >>> fy_label(pd.Timestamp("2026-04-01"))
    '2026-27'
    >>> fy_label(pd.Timestamp("2027-03-31"))
    '2026-27'
    >>> fy_label("2026-03-31"), fy_label("1999-04-01")
    ('2025-26', '1999-00')
    """
    year = fy_start(ts).year
    return f"{year}-{(year + 1) % 100:02d}"


def working_days(start: DateLike, end: DateLike) -> pd.Series:
    """Whether each day is a working day (Monday-Friday and not a bank holiday).

    >>> int(working_days("2022-05-30", "2022-06-05").sum())  # jubilee: 2 and 3 June
    3
    """
    lo, hi = _day(start), _day(end)
    days = pd.date_range(lo, hi, freq="D", name="date", unit="s")
    wd = (days.day_of_week < 5) & ~days.isin(bank_holidays(lo, hi))
    return pd.Series(wd, index=days, name="working_day")


def school_days(start: DateLike, end: DateLike, overrides: pd.DataFrame | None = None) -> pd.Series:
    """Whether each day is a school day: a working day outside the school holidays.

    >>> int(school_days("2024-09-02", "2024-09-08").sum())  # term starts Wed 4 Sep
    3
    """
    wd = working_days(start, end)
    sd = wd & ~school_holidays(start, end, overrides)
    return sd.rename("school_day")


# --- Interventions ------------------------------------------------------------------------
@dataclass(frozen=True)
class Intervention:
    """A dated event that changed demand (CONTRACTS: dates are local UK dates, inclusive).

    Attributes
    ----------
    name : str
        Identifier, e.g. ``covid_lockdown_1``.
    start, end : pandas.Timestamp
        First and last day (``end`` is ``NaT`` for an open-ended level shift).
    kind : str
        ``"window"`` (temporary) or ``"level_shift"`` (permanent from ``start``).
    note : str
        One-line description and source.
    schools : str
        ``"closed"``, ``"open"`` or ``"partial"`` during the window.
    schools_closed_until : pandas.Timestamp
        Last day schools were closed to most pupils (``NaT`` if they stayed open).
    rebound_from : pandas.Timestamp
        First day of the full return to school, from which school referrals rebound.
    hub : str
        Hub slug the intervention applies to, or ``""`` for the whole force.
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str
    note: str = ""
    schools: str = "open"
    schools_closed_until: pd.Timestamp = pd.NaT
    rebound_from: pd.Timestamp = pd.NaT
    hub: str = ""


_KINDS = ("window", "level_shift")


def _read_interventions(path: str | Path | None) -> tuple[Intervention, ...]:
    if path is None:
        text = (_DEFAULTS / _INTERVENTIONS_TOML).read_text(encoding="utf-8")
        where = "defaults/interventions.toml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    raw = tomllib.loads(text).get("intervention", [])
    out = []
    for i, item in enumerate(raw, start=1):
        missing = [k for k in ("name", "start", "kind") if k not in item]
        if missing:
            raise ValueError(f"{where}: intervention {i} lacks {', '.join(missing)}")
        if item["kind"] not in _KINDS:
            raise ValueError(
                f"{where}: intervention {item['name']!r} has kind {item['kind']!r}; "
                f"expected one of {', '.join(_KINDS)}"
            )

        def ts(key: str, item: dict = item) -> pd.Timestamp:
            v = item.get(key)
            return pd.NaT if v in (None, "") else pd.Timestamp(v).as_unit("s")

        out.append(
            Intervention(
                name=item["name"],
                start=ts("start"),
                end=ts("end"),
                kind=item["kind"],
                note=item.get("note", ""),
                schools=item.get("schools", "open"),
                schools_closed_until=ts("schools_closed_until"),
                rebound_from=ts("rebound_from"),
                hub=item.get("hub", ""),
            )
        )
    return tuple(out)


def load_interventions(path: str | Path | None = None) -> pd.DataFrame:
    """Load interventions from a TOML file (default: the shipped COVID-19 restrictions).

    Parameters
    ----------
    path : str or Path, optional
        A TOML file of ``[[intervention]]`` tables with ``name, start, kind`` and optional
        ``end, note, schools, schools_closed_until, rebound_from, hub``. ``None`` loads
        ``mashdemand/defaults/interventions.toml``.

    Returns
    -------
    pandas.DataFrame
        One row per intervention with the fields of :class:`Intervention`, dates as
        tz-naive local UK dates.

    Examples
    --------
    >>> load_interventions()["name"].tolist()
    ['covid_lockdown_1', 'covid_lockdown_2', 'covid_school_closure_2021']
    """
    rows = [vars(x) for x in _read_interventions(path)]
    cols = list(Intervention.__dataclass_fields__)
    df = pd.DataFrame(rows, columns=cols)
    for c in ("start", "end", "schools_closed_until", "rebound_from"):
        df[c] = pd.to_datetime(df[c]).astype("datetime64[s]")
    return df


LOCKDOWNS: tuple[Intervention, ...] = _read_interventions(None)
"""The shipped default interventions (COVID-19 lockdowns and school closures in England)."""

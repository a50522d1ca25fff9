"""Calendars that shape safeguarding demand: bank holidays, school terms and interventions.

All dates are local calendar dates as tz-naive, day-resolution timestamps. Everything here is a
pure function of its arguments and the shipped defaults in ``mashdemand/defaults/``; nothing
reads the network.

* :class:`Calendar` / :func:`get_calendar` -- which public holidays and school terms a series
  follows: one of :data:`REGIONS` (``england-and-wales``, the default, ``scotland``,
  ``northern-ireland``) or a country the ``holidays`` package knows by its ISO 3166 code
  (``FR``, ``IE``; a subdivision as ``FR-6AE``).
* :func:`bank_holidays` -- the calendar's bank (public) holidays. For the UK nations the gov.uk
  lists (``defaults/bank_holidays_<region>.json``, 2019-2027, including one-off days such as
  the 2022 jubilee, the Queen's funeral and the 2023 coronation) are preferred for the years
  they cover; the ``holidays`` package fills other years and serves every other country.
* :func:`school_holidays` / :func:`school_days` -- a documented rule per UK nation for
  state-school holidays (see :func:`school_holidays`), with an optional table of ``start, end``
  ranges (per local authority with ``la``) that overrides the rule (published term dates).
  Other countries have no school holidays unless supplied.
* :func:`load_interventions` / :data:`LOCKDOWNS` -- COVID-19 restrictions shipped in
  ``defaults/interventions.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import holidays
import pandas as pd
from dateutil.easter import easter

from mashdemand.errors import MashdemandError

__all__ = [
    "DEFAULT_CALENDAR",
    "LOCKDOWNS",
    "GOV_UK_YEARS",
    "REGIONS",
    "Calendar",
    "CalendarError",
    "Intervention",
    "bank_holidays",
    "calendar_choice",
    "fy_label",
    "fy_start",
    "get_calendar",
    "load_interventions",
    "overrides_for_hub",
    "read_school_holiday_overrides",
    "school_days",
    "school_holidays",
    "working_days",
]

DateLike = str | dt.date | pd.Timestamp

_DEFAULTS = resources.files("mashdemand") / "defaults"
_INTERVENTIONS_TOML = "interventions.toml"


class CalendarError(MashdemandError, ValueError):
    """An unknown calendar or an unreadable term-dates table (the message says which, in one
    line)."""


# --- which calendar -----------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    """The public holidays and school terms a series follows.

    Attributes
    ----------
    key : str
        Canonical key: a :data:`REGIONS` key (``"scotland"``) or an ISO 3166 code (``"FR"``,
        ``"FR-6AE"``).
    name : str
        Display name, e.g. ``"England and Wales"``.
    country : str
        ISO 3166-1 alpha-2 code passed to ``holidays.country_holidays``.
    subdiv : str or None
        Subdivision passed to ``holidays.country_holidays`` (``"SCT"``), if any.
    gov_uk : str or None
        Shipped gov.uk bank-holiday list (``defaults/`` file name) preferred for its years.
    school : str or None
        Key of the school-holiday rule (:data:`SCHOOL_RULES`); None: no school holidays unless
        supplied.
    """

    key: str
    name: str
    country: str
    subdiv: str | None = None
    gov_uk: str | None = None
    school: str | None = None


DEFAULT_CALENDAR = "england-and-wales"
#: The UK nations' calendars, by key. Every other calendar is a country of ``holidays``.
REGIONS: dict[str, Calendar] = {
    c.key: c
    for c in (
        Calendar(
            DEFAULT_CALENDAR,
            "England and Wales",
            "GB",
            "ENG",
            "bank_holidays_england_and_wales.json",
            DEFAULT_CALENDAR,
        ),
        Calendar("scotland", "Scotland", "GB", "SCT", "bank_holidays_scotland.json", "scotland"),
        Calendar(
            "northern-ireland",
            "Northern Ireland",
            "GB",
            "NIR",
            "bank_holidays_northern_ireland.json",
            "northern-ireland",
        ),
    )
}
# Other spellings of the UK nations (ISO 3166-2 codes and single nations).
_ALIASES: dict[str, str] = {
    "england": DEFAULT_CALENDAR,
    "wales": DEFAULT_CALENDAR,
    "gb-eng": DEFAULT_CALENDAR,
    "gb-wls": DEFAULT_CALENDAR,
    "gb-sct": "scotland",
    "gb-nir": "northern-ireland",
}


def _choices() -> str:
    return (
        f"choose {', '.join(REGIONS)} or a country code of the holidays package "
        "(e.g. FR, IE, DE; a subdivision as FR-6AE)"
    )


def get_calendar(key: str | Calendar = DEFAULT_CALENDAR, what: str = "calendar") -> Calendar:
    """The :class:`Calendar` named ``key``: a region of :data:`REGIONS` or an ISO 3166 code.

    Case, spaces and underscores do not matter for regions (``"Northern Ireland"``); a country
    is ``CC`` or ``CC-SUBDIV`` as the ``holidays`` package names it. ``what`` names the
    argument in the error (the command line's ``--calendar``).

    Raises
    ------
    CalendarError
        One line naming the key and the choices when it is neither.

    Examples
    --------
    >>> get_calendar("Scotland").name, get_calendar("fr").key
    ('Scotland', 'FR')
    >>> get_calendar("XX")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mashdemand.calendar.CalendarError: calendar 'XX': choose england-and-wales, scotland, ...
    """
    if isinstance(key, Calendar):
        return key
    if not isinstance(key, str) or not key.strip():
        raise CalendarError(f"{what} {key!r}: {_choices()}")
    return _calendar_named(key, what)


@cache
def _calendar_named(key: str, what: str) -> Calendar:
    """:func:`get_calendar` for a non-empty string (cached: the package lookup is slow)."""
    slug = re.sub(r"[\s_]+", "-", key.strip().lower())
    slug = _ALIASES.get(slug, slug)
    if slug in REGIONS:
        return REGIONS[slug]
    country, _, subdiv = key.strip().partition("-")
    supported = holidays.list_supported_countries()
    code = country.upper()
    if code in ("GB", "UK") or code not in supported:
        raise CalendarError(f"{what} {key!r}: {_choices()}")
    if subdiv:
        known = {s.upper(): s for s in supported[code]}
        aliases = getattr(holidays.country_holidays(code), "subdivisions_aliases", {})
        known.update({a.upper(): s for a, s in aliases.items()})
        if subdiv.upper() not in known:
            raise CalendarError(
                f"{what} {key!r}: {code} has no subdivision {subdiv!r}; "
                f"choose from {', '.join(supported[code]) or 'none'}"
            )
        sub = known[subdiv.upper()]
        return Calendar(f"{code}-{sub}", f"{code}-{sub}", code, sub)
    return Calendar(code, code, code)


def calendar_choice(
    value: object = DEFAULT_CALENDAR, what: str = "calendar"
) -> str | dict[str, str]:
    """One calendar for every series, or one per hub, checked and in canonical keys.

    Parameters
    ----------
    value : str, Calendar or mapping
        A key of :func:`get_calendar`; a mapping hub slug -> key; or the same mapping as text,
        ``"hub=key,hub=key"`` (as the command line's ``--calendar`` takes it).
    what : str
        The argument's name in errors (``--calendar`` on the command line).

    Returns
    -------
    str or dict
        The canonical key, or hub -> canonical key.

    Raises
    ------
    CalendarError
        One line naming the bad key (and hub) and the choices.

    Examples
    --------
    >>> calendar_choice("Scotland")
    'scotland'
    >>> calendar_choice("glasgow=scotland, belfast=GB-NIR")
    {'glasgow': 'scotland', 'belfast': 'northern-ireland'}
    """
    if isinstance(value, str) and "=" in value:
        pairs = [p.partition("=") for p in value.split(",") if p.strip()]
        bad = [h for h, eq, k in pairs if not (eq and h.strip() and k.strip())]
        if bad:
            raise CalendarError(
                f"{what} {value!r}: give one calendar, or hub=calendar pairs separated by "
                f"commas (e.g. glasgow=scotland,leeds=england-and-wales)"
            )
        value = {h.strip(): k.strip() for h, _, k in pairs}
    if isinstance(value, Mapping):
        out = {}
        for hub, key in value.items():
            try:
                out[str(hub)] = get_calendar(key, what).key
            except CalendarError as exc:
                raise CalendarError(f"hub {hub}: {exc}") from None
        return out
    return get_calendar(value, what).key  # type: ignore[arg-type]


# --- bank holidays ------------------------------------------------------------------------
def _day(x: DateLike) -> pd.Timestamp:
    """Normalise a date-like to a tz-naive midnight timestamp (local UK date)."""
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("Europe/London").tz_localize(None)
    return ts.normalize()


@cache
def _gov_uk_dates(
    name: str = "bank_holidays_england_and_wales.json",
) -> tuple[tuple[int, ...], tuple[dt.date, ...]]:
    """Years covered and dates of a shipped gov.uk list (default England and Wales)."""
    data = json.loads((_DEFAULTS / name).read_text(encoding="utf-8"))
    dates = tuple(sorted(dt.date.fromisoformat(e["date"]) for e in data["events"]))
    years = tuple(range(dates[0].year, dates[-1].year + 1))
    return years, dates


GOV_UK_YEARS: tuple[int, ...] = _gov_uk_dates()[0]
"""Calendar years for which the shipped gov.uk bank-holiday lists are authoritative."""


def _package_holidays(cal: Calendar, years: list[int]) -> list[dt.date]:
    """Weekday holiday dates of the ``holidays`` package for ``years``."""
    pkg = holidays.country_holidays(cal.country, subdiv=cal.subdiv, years=years)
    # A bank holiday is a weekday off work. A UK holiday on a weekend is replaced by its
    # substitute day ("observed"); where a country has no substitute days, a holiday on a
    # weekend changes nothing the day of the week does not already say. (On the SAMU hold-out
    # of issue 11, keeping weekend holidays gave a worse MASE in all three series.)
    return [d for d in pkg if d.year in years and d.weekday() < 5]


def bank_holidays(
    start: DateLike, end: DateLike, region: str | Calendar = DEFAULT_CALENDAR
) -> pd.DatetimeIndex:
    """Bank (public) holidays of ``region`` between ``start`` and ``end`` (inclusive).

    Parameters
    ----------
    start, end : date-like
        Local dates bounding the period (inclusive).
    region : str or Calendar
        A key of :func:`get_calendar`: ``england-and-wales`` (default), ``scotland``,
        ``northern-ireland`` or an ISO 3166 country code (``FR``).

    Returns
    -------
    pandas.DatetimeIndex
        Sorted, unique midnight timestamps named ``date``, weekdays only. For the UK nations,
        years in :data:`GOV_UK_YEARS` come from the shipped gov.uk list and other years from
        ``holidays.country_holidays("GB", subdiv=...)`` (a holiday falling on a weekend is
        replaced by its substitute day, which the package lists as "observed"). Other
        countries: the package's public holidays that fall on a weekday (with the country's
        own substitute days, if it has any).

    Raises
    ------
    CalendarError
        When ``region`` is not a known calendar.

    Examples
    --------
    >>> [d.strftime("%d/%m/%Y") for d in bank_holidays("2023-05-01", "2023-05-31")]
    ['01/05/2023', '08/05/2023', '29/05/2023']
    >>> [d.strftime("%d/%m") for d in bank_holidays("2024-11-01", "2024-12-02", "scotland")]
    ['02/12']
    """
    cal = get_calendar(region)
    lo, hi = _day(start), _day(end)
    years = list(range(lo.year, hi.year + 1))
    days: list[dt.date] = []
    if cal.gov_uk is not None:
        covered, gov = _gov_uk_dates(cal.gov_uk)
        days = [d for d in gov if lo.year <= d.year <= hi.year]
        years = [y for y in years if y not in covered]
    if years:
        days += _package_holidays(cal, years)
    idx = pd.DatetimeIndex(sorted(set(days)), name="date").as_unit("s")
    return idx[(idx >= lo) & (idx <= hi)]


# --- school holidays ----------------------------------------------------------------------
Ranges = list[tuple[dt.date, dt.date]]


def _monday_on_or_before(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _monday_on_or_after(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def _nearest_weekday(d: dt.date, weekday: int) -> dt.date:
    """The day of ``weekday`` (0 = Monday) nearest ``d`` (ties go forward)."""
    shift = (weekday - d.weekday()) % 7
    return d + dt.timedelta(days=shift - 7 if shift > 3 else shift)


def _week_around(monday: dt.date, weekdays: int = 5) -> tuple[dt.date, dt.date]:
    """Saturday before ``monday`` to the day before school resumes after ``weekdays`` off."""
    last = monday + dt.timedelta(days=weekdays - 1)
    if last.weekday() == 4:  # a Friday: the weekend after it too
        last += dt.timedelta(days=2)
    return monday - dt.timedelta(days=2), last


def _christmas(year: int) -> tuple[dt.date, dt.date]:
    """Saturday nearest 21 December to the day before the first weekday on or after 4 January."""
    xmas_sat = _nearest_weekday(dt.date(year, 12, 21), 5)
    jan4 = dt.date(year + 1, 1, 4)
    back = jan4 + dt.timedelta(days={5: 2, 6: 1}.get(jan4.weekday(), 0))
    return xmas_sat, back - dt.timedelta(days=1)


def _rule_holidays_for_year(year: int) -> Ranges:
    """English and Welsh school-holiday ranges (inclusive, weekends included) from ``year``."""
    td = dt.timedelta
    out: Ranges = []
    # February half term: the Monday-Friday week starting on the Monday on or after 12 Feb.
    out.append(_week_around(_monday_on_or_after(dt.date(year, 2, 12))))
    # Easter: the two weeks from the Monday before Easter Sunday to the Sunday after Easter week.
    es = easter(year)
    out.append((es - td(days=8), es + td(days=7)))
    # May half term: the week containing the Spring bank holiday (last Monday in May).
    out.append(_week_around(_monday_on_or_before(dt.date(year, 5, 31))))
    # Summer: from the Saturday before the Monday nearest 22 July, until the day before the
    # first Wednesday of September (pupils return then; INSET days before it are not counted).
    mon = _nearest_weekday(dt.date(year, 7, 22), 0)
    sep1 = dt.date(year, 9, 1)
    first_wed = sep1 + td(days=(2 - sep1.weekday()) % 7)
    out.append((mon - td(days=2), first_wed - td(days=1)))
    # October half term: the Monday-Friday week containing 28 October.
    out.append(_week_around(_monday_on_or_before(dt.date(year, 10, 28))))
    out.append(_christmas(year))
    return out


def _scottish_holidays_for_year(year: int) -> Ranges:
    """Typical Scottish school-holiday ranges (inclusive, weekends included) from ``year``."""
    td = dt.timedelta
    out: Ranges = []
    # February: a long weekend, Saturday to the Tuesday after the Monday on or after 12 Feb.
    out.append(_week_around(_monday_on_or_after(dt.date(year, 2, 12)), weekdays=2))
    # Spring: two weeks from the first Monday in April (most councils fix it, not Easter).
    april = _monday_on_or_after(dt.date(year, 4, 1))
    out.append((april - td(days=2), april + td(days=13)))
    # Summer: from the Saturday nearest 29 June until the day before the Wednesday nearest
    # 16 August (pupils return mid-August).
    out.append(
        (
            _nearest_weekday(dt.date(year, 6, 29), 5),
            _nearest_weekday(dt.date(year, 8, 16), 2) - td(days=1),
        )
    )
    # October: the week starting the second Monday in October.
    out.append(_week_around(_monday_on_or_after(dt.date(year, 10, 8))))
    out.append(_christmas(year))
    return out


def _northern_irish_holidays_for_year(year: int) -> Ranges:
    """Typical Northern Irish school-holiday ranges (inclusive, weekends included) from
    ``year``."""
    td = dt.timedelta
    out: Ranges = []
    # February mid-term: as in England.
    out.append(_week_around(_monday_on_or_after(dt.date(year, 2, 12))))
    # Easter: Thursday before Easter Sunday to the Sunday after Easter week.
    es = easter(year)
    out.append((es - td(days=3), es + td(days=7)))
    # Summer: 1 July (schools close on 30 June) to the day before the first weekday of
    # September.
    sep1 = dt.date(year, 9, 1)
    back = sep1 + td(days={5: 2, 6: 1}.get(sep1.weekday(), 0))
    out.append((dt.date(year, 7, 1), back - td(days=1)))
    # Halloween: the Monday-Friday week containing 31 October (or the week before it).
    out.append(_week_around(_monday_on_or_before(dt.date(year, 10, 31))))
    out.append(_christmas(year))
    return out


#: School-holiday rule per :attr:`Calendar.school` key: year -> inclusive date ranges.
SCHOOL_RULES: dict[str, Callable[[int], Ranges]] = {
    DEFAULT_CALENDAR: _rule_holidays_for_year,
    "scotland": _scottish_holidays_for_year,
    "northern-ireland": _northern_irish_holidays_for_year,
}
#: Column of a term-dates table naming the local authority (or hub) a row applies to.
LA = "la"
_LA_NAMES = ("la", "local_authority", "hub")


def _slug(text: str) -> str:
    """``"Milton Keynes"`` -> ``"milton-keynes"`` (hub slugs, CONTRACTS.md section 1)."""
    return re.sub(r"[\s_]+", "-", str(text).strip().lower())


def read_school_holiday_overrides(path: str | Path) -> pd.DataFrame:
    """Read a CSV of school-holiday ranges with columns ``start, end`` (inclusive dates).

    Dates may be ISO (``2024-02-12``) or UK day-first (``12/02/2024``). An optional column
    ``la`` (or ``local_authority``, ``hub``) names the local authority each range applies to,
    as a hub slug (``Milton Keynes`` is read as ``milton-keynes``); a blank one applies to
    every hub. See :func:`overrides_for_hub`.

    Raises
    ------
    CalendarError
        One line naming the file and the missing column, or the row and the bad date.
    """
    df = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in ("start", "end") if c not in df.columns]
    if missing:
        raise CalendarError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}"
        )

    def parse(v: str, row: int, col: str) -> pd.Timestamp:
        v = v.strip()
        if not v:
            raise CalendarError(f"{path}: row {row}, column {col}: empty; give a date")
        try:
            if len(v) >= 10 and v[4] == "-":
                return pd.Timestamp(dt.date.fromisoformat(v[:10]))
            return pd.to_datetime(v, dayfirst=True).normalize()
        except (ValueError, TypeError):
            raise CalendarError(f"{path}: row {row}, column {col}: {v!r} is not a date") from None

    out = pd.DataFrame(
        {c: [parse(v, i, c) for i, v in enumerate(df[c], start=2)] for c in ("start", "end")}
    )
    la = next((c for c in _LA_NAMES if c in df.columns), None)
    if la is not None:
        out[LA] = [_slug(v) for v in df[la]]
    return out


def overrides_for_hub(overrides: pd.DataFrame | None, hub: str) -> pd.DataFrame | None:
    """The rows of a term-dates table that apply to ``hub``: its own ``la`` rows if it has
    any, else the rows without an ``la`` (None when none apply).

    >>> t = pd.DataFrame({"start": ["2024-07-01", "2024-07-20"], "end": ["2024-08-31",
    ...     "2024-09-03"], "la": ["glasgow", ""]})
    >>> overrides_for_hub(t, "glasgow")["start"].tolist(), len(overrides_for_hub(t, "leeds"))
    (['2024-07-01'], 1)
    """
    if overrides is None or not len(overrides):
        return None
    if LA not in overrides.columns:
        return overrides
    la = overrides[LA].fillna("").astype(str)
    own = overrides[la == _slug(hub)]
    rows = own if len(own) else overrides[la == ""]
    return rows if len(rows) else None


def school_holidays(
    start: DateLike,
    end: DateLike,
    overrides: pd.DataFrame | None = None,
    region: str | Calendar = DEFAULT_CALENDAR,
) -> pd.Series:
    """Whether each day is in a state-school holiday of ``region``.

    The default rules approximate a typical local-authority calendar of each UK nation
    (inclusive ranges; adjacent weekends included):

    ==================  ===========================================================
    England and Wales
    ==================  ===========================================================
    February half term  week starting the Monday on or after 12 February
    Easter              Monday before Easter Sunday to the Sunday a week after it
    May half term       week containing the Spring bank holiday (last Monday in May)
    summer              Saturday before the Monday nearest 22 July to the day before
                        the first Wednesday of September (pupils return that day)
    October half term   week (Monday-Friday) containing 28 October
    Christmas           Saturday nearest 21 December to the day before the
                        first weekday on or after 4 January
    **Scotland**
    February            Monday on or after 12 February and the Tuesday after it
    spring              two weeks from the first Monday in April
    summer              Saturday nearest 29 June to the day before the Wednesday
                        nearest 16 August
    October             week starting the second Monday in October
    Christmas           as in England
    **Northern Ireland**
    February mid-term   as in England
    Easter              Thursday before Easter Sunday to the Sunday a week after it
    summer              1 July to the day before the first weekday of September
    Halloween           week (Monday-Friday) containing 31 October, or the week
                        before when 31 October falls on a weekend
    Christmas           as in England
    ==================  ===========================================================

    Other countries have no rule: no day is a school holiday unless ``overrides`` say so.
    Weekends and bank holidays are not school days either; see :func:`school_days`.

    Parameters
    ----------
    start, end : date-like
        Local dates bounding the period (inclusive).
    overrides : pandas.DataFrame, optional
        Columns ``start, end`` (inclusive) of published holiday ranges (rows for other local
        authorities are left out by the caller, see :func:`overrides_for_hub`). Between the
        earliest ``start`` and the latest ``end`` of the table, these replace the rule;
        outside that span the rule applies.
    region : str or Calendar
        A key of :func:`get_calendar` (default ``england-and-wales``).

    Returns
    -------
    pandas.Series
        Boolean, indexed by day (``DatetimeIndex`` named ``date``), named ``school_holiday``.

    Examples
    --------
    >>> h = school_holidays("2024-08-01", "2024-09-06")
    >>> h["2024-08-30"], h["2024-09-04"]
    (np.True_, np.False_)
    >>> bool(school_holidays("2024-07-01", "2024-07-01", region="scotland").iloc[0])
    True
    """
    rule = SCHOOL_RULES.get(get_calendar(region).school or "")
    lo, hi = _day(start), _day(end)
    days = pd.date_range(lo, hi, freq="D", name="date", unit="s")
    flag = pd.Series(False, index=days, name="school_holiday")
    for year in range(lo.year - 1, hi.year + 1) if rule else ():
        for a, b in rule(year):
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


def working_days(
    start: DateLike, end: DateLike, region: str | Calendar = DEFAULT_CALENDAR
) -> pd.Series:
    """Whether each day is a working day (Monday-Friday and not a bank holiday of ``region``).

    >>> int(working_days("2022-05-30", "2022-06-05").sum())  # jubilee: 2 and 3 June
    3
    >>> int(working_days("2024-07-08", "2024-07-14", "northern-ireland").sum())  # 12 July
    4
    """
    lo, hi = _day(start), _day(end)
    days = pd.date_range(lo, hi, freq="D", name="date", unit="s")
    wd = (days.day_of_week < 5) & ~days.isin(bank_holidays(lo, hi, region))
    return pd.Series(wd, index=days, name="working_day")


def school_days(
    start: DateLike,
    end: DateLike,
    overrides: pd.DataFrame | None = None,
    region: str | Calendar = DEFAULT_CALENDAR,
) -> pd.Series:
    """Whether each day is a school day: a working day outside the school holidays.

    >>> int(school_days("2024-09-02", "2024-09-08").sum())  # term starts Wed 4 Sep
    3
    """
    wd = working_days(start, end, region)
    sd = wd & ~school_holidays(start, end, overrides, region)
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

"""The service standards (timeliness) of a MASH, defined once, and the clock they run on.

Every stage that measures or plans against "urgent within 4 hours", "high-risk domestic abuse
the same working day", "medium within 3 days" and "standard within 7" uses this module: the
Force Management Statement's timeliness table (:func:`mashdemand.report.fms.timeliness`), the
staffing engine's deadlines (:mod:`mashdemand.staffing.grid` re-exports :class:`Clock` and
:func:`due_times` from here) and the words of the reports (:meth:`ServiceStandards.summary`).

The standards are data, read from the ``[working_time]`` and ``[deadlines]`` sections of the
staffing TOML (``mashdemand/defaults/staffing.toml``, where each value is sourced), so a force
changes them in one place (``--config``) and every stage follows.

Units
-----
``working_hours``
    Counted on the standards' clock (``[working_time]``: 08:00-16:00 Monday to Thursday,
    08:00-15:30 Friday, never on bank holidays); the clock pauses outside it.
``working_days``
    Due by the end (midnight) of the N-th working day after the day of receipt (0: the same
    working day). A contact received on a non-working day, after the working day ends, or within
    ``cutoff_hours`` of its end counts as received the next working day.
``calendar_days``
    Due by the end of the N-th day after receipt, moved to the next working day if that is not
    one.
``calendar_hours``
    Elapsed time on the clock, 24 hours a day, 7 days a week.

Working days are Monday to Friday except England and Wales bank holidays
(:func:`mashdemand.calendar.bank_holidays`). Decided exactly on the deadline counts as met.

Which clock urgent runs on
--------------------------
The DOMAIN's standard reads "urgent: decision within 4 hours" (the source, a council report on
its MASH: "ranging from a few hours (four hours in urgent cases) to a few days"); other forces
grade Red as "4 working hours". The one definition here is **4 working hours**, for three
reasons. (1) The standard times the MASH's own multi-agency threshold decision, which it can
only make while staffed; immediate risk out of hours is met by the police and the local
authority's emergency duty (out-of-hours) service, which act at once and are not the MASH
decision. (2) It is what the staffing configuration plans against, and a standard the staffing
cannot plan for is not a standard the force can resource: on the sample force 35% of urgent
contacts arrive outside today's opening (weekday hours and the 09:00-13:00 weekend cover), so
on a 24/7 clock no operating option in ``staffing.toml`` could reach the 95% target and the
optimiser would have no answer. (3) Measuring the FMS on the same clock as the plan is what
lets Table 11 put "measured" and "planned" side by side with one meaning. The price is that a
contact received on Friday evening is due on Monday: the reports therefore always say
"4 working hours", never "4 hours". A force whose hub (or a 24/7 desk) decides urgent contacts
round the clock sets ``[deadlines.urgent] unit = "calendar_hours"``; the FMS then measures and
the staffing engine plans against elapsed hours.

Examples
--------
>>> s = load_standards()
>>> s.deadlines["urgent"].describe()
'within 4 working hours'
>>> received = ["2026-12-24 15:00", "2026-12-24 18:00"]  # Thursday before Christmas
>>> deadline_for(received, ["urgent", "high"], s).astype(str).tolist()
['2026-12-29 11:00:00', '2026-12-30 00:00:00']
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mashdemand.calendar import bank_holidays
from mashdemand.errors import MashdemandError
from mashdemand.schema import PRIORITIES

__all__ = [
    "DAY_TYPES",
    "DEADLINE_UNITS",
    "Clock",
    "Deadline",
    "ServiceStandards",
    "StandardsError",
    "day_spans",
    "day_types",
    "deadline_for",
    "deadline_met",
    "due_times",
    "load_standards",
    "parse_hours",
    "standards_from_dict",
    "step_fraction",
]

DAY_TYPES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "bank_holiday")
BANK_HOLIDAY = DAY_TYPES.index("bank_holiday")
DEADLINE_UNITS: tuple[str, ...] = (
    "working_hours",
    "working_days",
    "calendar_days",
    "calendar_hours",
)
LOCAL_TZ = "Europe/London"
DEFAULTS_FILE = "staffing.toml"
_DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri"}
_DAY_NAMES |= {"sat": "Sat", "sun": "Sun"}


class StandardsError(MashdemandError, ValueError):
    """A bad service standard (unit, amount, working time); the message names the key."""


# --- The standards as data --------------------------------------------------------------------
def parse_hours(
    text: str | None, where: str = "hours", error: type[Exception] = StandardsError
) -> tuple[int, int] | None:
    """Parse ``"HH:MM-HH:MM"`` to (open, close) minutes after midnight; ``""`` means closed.

    >>> parse_hours("08:00-15:30")
    (480, 930)
    >>> parse_hours("") is None
    True
    """
    if text is None or str(text).strip().lower() in ("", "closed", "none"):
        return None
    try:
        a, b = str(text).split("-")
        mins = []
        for part in (a, b):
            hh, mm = part.strip().split(":")
            mins.append(int(hh) * 60 + int(mm))
    except ValueError:
        raise error(f"{where}: {text!r} is not HH:MM-HH:MM") from None
    lo, hi = mins
    if not (0 <= lo < hi <= 24 * 60):
        raise error(f"{where}: {text!r} must open before it closes, within one day")
    return lo, hi


@dataclass(frozen=True)
class Deadline:
    """A service standard for one priority.

    Attributes
    ----------
    amount : float
        Hours (``*_hours`` units) or days (``*_days`` units).
    unit : str
        ``working_hours``, ``working_days``, ``calendar_days`` or ``calendar_hours``.
    cutoff_hours : float
        ``working_days`` only: received within this many working hours of the end of the
        working day counts as received the next working day [h].
    """

    amount: float
    unit: str
    cutoff_hours: float = 0.0

    def describe(self) -> str:
        """The standard in words, as the reports print it.

        >>> Deadline(0, "working_days", 1.5).describe()
        'the same working day (the next one if received in the last 1.5 working hours)'
        >>> Deadline(4, "calendar_hours").describe()
        'within 4 hours on the clock, day and night'
        """
        n = f"{self.amount:g}"
        if self.unit == "working_hours":
            return f"within {n} working hours"
        if self.unit == "calendar_hours":
            return f"within {n} hours on the clock, day and night"
        if self.unit == "calendar_days":
            return f"within {n} days"
        if self.amount == 0:
            text = "the same working day"
            if self.cutoff_hours:
                text += (
                    f" (the next one if received in the last {self.cutoff_hours:g} working hours)"
                )
            return text
        return f"within {n} working day{'s' if self.amount != 1 else ''}"


@dataclass(frozen=True)
class ServiceStandards:
    """The service standards: a deadline per priority and the working time they count on.

    Attributes
    ----------
    working_time : Mapping[str, tuple[int, int] | None]
        Day type (:data:`DAY_TYPES`) -> working interval (minutes after midnight), None when not
        a working day; bank holidays never are.
    deadlines : Mapping[str, Deadline]
        Priority -> its deadline.
    """

    working_time: Mapping[str, tuple[int, int] | None]
    deadlines: Mapping[str, Deadline]

    def working_time_text(self) -> str:
        """The working time in words, e.g. ``08:00-16:00 Mon-Thu, 08:00-15:30 Fri``.

        >>> load_standards().working_time_text()
        '08:00-16:00 Mon-Thu, 08:00-15:30 Fri, not on bank holidays'
        """
        groups: list[tuple[tuple[int, int], list[str]]] = []
        for dt in DAY_TYPES[:7]:
            span = self.working_time.get(dt)
            if span is None:
                continue
            if (
                groups
                and groups[-1][0] == span
                and DAY_TYPES.index(groups[-1][1][-1]) + 1 == DAY_TYPES.index(dt)
            ):
                groups[-1][1].append(dt)
            else:
                groups.append((span, [dt]))
        parts = []
        for (a, b), days in groups:
            label = _DAY_NAMES[days[0]]
            if len(days) > 1:
                label += f"-{_DAY_NAMES[days[-1]]}"
            parts.append(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d} {label}")
        return ", ".join(parts) + ", not on bank holidays"

    def summary(self) -> str:
        """Every standard in one phrase, for reports.

        >>> load_standards().summary()  # doctest: +NORMALIZE_WHITESPACE
        'urgent decisions within 4 working hours, high-risk domestic abuse the same working day
        (the next one if received in the last 1.5 working hours), medium within 3 working days,
        standard within 7 working days'
        """
        d = self.deadlines
        return (
            f"urgent decisions {d['urgent'].describe()}, high-risk domestic abuse "
            f"{d['high'].describe()}, medium {d['medium'].describe()}, standard "
            f"{d['standard'].describe()}"
        )

    def uses_working_time(self) -> bool:
        """Whether any standard counts on the working-time clock."""
        return any(d.unit != "calendar_hours" for d in self.deadlines.values())


def _num(d: Mapping, key: str, where: str, lo: float, hi: float | None = None) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise StandardsError(f"{where}.{key}: expected a number, got {v!r}")
    if v < lo or (hi is not None and v > hi):
        raise StandardsError(f"{where}.{key}: {v} outside [{lo}, {hi}]")
    return float(v)


def _check_keys(d: Any, allowed: Sequence[str], where: str) -> None:
    if not isinstance(d, Mapping):
        raise StandardsError(f"{where}: expected a table")
    bad = [k for k in d if k not in allowed]
    if bad:
        raise StandardsError(
            f"{where}: unknown key(s) {', '.join(map(str, bad))}; expected {', '.join(allowed)}"
        )


def _deadline(d: Any, where: str) -> Deadline:
    """One ``[deadlines.<priority>]`` table."""
    if d is None:
        raise StandardsError(f"{where}: missing")
    _check_keys(d, ("amount", "unit", "cutoff_hours"), where)
    unit = d.get("unit")
    if unit not in DEADLINE_UNITS:
        raise StandardsError(f"{where}.unit: {unit!r}; expected one of {', '.join(DEADLINE_UNITS)}")
    if "amount" not in d:
        raise StandardsError(f"{where}: missing 'amount'")
    rule = Deadline(
        amount=_num(d, "amount", where, 0),
        unit=unit,
        cutoff_hours=_num(d, "cutoff_hours", where, 0, 24) if "cutoff_hours" in d else 0.0,
    )
    if unit.endswith("hours") and rule.amount <= 0:
        raise StandardsError(f"{where}.amount: an hours deadline must be positive")
    if unit.endswith("days") and rule.amount != int(rule.amount):
        raise StandardsError(f"{where}.amount: a days deadline must be a whole number of days")
    return rule


def standards_from_dict(raw: Mapping, where: str = "staffing config") -> ServiceStandards:
    """Build the standards from the ``working_time`` and ``deadlines`` tables of a parsed TOML.

    Raises
    ------
    StandardsError
        Naming the table and key: unknown unit or key, bad amount, no working hours.
    """
    wt_in = raw.get("working_time", {})
    _check_keys(wt_in, DAY_TYPES[:7], f"{where}: working_time")
    working_time = {
        dt: parse_hours(wt_in.get(dt), f"{where}: working_time.{dt}") for dt in DAY_TYPES
    }
    working_time["bank_holiday"] = None
    if all(v is None for v in working_time.values()):
        raise StandardsError(f"{where}: working_time has no working hours")
    dl = raw.get("deadlines", {})
    _check_keys(dl, PRIORITIES, f"{where}: deadlines")
    deadlines = {p: _deadline(dl.get(p), f"{where}: deadlines.{p}") for p in PRIORITIES}
    return ServiceStandards(working_time=working_time, deadlines=deadlines)


def _defaults() -> dict:
    text = (resources.files("mashdemand") / "defaults" / DEFAULTS_FILE).read_text("utf-8")
    return tomllib.loads(text)


def load_standards(path: str | Path | None = None) -> ServiceStandards:
    """The service standards: the shipped defaults, with a staffing TOML's overrides.

    Parameters
    ----------
    path : str or Path, optional
        A staffing TOML (the file ``mashdemand staffing --config`` takes). Its
        ``[working_time]`` keys and each ``[deadlines.<priority>]`` table's keys override the
        defaults; every other section is ignored here.

    Returns
    -------
    ServiceStandards

    Examples
    --------
    >>> load_standards().deadlines["medium"]
    Deadline(amount=3.0, unit='working_days', cutoff_hours=0.0)
    """
    raw = _defaults()
    if path is None:
        return standards_from_dict(raw, f"defaults/{DEFAULTS_FILE}")
    p = Path(path)
    try:
        over = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise StandardsError(f"{p}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise StandardsError(f"{p}: not valid TOML ({exc})") from None
    raw["working_time"] = {**raw["working_time"], **over.get("working_time", {})}
    deadlines = {k: dict(v) for k, v in raw["deadlines"].items()}
    for k, v in over.get("deadlines", {}).items():
        deadlines[k] = {**deadlines.get(k, {}), **v} if isinstance(v, Mapping) else v
    raw["deadlines"] = deadlines
    return standards_from_dict(raw, str(p))


# --- The clock --------------------------------------------------------------------------------
def day_types(days: pd.DatetimeIndex) -> np.ndarray:
    """Day-type index of each local date: 0-6 Monday-Sunday, 7 bank holiday.

    >>> day_types(pd.DatetimeIndex(["2026-12-25", "2026-12-26", "2026-12-29"])).tolist()
    [7, 5, 1]
    """
    dt = days.day_of_week.to_numpy().astype(np.int8)
    if len(days):
        bh = bank_holidays(days.min(), days.max())
        dt[np.asarray(days.isin(bh))] = BANK_HOLIDAY
    return dt


def day_spans(day_type: np.ndarray, hours: Mapping[str, tuple[int, int] | None]) -> tuple:
    """Per-day (start, end) hours of a daily interval by day type; (0, 0) when none."""
    a = np.zeros(len(DAY_TYPES))
    b = np.zeros(len(DAY_TYPES))
    for i, dt in enumerate(DAY_TYPES):
        span = hours.get(dt)
        if span is not None:
            a[i], b[i] = span[0] / 60, span[1] / 60
    return a[day_type], b[day_type]


def step_fraction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of each hourly step inside the daily interval [a, b) hours, shape (n_steps,)."""
    h = np.arange(24)
    lo = np.clip(a[:, None] - h, 0, 1)
    hi = np.clip(b[:, None] - h, 0, 1)
    return np.clip(hi - lo, 0, 1).ravel()


@dataclass(frozen=True)
class Clock:
    """A working-time clock over consecutive days: per day one interval ``[start, end)`` [h].

    Time is hours from local midnight of the first day on the wall clock (every day 24 h).

    Attributes
    ----------
    start, end : numpy.ndarray
        (n_days,) interval bounds [h]; equal when the day is not a working day.
    cum : numpy.ndarray
        (n_days + 1,) working hours before each day starts [h].
    """

    start: np.ndarray
    end: np.ndarray
    cum: np.ndarray

    @classmethod
    def from_day_types(
        cls, day_type: np.ndarray, hours: Mapping[str, tuple[int, int] | None]
    ) -> Clock:
        """The clock of ``hours`` (day type -> interval in minutes) on days of ``day_type``."""
        a, b = day_spans(np.asarray(day_type), hours)
        cum = np.concatenate([[0.0], np.cumsum(b - a)])
        return cls(start=a, end=b, cum=cum)

    @classmethod
    def from_hours(cls, grid: Any, hours: Mapping[str, tuple[int, int] | None]) -> Clock:
        """The clock of ``hours`` on a grid (anything with a ``day_type`` array)."""
        return cls.from_day_types(grid.day_type, hours)

    @property
    def working(self) -> np.ndarray:
        """Whether each day is a working day on this clock."""
        return self.end > self.start

    def step_fraction(self) -> np.ndarray:
        """Working share of each hourly step."""
        return step_fraction(self.start, self.end)

    def elapsed(self, t: np.ndarray) -> np.ndarray:
        """Working hours from the first day's start to time ``t`` [h]."""
        t = np.asarray(t, dtype=float)
        j = np.clip((t // 24).astype(int), 0, len(self.start) - 1)
        x = t - 24 * j
        return self.cum[j] + np.clip(x - self.start[j], 0, self.end[j] - self.start[j])

    def at(self, w: np.ndarray) -> np.ndarray:
        """Time [h] at which ``w`` working hours have elapsed (inf beyond the last day)."""
        w = np.asarray(w, dtype=float)
        j = np.searchsorted(self.cum[1:], w, side="left")
        out = np.full(w.shape, np.inf)
        ok = j < len(self.start)
        jj = j[ok]
        out[ok] = 24 * jj + self.start[jj] + (w[ok] - self.cum[jj])
        return out

    def nth_working_day(self, day: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """Index of the ``n``-th working day after ``day`` (``n = 0``: ``day`` itself if
        working, else the next working day); ``n_days`` when beyond the last day."""
        working = self.working
        count = np.concatenate([[0], np.cumsum(working)])  # working days before each day
        # rank (0-based) of the first working day on or after `day`, then n more
        rank = count[np.asarray(day)] + np.asarray(n)
        idx = np.flatnonzero(working)
        if not len(idx):
            return np.full(np.shape(rank), len(working))
        return np.where(rank < len(idx), idx[np.minimum(rank, len(idx) - 1)], len(working))


def due_times(t: np.ndarray, rule: Deadline, clock: Clock) -> np.ndarray:
    """Deadline [h] of contacts received at times ``t`` [h], under ``rule`` on ``clock``.

    Day deadlines fall at the end (midnight) of the due day; hour deadlines at an exact time.
    ``inf`` when beyond the clock's last day.

    Examples
    --------
    A clock of one week from Monday with working hours on Mondays (08:00-16:00) and Fridays
    (08:00-15:30) only, and three days after:

    >>> c = Clock.from_day_types(np.arange(10) % 7, {"mon": (480, 960), "fri": (480, 930)})

    4 working hours from Monday 09:00 is 13:00; from Monday 20:00 it is Friday 12:00 (108 h):

    >>> due_times(np.array([9.0, 20.0]), Deadline(4, "working_hours"), c).tolist()
    [13.0, 108.0]

    Same working day with a 1.5-hour cut-off: Monday 14:00 is due by Monday midnight, Monday
    15:00 by the end of the next working day, Friday (120 h):

    >>> due_times(np.array([14.0, 15.0]), Deadline(0, "working_days", 1.5), c).tolist()
    [24.0, 120.0]
    """
    t = np.asarray(t, dtype=float)
    n_days = len(clock.start)
    if rule.unit == "calendar_hours":
        return t + rule.amount
    if rule.unit == "working_hours":
        return clock.at(clock.elapsed(t) + rule.amount)
    day = np.clip((t // 24).astype(int), 0, n_days - 1)
    x = t - 24 * day
    if rule.unit == "working_days":
        late = ~clock.working[day] | (x >= clock.end[day] - rule.cutoff_hours)
        first = clock.nth_working_day(np.minimum(day + late, n_days - 1), 0)
        first = np.where((day + late) >= n_days, n_days, first)
        due_day = clock.nth_working_day(np.minimum(first, n_days - 1), int(rule.amount))
        due_day = np.where(first >= n_days, n_days, due_day)
    elif rule.unit == "calendar_days":
        target = day + int(rule.amount)
        due_day = clock.nth_working_day(np.minimum(target, n_days - 1), 0)
        due_day = np.where(target >= n_days, n_days, due_day)
    else:  # pragma: no cover - validated when loaded
        raise StandardsError(f"unknown deadline unit {rule.unit!r}")
    return np.where(due_day >= n_days, np.inf, 24.0 * (due_day + 1))


# --- Timestamps: the deadline of each contact and whether it was met --------------------------
def _local_wall(ts: Any) -> pd.Series:
    """Timestamps as naive local (Europe/London) wall-clock time; naive input is taken as local."""
    s = pd.Series(pd.to_datetime(ts))
    if s.dt.tz is not None:
        s = s.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    return s.astype("datetime64[ns]").reset_index(drop=True)


def _pad_days(standards: ServiceStandards) -> int:
    """Days after the last receipt that every deadline is sure to fall within."""
    spans = [(b - a) / 60 for v in standards.working_time.values() if v for a, b in [v]]
    shortest = min(spans) if spans else 24.0
    pad = 0.0
    for d in standards.deadlines.values():
        if d.unit == "working_hours":
            pad = max(pad, 2 * d.amount / shortest)
        elif d.unit != "calendar_hours":
            pad = max(pad, 2 * d.amount)
    return int(np.ceil(pad)) + 21  # weekends and the longest run of bank holidays


def deadline_for(
    received_at: Any, priority: Any, standards: ServiceStandards | None = None
) -> pd.Series:
    """The deadline of each contact under its priority's standard.

    Parameters
    ----------
    received_at : array-like of datetime
        When each contact was received: tz-aware, or naive local (Europe/London) time.
    priority : array-like of str or str
        Each contact's priority (one of ``urgent, high, medium, standard``); any other value
        (missing, unknown) has no deadline.
    standards : ServiceStandards, optional
        The standards (default :func:`load_standards`).

    Returns
    -------
    pandas.Series
        Deadlines as naive local wall-clock times (NaT without a priority or receipt time). A
        day deadline is the midnight ending the due day.

    Examples
    --------
    Friday 15:00, Saturday 10:00 and the Thursday before Good Friday 2026 (3 April) at 10:00:

    >>> r = ["2026-03-06 15:00", "2026-03-07 10:00", "2026-04-02 10:00"]
    >>> deadline_for(r, "urgent").astype(str).tolist()
    ['2026-03-09 11:30:00', '2026-03-09 12:00:00', '2026-04-02 14:00:00']

    Medium: the end of the third working day after the day of receipt (a Saturday's counts from
    Monday; Good Friday and Easter Monday are not working days):

    >>> deadline_for(r, "medium").dt.strftime("%a %d %b %H:%M").tolist()
    ['Thu 12 Mar 00:00', 'Fri 13 Mar 00:00', 'Fri 10 Apr 00:00']
    """
    standards = standards or load_standards()
    received = _local_wall(received_at)
    n = len(received)
    pri = pd.Series(np.broadcast_to(np.asarray(priority, dtype=object), (n,)))
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = received.notna().to_numpy()
    if not ok.any():
        return pd.Series(out)
    origin = received[ok].min().normalize() - pd.Timedelta(days=1)
    last = received[ok].max().normalize() + pd.Timedelta(days=_pad_days(standards))
    days = pd.date_range(origin, last)
    clock = Clock.from_day_types(day_types(days), standards.working_time)
    t = ((received - origin) / pd.Timedelta(hours=1)).to_numpy()
    aware = pd.Series(pd.to_datetime(received_at)).dt.tz is not None
    for p, rule in standards.deadlines.items():
        sel = ok & (pri == p).to_numpy()
        if not sel.any():
            continue
        if rule.unit == "calendar_hours" and aware:
            # elapsed time across a clock change: add the hours in UTC, then back to the wall
            utc = pd.Series(pd.to_datetime(received_at)).dt.tz_convert("UTC")
            utc = utc.reset_index(drop=True)
            due = (utc[sel] + pd.Timedelta(hours=rule.amount)).dt.tz_convert(LOCAL_TZ)
            out[sel] = due.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
            continue
        h = due_times(t[sel], rule, clock)
        fin = np.isfinite(h)
        vals = np.full(h.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
        vals[fin] = (origin + pd.to_timedelta(h[fin], unit="h")).to_numpy()
        out[sel] = vals
    return pd.Series(out)


def deadline_met(
    received_at: Any,
    decided_at: Any,
    priority: Any,
    standards: ServiceStandards | None = None,
) -> np.ndarray:
    """Whether each contact was decided by its deadline (decided exactly on it counts as met).

    Parameters
    ----------
    received_at, decided_at : array-like of datetime
        Receipt and decision times: tz-aware, or naive local (Europe/London) time, both alike.
    priority : array-like of str or str
        Each contact's priority.
    standards : ServiceStandards, optional
        The standards (default :func:`load_standards`).

    Returns
    -------
    numpy.ndarray
        (n,) bool; False when undecided or without a known priority.

    Examples
    --------
    Urgent at Friday 15:00: 4 working hours run to Monday 11:30 (Friday ends 15:30):

    >>> deadline_met(["2026-03-06 15:00"] * 2, ["2026-03-09 11:30", "2026-03-09 11:31"],
    ...              "urgent").tolist()
    [True, False]
    """
    due = deadline_for(received_at, priority, standards)
    decided = _local_wall(decided_at)
    return (decided.notna() & due.notna() & (decided <= due)).to_numpy(dtype=bool)

"""The hourly time grid a hub is simulated on: day types, clocks, opening and deadlines.

Time is measured in hours from local midnight of the grid's first day, on the local wall clock
(Europe/London): every day has 24 hourly steps. The one-hour shifts at the clock changes fall on
Sunday nights when hubs are closed, so they are ignored.

Two clocks matter:

* the **standards' clock** (:class:`Clock`, from ``[working_time]``): working hours and working
  days on which deadlines are counted, the same for every operating option, so that options are
  judged against one standard and longer opening can only help;
* the **option's opening** (:func:`opening`): hours the hub is staffed and the priorities it
  works, by day type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mashdemand.calendar import bank_holidays
from mashdemand.staffing.config import (
    DAY_TYPES,
    PRIORITIES,
    Deadline,
    OperatingOption,
    StaffingError,
)

__all__ = ["Clock", "Grid", "Opening", "due_times", "make_grid", "opening"]

BANK_HOLIDAY = DAY_TYPES.index("bank_holiday")


@dataclass(frozen=True)
class Grid:
    """Days simulated for one planning window, with the window's place in them.

    Attributes
    ----------
    days : pandas.DatetimeIndex
        Local dates simulated (warm-up, window, cool-down).
    day_type : numpy.ndarray
        (n_days,) index into :data:`DAY_TYPES` (bank holidays are their own type).
    lo, hi : int
        Day indices of the planning window: days ``lo .. hi-1``.
    """

    days: pd.DatetimeIndex
    day_type: np.ndarray
    lo: int
    hi: int

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def n_steps(self) -> int:
        return 24 * len(self.days)

    @property
    def step_day(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_days), 24)

    @property
    def step_hour(self) -> np.ndarray:
        return np.tile(np.arange(24), self.n_days)

    @property
    def step_day_type(self) -> np.ndarray:
        return np.repeat(self.day_type, 24)

    def window_days(self) -> np.ndarray:
        return np.arange(self.lo, self.hi)

    def day_counts(self) -> np.ndarray:
        """Days of each day type in the window, shape (8,)."""
        return np.bincount(self.day_type[self.lo : self.hi], minlength=len(DAY_TYPES))


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


def make_grid(first: pd.Timestamp, last: pd.Timestamp, warmup: int, cooldown: int) -> Grid:
    """Grid for the window ``first..last`` (local dates, inclusive) with warm-up and cool-down.

    >>> g = make_grid(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-12-31"), 14, 10)
    >>> g.n_days, g.lo, g.hi
    (116, 14, 106)
    """
    first, last = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    days = pd.date_range(first - pd.Timedelta(days=warmup), last + pd.Timedelta(days=cooldown))
    return Grid(days=days, day_type=day_types(days), lo=warmup, hi=warmup + (last - first).days + 1)


def _spans(grid: Grid, hours: Mapping[str, tuple[int, int] | None]) -> tuple[np.ndarray, ...]:
    """Per-day (start, end) hours of a daily interval by day type; (0, 0) when none."""
    a = np.zeros(len(DAY_TYPES))
    b = np.zeros(len(DAY_TYPES))
    for i, dt in enumerate(DAY_TYPES):
        span = hours.get(dt)
        if span is not None:
            a[i], b[i] = span[0] / 60, span[1] / 60
    return a[grid.day_type], b[grid.day_type]


def _step_fraction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of each hourly step inside the daily interval [a, b) hours, shape (n_steps,)."""
    h = np.arange(24)
    lo = np.clip(a[:, None] - h, 0, 1)
    hi = np.clip(b[:, None] - h, 0, 1)
    return np.clip(hi - lo, 0, 1).ravel()


@dataclass(frozen=True)
class Clock:
    """A working-time clock: per day one working interval ``[start, end)`` (hours of the day).

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
    def from_hours(cls, grid: Grid, hours: Mapping[str, tuple[int, int] | None]) -> Clock:
        a, b = _spans(grid, hours)
        cum = np.concatenate([[0.0], np.cumsum(b - a)])
        return cls(start=a, end=b, cum=cum)

    @property
    def working(self) -> np.ndarray:
        """Whether each day is a working day on this clock."""
        return self.end > self.start

    def step_fraction(self) -> np.ndarray:
        """Working share of each hourly step."""
        return _step_fraction(self.start, self.end)

    def elapsed(self, t: np.ndarray) -> np.ndarray:
        """Working hours from the grid start to time ``t`` [h]."""
        t = np.asarray(t, dtype=float)
        j = np.clip((t // 24).astype(int), 0, len(self.start) - 1)
        x = t - 24 * j
        return self.cum[j] + np.clip(x - self.start[j], 0, self.end[j] - self.start[j])

    def at(self, w: np.ndarray) -> np.ndarray:
        """Time [h] at which ``w`` working hours have elapsed (inf beyond the grid)."""
        w = np.asarray(w, dtype=float)
        j = np.searchsorted(self.cum[1:], w, side="left")
        out = np.full(w.shape, np.inf)
        ok = j < len(self.start)
        jj = j[ok]
        out[ok] = 24 * jj + self.start[jj] + (w[ok] - self.cum[jj])
        return out

    def nth_working_day(self, day: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """Index of the ``n``-th working day after ``day`` (``n = 0``: ``day`` itself if
        working, else the next working day); ``n_days`` when beyond the grid."""
        working = self.working
        count = np.concatenate([[0], np.cumsum(working)])  # working days before each day
        # rank (0-based) of the first working day on or after `day`, then n more
        rank = count[np.asarray(day)] + np.asarray(n)
        idx = np.flatnonzero(working)
        return np.where(rank < len(idx), idx[np.minimum(rank, len(idx) - 1)], len(working))


def due_times(t: np.ndarray, rule: Deadline, clock: Clock) -> np.ndarray:
    """Deadline [h] of contacts received at times ``t`` [h], under ``rule`` on ``clock``.

    Day deadlines fall at the end (midnight) of the due day; hour deadlines at an exact time.
    ``inf`` when beyond the grid.

    Examples
    --------
    A clock with working hours on Mondays (08:00-16:00) and Fridays (08:00-15:30) only:

    >>> g = make_grid(pd.Timestamp("2026-10-05"), pd.Timestamp("2026-10-11"), 0, 3)  # Mon-Sun
    >>> c = Clock.from_hours(g, {"mon": (480, 960), "fri": (480, 930)})

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
    else:  # pragma: no cover - validated in config
        raise StaffingError(f"unknown deadline unit {rule.unit!r}")
    return np.where(due_day >= n_days, np.inf, 24.0 * (due_day + 1))


@dataclass(frozen=True)
class Opening:
    """An option laid on a grid.

    Attributes
    ----------
    lo, hi : numpy.ndarray
        (n_days,) opening interval of each day [h of the day]; equal when closed.
    frac : numpy.ndarray
        (n_steps,) open share of each hourly step.
    elig : numpy.ndarray
        (n_steps, 4) whether each priority is worked in each step (open and covered).
    slot_frac : numpy.ndarray
        (8, 24) open share of each hour by day type (the roster's slots).
    slot_min : numpy.ndarray
        (8, 24) minimum staff on duty in each slot (0 where closed).
    """

    lo: np.ndarray
    hi: np.ndarray
    frac: np.ndarray
    elig: np.ndarray
    slot_frac: np.ndarray
    slot_min: np.ndarray
    slot_elig: np.ndarray


def opening(grid: Grid, option: OperatingOption) -> Opening:
    """Lay an operating option on a grid.

    >>> from mashdemand.staffing.config import load_config
    >>> g = make_grid(pd.Timestamp("2026-10-05"), pd.Timestamp("2026-10-11"), 0, 0)
    >>> o = opening(g, load_config().options["today"])
    >>> float(o.frac[:24].sum()), float(o.frac[4 * 24 : 5 * 24].sum())  # Monday, Friday
    (8.0, 7.5)
    """
    lo, hi = _spans(grid, option.hours)
    frac = _step_fraction(lo, hi)
    slot_frac = np.zeros((len(DAY_TYPES), 24))
    slot_min = np.zeros((len(DAY_TYPES), 24), dtype=np.int64)
    slot_elig = np.zeros((len(DAY_TYPES), len(PRIORITIES)), dtype=bool)
    h = np.arange(24)
    for i, dt in enumerate(DAY_TYPES):
        span = option.hours.get(dt)
        if span is None:
            continue
        a, b = span[0] / 60, span[1] / 60
        slot_frac[i] = np.clip(np.clip(b - h, 0, 1) - np.clip(a - h, 0, 1), 0, 1)
        full = option.full_service(dt)
        slot_min[i] = np.where(
            slot_frac[i] > 0, option.min_staff if full else option.min_staff_cover, 0
        )
        slot_elig[i] = [p in option.priorities[dt] for p in PRIORITIES]
    elig = slot_elig[grid.step_day_type] & (frac > 0)[:, None]
    return Opening(
        lo=lo,
        hi=hi,
        frac=frac,
        elig=elig,
        slot_frac=slot_frac,
        slot_min=slot_min,
        slot_elig=slot_elig,
    )

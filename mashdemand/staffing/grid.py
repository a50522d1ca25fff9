"""The hourly time grid a hub is simulated on: day types, clocks, opening and deadlines.

Time is measured in hours from local midnight of the grid's first day, on the local wall clock
(Europe/London): every day has 24 hourly steps. The one-hour shifts at the clock changes fall on
Sunday nights when hubs are closed, so they are ignored.

Two clocks matter:

* the **standards' clock** (:class:`Clock`, from ``[working_time]``): working hours and working
  days on which deadlines are counted, the same for every operating option, so that options are
  judged against one standard and longer opening can only help. The clock, the day types and
  :func:`due_times` are those of :mod:`mashdemand.standards` (re-exported here): the staffing
  plans against the very definition the FMS measures with;
* the **option's opening** (:func:`opening`): hours the hub is staffed and the priorities it
  works, by day type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mashdemand.staffing.config import DAY_TYPES, PRIORITIES, OperatingOption
from mashdemand.standards import Clock, day_spans, day_types, due_times, step_fraction

__all__ = ["Clock", "Grid", "Opening", "day_types", "due_times", "make_grid", "opening"]


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


def make_grid(first: pd.Timestamp, last: pd.Timestamp, warmup: int, cooldown: int) -> Grid:
    """Grid for the window ``first..last`` (local dates, inclusive) with warm-up and cool-down.

    >>> g = make_grid(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-12-31"), 14, 10)
    >>> g.n_days, g.lo, g.hi
    (116, 14, 106)
    """
    first, last = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    days = pd.date_range(first - pd.Timedelta(days=warmup), last + pd.Timedelta(days=cooldown))
    return Grid(days=days, day_type=day_types(days), lo=warmup, hi=warmup + (last - first).days + 1)


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
    lo, hi = day_spans(grid.day_type, option.hours)
    frac = step_fraction(lo, hi)
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

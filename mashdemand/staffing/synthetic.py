"""Small synthetic hubs and options for tests, benchmarks and examples.

Nothing here is real: a hub receiving ``daily`` contacts a day (weekends at ``weekend``
times a weekday), spread over the day by a smooth office-hours-heavy profile, with the sample
force's priority mix. Small enough to enumerate every roster (brute force) when the option
opens for a few hours on a few days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mashdemand.staffing.config import DAY_TYPES, PRIORITIES, OperatingOption, parse_hours
from mashdemand.staffing.grid import make_grid
from mashdemand.staffing.model import Cell

__all__ = ["HOUR_SHAPE", "synthetic_cell", "synthetic_option"]

#: Relative arrivals by hour of day: evenings and nights lighter, office hours heavier.
HOUR_SHAPE: np.ndarray = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 2, 3, 5, 7, 8, 8, 7, 7, 8, 8, 7, 6, 5, 4, 4, 3.5, 3, 2.5], dtype=float
)
HOUR_SHAPE = HOUR_SHAPE / HOUR_SHAPE.sum()
MIX: tuple[float, ...] = (0.02, 0.06, 0.14, 0.78)
MINUTES: tuple[float, ...] = (90.0, 75.0, 50.0, 30.0)


def synthetic_cell(
    daily: float = 40.0,
    weeks: int = 4,
    start: str = "2026-10-05",
    weekend: float = 0.5,
    mix: Sequence[float] = MIX,
    minutes: Sequence[float] = MINUTES,
    warmup: int = 7,
    cooldown: int = 10,
    hub: str = "synthetic",
) -> Cell:
    """A synthetic hub's expected arrivals over ``weeks`` weeks from ``start`` (a Monday).

    >>> c = synthetic_cell(daily=40, weeks=1)
    >>> round(c.contacts())  # 5 weekdays x 40 + 2 weekend days x 20
    240
    """
    first = pd.Timestamp(start)
    grid = make_grid(first, first + pd.Timedelta(days=7 * weeks - 1), warmup, cooldown)
    level = np.where(grid.day_type >= 5, daily * weekend, daily)  # bank holidays as weekends
    rate = level[:, None, None] * HOUR_SHAPE[None, :, None] * np.asarray(mix)[None, None, :]
    rate = rate.reshape(grid.n_steps, len(PRIORITIES))
    work = rate * np.asarray(minutes, dtype=float)[None, :]
    return Cell(hub, f"{first:%Y-%m-%d}+{weeks}w", grid, rate, work)


def synthetic_option(
    days: Sequence[str] = ("mon", "wed", "fri"),
    hours: str = "09:00-11:00",
    min_staff: int = 0,
    name: str = "small",
    cover: dict[str, tuple[str, Sequence[str]]] | None = None,
) -> OperatingOption:
    """An option open ``hours`` on ``days`` for every priority (plus optional limited cover:
    day type -> (hours, priorities)).

    >>> synthetic_option().open_hours_per_week()
    6.0
    """
    span = parse_hours(hours)
    hrs = {d: (span if d in days else None) for d in DAY_TYPES}
    pri = {d: PRIORITIES for d in DAY_TYPES}
    for d, (h, p) in (cover or {}).items():
        hrs[d] = parse_hours(h)
        pri[d] = tuple(x for x in PRIORITIES if x in p)
    return OperatingOption(name, name, hrs, pri, min_staff=min_staff, min_staff_cover=min_staff)

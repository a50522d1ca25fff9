"""One staffing problem: a hub, a planning window (quarter) and an operating option.

:class:`Cell` holds a hub's arrivals on the simulation grid for one window;
:class:`RosterProblem` lays an option on it, computes every contact's deadline and evaluates
batches of rosters (staff on duty by day type and hour) with the fluid model: share within
deadline by priority, utilisation, staff-hours and whether every target is met.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from mashdemand.staffing.config import (
    DAY_TYPES,
    PRIORITIES,
    OperatingOption,
    StaffingConfig,
)
from mashdemand.staffing.grid import Clock, Grid, Opening, due_times, opening
from mashdemand.staffing.sim import (
    ContactOutcome,
    FluidInputs,
    FluidOutcome,
    simulate_contacts,
    simulate_fluid,
)

__all__ = ["Cell", "Evaluation", "RosterProblem"]

N_DT = len(DAY_TYPES)
CHUNK = 256


@dataclass(frozen=True)
class Cell:
    """A hub's planned arrivals on the grid of one planning window.

    Attributes
    ----------
    hub, window : str
        Hub slug and window label (quarter ``2026Q4``).
    grid : Grid
        Days simulated, with the window's place in them.
    rate : numpy.ndarray
        (T, 4) contacts per hour by priority at the planning quantile [contacts/h].
    work : numpy.ndarray
        (T, 4) staff-minutes per hour by priority [min/h].
    partial : bool
        The forecast covers only part of the window.
    """

    hub: str
    window: str
    grid: Grid
    rate: np.ndarray
    work: np.ndarray
    partial: bool = False

    @property
    def minutes(self) -> np.ndarray:
        """Mean staff minutes per contact by priority over the window [min], shape (4,)."""
        w = self.window_slice
        r = self.rate[w].sum(axis=0)
        return np.where(r > 0, self.work[w].sum(axis=0) / np.maximum(r, 1e-12), 0.0)

    @property
    def window_slice(self) -> slice:
        return slice(24 * self.grid.lo, 24 * self.grid.hi)

    def contacts(self) -> float:
        """Planned contacts in the window [contacts]."""
        return float(self.rate[self.window_slice].sum())

    def workload_hours(self) -> float:
        """Planned staff-hours of contact work in the window [h]."""
        return float(self.work[self.window_slice].sum() / 60)


@dataclass
class Evaluation:
    """Fluid-model results for a batch of rosters.

    Attributes
    ----------
    share : numpy.ndarray
        (B, 4) share of work within deadline by priority (NaN if none due).
    utilisation : numpy.ndarray
        (B,) planned work / staff time on duty in the window.
    cost : numpy.ndarray
        (B,) staff-hours on duty in the window [h].
    feasible : numpy.ndarray
        (B,) every target met.
    slack : numpy.ndarray
        (B,) smallest normalised margin over the targets (negative when one is missed).
    outcome : FluidOutcome or None
        The raw model output (kept when asked for).
    """

    share: np.ndarray
    utilisation: np.ndarray
    cost: np.ndarray
    feasible: np.ndarray
    slack: np.ndarray
    outcome: FluidOutcome | None = None


def due_arrays(
    grid: Grid, config: StaffingConfig, clocks: Mapping[str, Clock] | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, Clock]]:
    """Deadline of work arriving in each hourly step (taken at mid-step).

    Returns ``urgent_due`` (T,) due step, ``due_day`` (T, 3) due day of high/medium/standard and
    the clocks used by priority.
    """
    base = Clock.from_hours(grid, config.working_time)
    use = {p: (clocks or {}).get(p, base) for p in PRIORITIES}
    t = np.arange(grid.n_steps) + 0.5
    due = {p: due_times(t, config.deadlines[p], use[p]) for p in PRIORITIES}
    urgent = np.where(np.isfinite(due["urgent"]), np.ceil(due["urgent"] - 1e-9) - 1, grid.n_steps)
    urgent = np.maximum(urgent, np.arange(grid.n_steps)).astype(np.int64)
    day = np.stack(
        [
            np.where(np.isfinite(due[p]), np.ceil(due[p] / 24 - 1e-9) - 1, grid.n_days)
            for p in PRIORITIES[1:]
        ],
        axis=1,
    ).astype(np.int64)
    day = np.maximum(day, (np.arange(grid.n_steps) // 24)[:, None])
    return urgent, day, use


@dataclass
class RosterProblem:
    """Find or judge rosters for one hub, window and option.

    Parameters
    ----------
    cell : Cell
        Arrivals.
    option : OperatingOption
        Opening hours, priorities worked and minimum cover.
    config : StaffingConfig
        Deadlines, targets and utilisation ceiling.
    clocks : mapping, optional
        Priority -> deadline clock replacing the standards' clock (weekend cover analysis).
    measure : numpy.ndarray, optional
        (n_days,) bool: days whose arrivals (urgent) and deadlines (others) are measured;
        default the window.
    work : numpy.ndarray, optional
        (Bw, T, 4) arrivals replacing the cell's expected work (sampled replications).
    """

    cell: Cell
    option: OperatingOption
    config: StaffingConfig
    clocks: Mapping[str, Clock] | None = None
    measure: np.ndarray | None = None
    work: np.ndarray | None = None
    open_: Opening = field(init=False)
    inputs: FluidInputs = field(init=False)

    def __post_init__(self) -> None:
        g = self.cell.grid
        self.open_ = opening(g, self.option)
        urgent_due, due_day, self._clocks = due_arrays(g, self.config, self.clocks)
        work = self.cell.work[None] if self.work is None else self.work
        self.inputs = FluidInputs(work, self.open_.elig, urgent_due, due_day, g.n_days)
        days = np.zeros(g.n_days, dtype=bool)
        days[g.lo : g.hi] = True
        self.days = days if self.measure is None else np.asarray(self.measure, dtype=bool)
        self.steps = np.repeat(self.days, 24)
        self.targets = np.array([self.config.targets[p] for p in PRIORITIES])
        counts = g.day_counts().astype(float)
        self.slot_cost = counts[:, None] * self.open_.slot_frac  # staff-hours per unit
        self.open_slots = self.open_.slot_frac > 0
        self.min_roster = self.open_.slot_min.copy()
        win = np.zeros(g.n_steps, dtype=bool)
        win[self.cell.window_slice] = True
        self.window_steps = win
        self.workload = float(self.cell.work[win].sum())  # staff-minutes in the window
        self._sdt = g.step_day_type
        self._sh = g.step_hour
        # the steps the option is open (staff on duty only there), and their window share
        self._open = np.flatnonzero(self.open_.frac > 0)
        self._open_slot = self._sdt[self._open].astype(np.int64) * 24 + self._sh[self._open]
        self._open_minutes = self.open_.frac[self._open, None] * 60.0
        self._open_in_window = win[self._open]

    # -- rosters ---------------------------------------------------------------------------
    def capacity(self, rosters: np.ndarray) -> np.ndarray:
        """(B, 8, 24) staff on duty -> (B, T) staff-minutes available per step."""
        r = np.asarray(rosters, dtype=float).reshape(-1, N_DT, 24)
        return r[:, self._sdt, self._sh] * (self.open_.frac * 60.0)[None, :]

    def cost(self, rosters: np.ndarray) -> np.ndarray:
        """Staff-hours on duty in the window [h], shape (B,)."""
        r = np.asarray(rosters, dtype=float).reshape(-1, N_DT, 24)
        return (r * self.slot_cost).sum(axis=(1, 2))

    def clip(self, rosters: np.ndarray) -> np.ndarray:
        """Zero closed slots and raise open ones to the minimum cover."""
        r = np.asarray(rosters).reshape(-1, N_DT, 24).astype(np.int64)
        return np.where(self.open_slots, np.maximum(r, self.min_roster), 0)

    # -- evaluation ------------------------------------------------------------------------
    def shares(self, out: FluidOutcome) -> np.ndarray:
        """Share of work within deadline by priority on the measured days, (B, 4)."""
        w = self.inputs.work
        a = w[:, self.steps, 0].sum(axis=1)  # (Bw,)
        late_u = out.urgent_late[:, self.steps].sum(axis=1)
        due = out.day_due[:, self.days, :].sum(axis=1)  # (Bw, 3)
        late = out.day_late[:, self.days, :].sum(axis=1)  # (B, 3)
        num = np.concatenate([late_u[:, None], late], axis=1)
        den = np.concatenate([a[:, None], due], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(den > EPS_WORK, 1.0 - num / np.maximum(den, EPS_WORK), np.nan)
        return np.clip(share, 0.0, 1.0)

    def evaluate(self, rosters: np.ndarray, keep: bool = False) -> Evaluation:
        """Simulate rosters (B, 8, 24) and judge them against the targets."""
        rosters = np.asarray(rosters).reshape(-1, N_DT, 24)
        parts = []
        for i in range(0, len(rosters), CHUNK):
            # staff-minutes at the open steps, time first: (open steps, B)
            slots = np.asarray(rosters[i : i + CHUNK], dtype=float).reshape(-1, N_DT * 24).T
            cap = slots[self._open_slot] * self._open_minutes
            out = simulate_fluid(self.inputs, cap.T, track=keep, steps=self._open)
            share = self.shares(out)
            cap_w = cap[self._open_in_window].sum(axis=0)
            util = np.where(cap_w > 0, self.workload / np.maximum(cap_w, 1e-9), np.inf)
            parts.append((share, util, out if keep else None))
        share = np.concatenate([p[0] for p in parts])
        util = np.concatenate([p[1] for p in parts])
        margin_share = np.where(
            np.isnan(share), 1.0, (share - self.targets) / np.maximum(1 - self.targets, 1e-3)
        )
        u_max = self.config.max_utilisation
        margin_util = (u_max - util) / u_max
        slack = np.minimum(margin_share.min(axis=1), margin_util)
        feasible = (np.isnan(share) | (share >= self.targets - 1e-9)).all(axis=1) & (
            util <= u_max + 1e-9
        )
        outcome = parts[0][2] if keep and len(parts) == 1 else None
        return Evaluation(share, util, self.cost(rosters), feasible, slack, outcome)

    # -- contact-level check -----------------------------------------------------------------
    def sample_contacts(
        self, rng: np.random.Generator, work_cv: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Random contacts at the cell's planned rates: Poisson counts per hour and priority,
        uniform times within the hour, gamma-distributed work with the cell's mean minutes and
        coefficient of variation ``work_cv`` (default ``config.work_cv``; 1 = exponential).

        Returns arrival [h], priority index, work [h] and deadline [h], sorted by arrival.
        """
        cv = self.config.work_cv if work_cv is None else work_cv
        rate = self.cell.rate
        counts = rng.poisson(rate)
        steps, pri = np.nonzero(counts)
        reps = counts[steps, pri]
        steps = np.repeat(steps, reps)
        pri = np.repeat(pri, reps)
        arrival = steps + rng.random(len(steps))
        order = np.argsort(arrival, kind="stable")
        arrival, pri = arrival[order], pri[order]
        steps = steps[order]
        with np.errstate(invalid="ignore", divide="ignore"):
            mins = np.where(
                rate > 0, self.cell.work / np.maximum(rate, 1e-12), self.cell.minutes[None, :]
            )
        mean_h = mins[steps, pri] / 60.0
        if cv > 0:
            shape = 1.0 / cv**2
            work = rng.gamma(shape, mean_h / shape)
        else:
            work = mean_h
        due = np.empty(len(arrival))
        for k, p in enumerate(PRIORITIES):
            sel = pri == k
            due[sel] = due_times(arrival[sel], self.config.deadlines[p], self._clocks[p])
        return arrival, pri, work, due

    def simulate_contacts(
        self, roster: np.ndarray, rng: np.random.Generator, work_cv: float | None = None
    ) -> ContactOutcome:
        """One contact-level replication of a roster with fresh random arrivals."""
        arrival, pri, work, due = self.sample_contacts(rng, work_cv)
        r = np.asarray(roster).reshape(N_DT, 24)
        staff = r[self._sdt, self._sh]
        return simulate_contacts(
            arrival, pri, work, due, staff, self.open_.lo, self.open_.hi, self.open_.elig
        )

    def contact_shares(self, out: ContactOutcome) -> np.ndarray:
        """Share of contacts within deadline by priority on the measured days, shape (4,).

        Urgent contacts are measured by arrival day, the others by due day (as the fluid
        model does).
        """
        n_days = self.cell.grid.n_days
        arr_day = np.clip((out.arrival // 24).astype(int), 0, n_days - 1)
        with np.errstate(invalid="ignore"):
            due_day = np.where(
                np.isfinite(out.due), np.ceil(out.due / 24 - 1e-9) - 1, n_days
            ).astype(int)
        ok = out.within_deadline()
        share = np.full(len(PRIORITIES), np.nan)
        for k in range(len(PRIORITIES)):
            if k == 0:
                sel = (out.priority == 0) & self.days[arr_day]
            else:
                sel = (out.priority == k) & (due_day < n_days)
                sel &= self.days[np.minimum(due_day, n_days - 1)]
            if sel.any():
                share[k] = ok[sel].mean()
        return share


EPS_WORK = 1e-6

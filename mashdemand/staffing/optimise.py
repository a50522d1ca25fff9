"""The smallest roster meeting every target, and its cost in FTE by role.

A roster is the number of staff on duty in each hour of each day type (Monday..Sunday, bank
holiday): an (8, 24) integer array, zero where the option is closed and at least the option's
minimum cover where it is open. Its cost is the staff-hours on duty it implies over the planning
window. :func:`optimise_roster` finds a cheap roster meeting every target of a
:class:`~mashdemand.staffing.model.RosterProblem` in three stages, every candidate judged by
the fluid simulation (batches of candidates at once):

1. **Workload shape.** For each day type, the work that lands on it (arrivals since the hub
   last worked that priority) per open hour gives a staff level ``g[d]``. Rosters
   ``max(min cover, ceil(theta * g[d]))`` are tried for a fine grid of ``theta``; feasibility
   rises with ``theta``, so the smallest feasible one is a good, balanced start.
2. **Marginal trimming.** Every single-hour removal of one member of staff is tried; the
   feasible ones are ranked by the margin they leave (then by staff-hours saved), and the
   longest feasible run of the ranking is applied together. Repeated until no single removal
   keeps every target.
3. **Exchange.** Removing staff from two hours while adding one elsewhere is tried, accepted
   when cheaper and feasible, then trimming resumes (a few rounds).

:func:`brute_force_roster` enumerates every roster of a small problem for the benchmark and
tests (the optimiser must land within 5% of it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mashdemand.staffing.config import DAY_TYPES, StaffingConfig
from mashdemand.staffing.model import Evaluation, RosterProblem

__all__ = ["RosterResult", "brute_force_roster", "optimise_roster", "roster_fte"]

N_DT = len(DAY_TYPES)


@dataclass
class RosterResult:
    """A roster and how it does.

    Attributes
    ----------
    roster : numpy.ndarray
        (8, 24) staff on duty by day type and hour.
    share : numpy.ndarray
        (4,) share within deadline by priority (fluid model).
    utilisation : float
        Planned work / staff time on duty.
    cost : float
        Staff-hours on duty in the window [h].
    feasible : bool
        Every target met.
    evaluations : int
        Rosters simulated to find it.
    """

    roster: np.ndarray
    share: np.ndarray
    utilisation: float
    cost: float
    feasible: bool
    evaluations: int


def _pick(ev: Evaluation, i: int, roster: np.ndarray, n: int) -> RosterResult:
    return RosterResult(
        roster=np.asarray(roster, dtype=np.int64),
        share=ev.share[i],
        utilisation=float(ev.utilisation[i]),
        cost=float(ev.cost[i]),
        feasible=bool(ev.feasible[i]),
        evaluations=n,
    )


def landing_levels(problem: RosterProblem) -> np.ndarray:
    """Staff on duty per open hour, by day type, that would just clear the work landing on it
    at 100% utilisation, shape (8,) [staff]."""
    g = problem.cell.grid
    work = problem.cell.work
    elig = problem.open_.elig
    t_steps = g.n_steps
    idx = np.arange(t_steps)
    land = np.zeros(g.n_days)
    for p in range(work.shape[1]):
        nxt = np.where(elig[:, p], idx, t_steps)
        nxt = np.minimum.accumulate(nxt[::-1])[::-1]
        ok = nxt < t_steps
        land += np.bincount(nxt[ok] // 24, weights=work[ok, p], minlength=g.n_days)[: g.n_days]
    hours = problem.open_.slot_frac.sum(axis=1)  # open hours by day type
    out = np.zeros(N_DT)
    win = np.arange(g.lo, g.hi)
    for d in range(N_DT):
        days = win[g.day_type[win] == d]
        if len(days) and hours[d] > 0:
            out[d] = land[days].mean() / (hours[d] * 60)
    return out


def _shape_rosters(problem: RosterProblem, g: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    lv = np.ceil(thetas[:, None] * g[None, :] - 1e-9)  # (n, 8)
    r = np.broadcast_to(lv[:, :, None], (len(thetas), N_DT, 24))
    return problem.clip(r)


def _stage_shape(problem: RosterProblem, max_staff: int) -> RosterResult:
    """Smallest feasible theta-scaled workload shape (or the largest tried)."""
    g = landing_levels(problem)
    if g.max() <= 0:
        g = problem.open_slots.any(axis=1).astype(float)
    n = 0
    top = max_staff / max(g.max(), 1e-9)
    lo_t, hi_t = 0.5, 4.0
    for _ in range(6):
        thetas = np.geomspace(lo_t, max(min(hi_t, top), lo_t * 1.01), 96)
        cands = np.minimum(_shape_rosters(problem, g, thetas), max_staff)
        # identical rosters (ceil plateaus) are simulated once
        uniq, inv = np.unique(cands.reshape(len(cands), -1), axis=0, return_inverse=True)
        ev = problem.evaluate(uniq.reshape(-1, N_DT, 24))
        n += len(uniq)
        feas = ev.feasible[inv.ravel()]
        ok = np.flatnonzero(feas)
        if len(ok):
            i = ok[0]
            j = int(inv.ravel()[i])
            at_floor = (cands[i] == problem.min_roster).all()
            if i > 0 or at_floor or lo_t < 1e-3:
                return _pick(ev, j, cands[i], n)
            lo_t, hi_t = lo_t / 8, lo_t
            continue
        if hi_t >= top:
            j = int(inv.ravel()[-1])
            return _pick(ev, j, cands[-1], n)
        lo_t, hi_t = hi_t, hi_t * 8
    j = int(inv.ravel()[-1])
    return _pick(ev, j, cands[-1], n)


def _trim(problem: RosterProblem, best: RosterResult, rounds: int = 40) -> RosterResult:
    """Remove single staff-hours while every target still holds (batched marginal analysis).

    Each round tries every single removal, ranks the feasible ones by the margin they leave
    (then by staff-hours saved) and applies the longest feasible run of that ranking. When
    that run stops short of all feasible removals, the targets bind and trimming stops.
    """
    n = best.evaluations
    roster = best.roster
    cost_w = problem.slot_cost
    for _ in range(rounds):
        slots = np.argwhere(roster > problem.min_roster)
        if len(slots) == 0:
            break
        cands = np.repeat(roster[None], len(slots), axis=0)
        cands[np.arange(len(slots)), slots[:, 0], slots[:, 1]] -= 1
        ev = problem.evaluate(cands)
        n += len(cands)
        ok = np.flatnonzero(ev.feasible)
        if len(ok) == 0:
            break
        w = cost_w[slots[ok, 0], slots[ok, 1]]
        order = ok[np.lexsort((-w, -np.round(ev.slack[ok], 6)))]
        if len(order) == 1:
            roster = cands[order[0]]
            best = _pick(ev, int(order[0]), roster, n)
            continue
        steps = np.zeros((len(order), N_DT, 24), dtype=np.int64)
        for k, j in enumerate(order):
            steps[k:, slots[j, 0], slots[j, 1]] -= 1
        prefix = roster[None] + steps
        ev2 = problem.evaluate(prefix)
        n += len(prefix)
        good = np.flatnonzero(ev2.feasible)
        if len(good):
            k = int(good.max())
            roster = prefix[k]
            best = _pick(ev2, k, roster, n)
            if k < len(order) - 1:
                break  # the targets bind: further single removals are unlikely to hold
        else:
            roster = cands[order[0]]
            best = _pick(ev, int(order[0]), roster, n)
    best.evaluations = n
    return best


def _exchange(problem: RosterProblem, best: RosterResult, tries: int = 64) -> RosterResult:
    """Try removing two staff-hours and adding one elsewhere; keep the best cheaper feasible."""
    roster = best.roster
    rng = np.random.default_rng(0)
    down = np.argwhere(roster > problem.min_roster)
    up = np.argwhere(problem.open_slots)
    if len(down) < 2 or len(up) == 0:
        return best
    cost_w = problem.slot_cost
    cands = []
    for _ in range(tries * 4):
        i, j = rng.choice(len(down), 2, replace=False)
        k = rng.integers(len(up))
        a, b, c = down[i], down[j], up[k]
        saving = cost_w[a[0], a[1]] + cost_w[b[0], b[1]] - cost_w[c[0], c[1]]
        if saving <= 1e-9 or (c == a).all() or (c == b).all():
            continue
        r = roster.copy()
        r[a[0], a[1]] -= 1
        r[b[0], b[1]] -= 1
        r[c[0], c[1]] += 1
        cands.append(r)
        if len(cands) >= tries:
            break
    if not cands:
        return best
    cands = np.array(cands)
    ev = problem.evaluate(cands)
    n = best.evaluations + len(cands)
    ok = np.flatnonzero(ev.feasible)
    if len(ok) == 0:
        best.evaluations = n
        return best
    i = int(ok[np.argmin(ev.cost[ok])])
    return _pick(ev, i, cands[i], n)


def optimise_roster(
    problem: RosterProblem, max_staff: int | None = None, exchange_rounds: int = 1
) -> RosterResult:
    """Smallest roster meeting every target of ``problem`` (see the module docstring).

    Parameters
    ----------
    problem : RosterProblem
        Hub, window and option.
    max_staff : int, optional
        Upper bound on staff on duty in one hour (default ``config.max_staff``).
    exchange_rounds : int
        Rounds of the exchange stage.

    Returns
    -------
    RosterResult
        ``feasible`` is False when no roster up to ``max_staff`` meets every target (the
        largest one tried is returned).
    """
    max_staff = int(max_staff or problem.config.max_staff)
    best = _stage_shape(problem, max_staff)
    if not best.feasible:
        return best
    best = _trim(problem, best)
    for _ in range(exchange_rounds):
        new = _exchange(problem, best)
        if new.cost >= best.cost - 1e-9:
            best.evaluations = new.evaluations
            break
        best = _trim(problem, new)
    return best


def brute_force_roster(
    problem: RosterProblem, max_staff: int, limit: int = 500_000
) -> RosterResult:
    """Cheapest feasible roster by enumerating every roster of a small problem.

    Every open slot takes each level from its minimum cover to ``max_staff``.

    Raises
    ------
    ValueError
        When there are more than ``limit`` rosters to try.
    """
    slots = np.argwhere(problem.open_slots)
    lows = problem.min_roster[problem.open_slots]
    levels = [range(int(lo), max_staff + 1) for lo in lows]
    total = int(np.prod([len(x) for x in levels], dtype=float))
    if total > limit:
        raise ValueError(f"brute force: {total:,} rosters exceed the limit of {limit:,}")
    best_cost, best = np.inf, None
    n = 0
    it = itertools.product(*levels)
    while True:
        chunk = list(itertools.islice(it, 4096))
        if not chunk:
            break
        vals = np.array(chunk, dtype=np.int64)
        cands = np.zeros((len(vals), N_DT, 24), dtype=np.int64)
        cands[:, slots[:, 0], slots[:, 1]] = vals
        cost = problem.cost(cands)
        keep = cost < best_cost - 1e-9
        if not keep.any():
            n += len(vals)
            continue
        ev = problem.evaluate(cands[keep])
        n += int(keep.sum())
        ok = np.flatnonzero(ev.feasible)
        if len(ok):
            j = ok[np.argmin(ev.cost[ok])]
            if ev.cost[j] < best_cost:
                best_cost, best = ev.cost[j], cands[keep][j]
    roster = best if best is not None else problem.clip(np.full((N_DT, 24), max_staff))[0]
    ev = problem.evaluate(roster[None])
    return _pick(ev, 0, roster, n + 1)


def roster_fte(
    problem: RosterProblem, roster: np.ndarray, config: StaffingConfig
) -> dict[str, float]:
    """FTE a roster needs, in total and by role.

    Staff-hours on duty in the window, annualised (x 365.25 / days in the window), divided by
    each role's productive hours per FTE per year after its share of the work.

    Returns a dict with ``fte_required`` and ``fte_<role>`` [FTE] and ``staff_hours_week``
    (mean staff-hours on duty per week) [h/week].
    """
    days = problem.cell.grid.hi - problem.cell.grid.lo
    hours = float(problem.cost(roster[None])[0])
    per_year = hours * 365.25 / days
    by_role = config.fte_by_role(per_year)
    out = {"fte_required": float(sum(by_role.values()))}
    out.update({f"fte_{k}": v for k, v in by_role.items()})
    out["staff_hours_week"] = hours * 7 / days
    return out

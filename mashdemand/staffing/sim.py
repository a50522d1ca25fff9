"""Simulating a hub's backlog against deadlines: a fast fluid model and a contact-level check.

Both models share the same inputs: contacts arriving by hour and priority, staff on duty by
hour, the priorities worked in each hour, and a deadline for every contact (from
:func:`mashdemand.standards.due_times` under the config's :class:`~mashdemand.standards.Deadline`
rules: the one definition of the service standards the FMS also measures with). Both take work
in the same order:

* **urgent** contacts first (risk of immediate harm), in order of arrival;
* then **earliest deadline first** among high, medium and standard work. Their deadlines fall at
  the end of a due day, so this is due-day order, high before medium before standard on the
  same due day. Work past its deadline stays in the backlog and is taken first.

:func:`simulate_fluid` (the planning model) treats work as a fluid: in each hour the staff on
duty deliver ``staff x open share x 60`` minutes, split among waiting work in that order.
Urgent work is a single-class queue solved for all hours at once (Lindley's recursion as a
running minimum over the open hours). The rest is held by due day and priority; within a day
the serving order is fixed, so every prefix of it is a single queue and a day's open hours are
solved at once (:func:`_serve_block`), only the places holding or receiving work taking part.
Days are stepped in turn (work due on a day passed is late and joins the overdue work). A batch
of rosters is simulated together (numpy broadcasting), which is what makes the optimiser fast.
The numbers are those of stepping hour by hour, to floating-point rounding (about 1e-12).

:func:`simulate_contacts` (the check model) is a discrete-event simulation of individual contacts
and individual staff: Poisson arrivals, random work per contact, no contact split between
staff, work in progress at closing time resumed at the next opening. With constant staffing,
one priority and exponential work it is the M/M/c queue, which the tests check against Erlang C.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ContactOutcome",
    "FluidInputs",
    "FluidOutcome",
    "simulate_contacts",
    "simulate_fluid",
]

N_PRI = 4  # urgent, high, medium, standard
URGENT_CHUNK = 16  # rosters per pass of the urgent queue (measured fastest on 2 cores)
EPS = 1e-9


# --- Fluid model ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FluidInputs:
    """Arrivals and deadlines for the fluid model on an hourly grid of ``T`` steps.

    Attributes
    ----------
    work : numpy.ndarray
        (Bw, T, 4) staff-minutes of contacts arriving in each step, by priority; ``Bw`` is 1
        (shared by every roster) or the batch size.
    elig : numpy.ndarray
        (T, 4) whether each priority is worked in each step.
    urgent_due : numpy.ndarray
        (T,) the step by whose end urgent work arriving in a step is due (``>= T``: beyond).
    due_day : numpy.ndarray
        (T, 3) the day by whose end high, medium and standard work arriving in a step is due.
    n_days : int
        Days in the grid (``T = 24 * n_days``).
    """

    work: np.ndarray
    elig: np.ndarray
    urgent_due: np.ndarray
    due_day: np.ndarray
    n_days: int


@dataclass
class FluidOutcome:
    """What the fluid model returns for a batch of ``B`` rosters (work in staff-minutes).

    Attributes
    ----------
    urgent_late : numpy.ndarray
        (B, T) urgent work arriving in each step not done by its deadline.
    day_late : numpy.ndarray
        (B, n_days, 3) high/medium/standard work due on each day not done by then.
    day_due : numpy.ndarray
        (Bw, n_days, 3) work due on each day.
    open_backlog : numpy.ndarray
        (B, n_days, 4) work waiting at the first open hour of each day (NaN if not open).
    backlog_end : numpy.ndarray
        (B, 4) work still waiting at the end of the grid.
    served : numpy.ndarray
        (B,) work done.
    wait : numpy.ndarray
        (B, 4) integral of the backlog over time [staff-minutes x hours]; divided by the work
        arrived it is the mean time to decision by priority (Little's law) [h].
    """

    urgent_late: np.ndarray
    day_late: np.ndarray
    day_due: np.ndarray
    open_backlog: np.ndarray
    backlog_end: np.ndarray
    served: np.ndarray
    wait: np.ndarray


@dataclass
class _UrgentQueue:
    """The urgent queue of a batch, time first: work served at the steps with capacity (n, B),
    late work by arrival step (T, B), backlog at the end (B,) and, when tracked, after every
    step (T, B)."""

    served: np.ndarray
    late: np.ndarray
    backlog_end: np.ndarray
    backlog: np.ndarray | None


def _urgent(
    a: np.ndarray, cap: np.ndarray, steps: np.ndarray, due: np.ndarray, track: bool
) -> _UrgentQueue:
    """Urgent work, first come first served, for all steps at once.

    Between the steps with capacity the backlog only grows, so Lindley's recursion runs over
    those steps alone (as a running minimum of the cumulative net inflow), with the work that
    arrived since the previous one. A step's arrivals are late by the amount still waiting at
    its deadline: ``min(a, arrived - departed(due))``, first in first out.

    Parameters
    ----------
    a : numpy.ndarray
        (Bw, T) urgent work arriving in each step.
    cap : numpy.ndarray
        (n, B) staff-minutes for urgent work at ``steps``.
    steps : numpy.ndarray
        (n,) sorted steps with capacity (none elsewhere).
    due : numpy.ndarray
        (T,) step by whose end each step's arrivals are due (``>= T``: beyond the grid).
    track : bool
        Also return the backlog after every step.
    """
    b, t_steps = cap.shape[1], a.shape[1]
    arrived = np.cumsum(a, axis=1).T  # (T, Bw)
    at = arrived[steps]
    inflow = np.diff(at, axis=0, prepend=0.0)
    s = np.cumsum(inflow - cap, axis=0)
    backlog = s - np.minimum(np.minimum.accumulate(s, axis=0), 0.0)
    np.maximum(backlog, 0.0, out=backlog)
    prev = np.concatenate([np.zeros((1, b)), backlog[:-1]])
    served = np.clip(prev + inflow - backlog, 0.0, None)
    # work departed by the end of each step: a step function of time, padded with 0 before
    # the first step with capacity
    departed = np.concatenate([np.zeros((1, b)), at - backlog])
    t_max = t_steps - 1
    at_due = np.searchsorted(steps, np.minimum(due, t_max), side="right")
    late = arrived - departed[at_due]
    np.maximum(late, 0.0, out=late)
    np.minimum(late, a.T, out=late)
    late[due > t_max] = 0.0
    late[late < EPS] = 0.0
    full = None
    if track:
        full = arrived - departed[np.searchsorted(steps, np.arange(t_steps), side="right")]
    return _UrgentQueue(served, late, arrived[-1] - departed[-1], full)


def _urgent_batch(
    a: np.ndarray, cap: np.ndarray, steps: np.ndarray, due: np.ndarray, track: bool
) -> _UrgentQueue:
    """:func:`_urgent` for a batch, :data:`URGENT_CHUNK` rosters at a time (the same numbers:
    rosters are independent), so that its arrays stay in the processor's cache."""
    b = cap.shape[1]
    if b <= URGENT_CHUNK:
        return _urgent(a, cap, steps, due, track)
    parts = [
        _urgent(
            a if a.shape[0] == 1 else a[i : i + URGENT_CHUNK],
            cap[:, i : i + URGENT_CHUNK],
            steps,
            due,
            track,
        )
        for i in range(0, b, URGENT_CHUNK)
    ]
    return _UrgentQueue(
        np.concatenate([p.served for p in parts], axis=1),
        np.concatenate([p.late for p in parts], axis=1),
        np.concatenate([p.backlog_end for p in parts]),
        np.concatenate([p.backlog for p in parts], axis=1) if track else None,
    )


def _serve_block(
    backlog: np.ndarray, jj: np.ndarray, cc: np.ndarray, track: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Serve work in a fixed order over the hours of one block, every prefix at once.

    With the order fixed, the work in the first ``f`` places of the order is a single queue
    for every ``f``: its backlog ``P_f`` follows Lindley's recursion
    ``P_f(i) = max(P_f(i-1) + J_f(i) - c(i), 0)``, ``J_f(i)`` the work joining those places
    in hour ``i``. So ``P_f(i) = max(P_f(0) + Y_f(i), Y_f(i) - min_{j <= i} Y_f(j))`` with
    ``Y_f`` the cumulative net inflow ``sum_j J_f(j) - c(j)``.

    Parameters
    ----------
    backlog : numpy.ndarray
        (B, F) work waiting in each place of the order at the start.
    jj : numpy.ndarray
        (n, Bw, F) work joining each prefix of the order, cumulative over the hours.
    cc : numpy.ndarray
        (n, B, 1) capacity, cumulative over the hours.
    track : bool
        Also return the backlog by place after every hour, (n, B, F).

    Returns
    -------
    end : numpy.ndarray
        (B, F) backlog by place at the end of the block.
    path : numpy.ndarray or None
        (n, B, F) when ``track``.
    """
    y = jj - cc  # (n, B, F)
    if track:
        path = y - np.minimum.accumulate(y, axis=0)
        np.maximum(path, y + np.cumsum(backlog, axis=1), out=path)
        np.maximum.accumulate(path, axis=2, out=path)
        path[:, :, 1:] -= path[:, :, :-1]
        return path[-1], path
    prefix = np.cumsum(backlog, axis=1)
    prefix += y[-1]
    np.maximum(prefix, y[-1] - y.min(axis=0), out=prefix)
    np.maximum.accumulate(prefix, axis=1, out=prefix)  # no prefix below the one before
    prefix[:, 1:] -= prefix[:, :-1]
    return prefix, None


def simulate_fluid(
    inp: FluidInputs, cap: np.ndarray, track: bool = True, steps: np.ndarray | None = None
) -> FluidOutcome:
    """Simulate a batch of rosters as a fluid backlog (see the module docstring).

    Parameters
    ----------
    inp : FluidInputs
        Arrivals and deadlines.
    cap : numpy.ndarray
        (B, T) staff-minutes available in each step (staff on duty x open share x 60), or
        (B, n) at ``steps`` only.
    track : bool
        Also record the backlog at opening, work served and waiting time (slower; the
        optimiser needs only the late work).
    steps : numpy.ndarray, optional
        (n,) sorted steps ``cap`` is given for; no capacity at the others. Default: every step.

    Returns
    -------
    FluidOutcome

    Notes
    -----
    High, medium and standard work waits in buckets by due day relative to today (bucket 0
    overdue) and is served in (bucket, priority) order. That order is fixed within a day, so
    each day's open hours are solved at once (:func:`_serve_block`); between days the
    buckets move one day closer and work due on the day passed is counted late.

    Examples
    --------
    One day, 60 minutes of standard work arriving at 09:00 and due that day; one person on
    duty 09:00-10:00 does it in time, nobody does not.

    >>> T = 48
    >>> work = np.zeros((1, T, 4)); work[0, 9, 3] = 60.0
    >>> inp = FluidInputs(work, np.ones((T, 4), bool), np.full(T, T), np.zeros((T, 3), int), 2)
    >>> cap = np.zeros((2, T)); cap[0, 9] = 60.0; cap[1, 10] = 1.0
    >>> out = simulate_fluid(inp, cap)
    >>> out.day_late[:, 0, 2].tolist(), out.served.tolist()
    ([0.0, 59.0], [60.0, 1.0])
    """
    cap = np.ascontiguousarray(np.asarray(cap, dtype=float).T)  # (steps, B): time first
    work = inp.work
    bw, t_steps = work.shape[0], work.shape[1]
    if steps is None:
        steps = np.flatnonzero((cap > 0).any(axis=1))
        cap = cap[steps]
    steps = np.asarray(steps, dtype=np.int64)
    b = cap.shape[1]
    n_days = inp.n_days
    urgent_cap = cap * inp.elig[steps, :1]
    urgent = _urgent_batch(work[:, :, 0], urgent_cap, steps, inp.urgent_due, track)
    elig3 = inp.elig[:, 1:]
    left = cap - urgent.served
    left *= elig3[steps].any(axis=1, keepdims=True)
    live = (left > EPS).any(axis=1)
    loop = steps[live]
    left_t = left[live]  # (n_loop, B)
    n_loop = len(loop)

    # Due-day bookkeeping, shared by the batch.
    due_day = inp.due_day
    day_due = np.zeros((bw, n_days, 3))
    for c in range(3):
        ok = due_day[:, c] < n_days
        for k in range(bw):
            day_due[k, :, c] = np.bincount(
                due_day[ok, c], weights=work[k, ok, 1 + c], minlength=n_days
            )[:n_days]
    day_late = np.zeros((b, n_days, 3))
    open_backlog = np.full((b, n_days, N_PRI), np.nan)
    wait = np.zeros((b, N_PRI))
    served = np.zeros(b)
    if track:
        wait[:, 0] = urgent.backlog.sum(axis=0)
        served += urgent.served.sum(axis=0)

    all_steps = np.arange(t_steps)
    idx = np.searchsorted(loop, all_steps, side="left")  # loop step at which arrivals join
    tail = idx >= n_loop
    loop_day = loop // 24
    join_day = loop_day[np.minimum(idx, max(n_loop - 1, 0))] if n_loop else np.zeros(t_steps, int)
    rel = due_day - join_day[:, None]  # (T, 3)
    k_buckets = int(max(rel[~tail].max(initial=0), 0)) + 2
    bucket = np.where(rel < 0, 0, np.minimum(rel + 1, k_buckets - 1))
    # Work joining already overdue, or never served (after the last open hour): late now.
    gone = (rel < 0) | tail[:, None]
    for c in range(3):
        sel = gone[:, c] & (due_day[:, c] < n_days)
        if sel.any():
            add = np.zeros((bw, n_days))
            for k in range(bw):
                add[k] = np.bincount(
                    due_day[sel, c], weights=work[k, sel, 1 + c], minlength=n_days
                )[:n_days]
            day_late[:, :, c] += add if bw == b else add[0]
    backlog_end = np.zeros((b, N_PRI))
    backlog_end[:, 0] = urgent.backlog_end
    backlog_end[:, 1:] += work[:, tail, 1:].sum(axis=1)
    # closed-hours wait before joining the queue, added to Little's integral
    if n_loop and track:
        lag = np.where(
            tail, 0.0, np.maximum(loop[np.minimum(idx, n_loop - 1)] - all_steps - 0.5, 0.0)
        )
        wait[:, 1:] += np.einsum("t,btc->bc", lag, work[:, :, 1:])
    late_u = urgent.late.T  # (B, T)
    if n_loop == 0:
        return FluidOutcome(late_u, day_late, day_due, open_backlog, backlog_end, served, wait)

    # Arrivals grouped by (loop step, bucket, priority): the order work is served in.
    width = k_buckets * 3
    lin = (idx[:, None] * width + bucket * 3 + np.arange(3)[None, :])[~tail].ravel()
    joins = np.zeros((bw, n_loop, width))
    for k in range(bw):
        joins[k] = np.bincount(
            lin, weights=work[k, ~tail, 1:].ravel(), minlength=n_loop * width
        ).reshape(n_loop, width)
    gap = np.diff(np.append(loop, t_steps)).astype(float)

    # Blocks: runs of loop steps on one day with the same priorities worked, laid out as
    # (block, hour of the block) padded with hours of no capacity and no arrivals.
    mask = (elig3[loop] * np.array([1, 2, 4])).sum(axis=1)
    starts = np.flatnonzero(np.diff(loop_day * 8 + mask, prepend=-1))
    ends = np.append(starts[1:], n_loop)
    lengths = ends - starts
    of_block = np.repeat(np.arange(len(starts)), lengths)
    hour = np.arange(n_loop) - starts[of_block]
    shape = (len(starts), int(lengths.max()))
    cc_all = np.zeros((*shape, b, 1))  # capacity, cumulative over the block's hours
    cc_all[of_block, hour, :, 0] = left_t
    np.cumsum(cc_all, axis=1, out=cc_all)
    worked_now = (mask[:, None] >> np.arange(3) & 1).astype(bool)  # (n_loop, 3)
    served_joins = joins * np.tile(worked_now, k_buckets)  # joins worked where they join
    jj_all = np.zeros((*shape, bw, width))  # ... by prefix of the order, cumulative
    jj_all[of_block, hour] = np.cumsum(served_joins, axis=2).transpose(1, 0, 2)
    np.cumsum(jj_all, axis=1, out=jj_all)
    joined = list(np.logical_or.reduceat((joins != 0).any(axis=0), starts))  # (width,) each
    worked = {m: np.tile(m >> np.arange(3) & 1, k_buckets).astype(bool) for m in range(8)}
    # Backlog by place in the serving order, for all days in one buffer: work due on day D
    # of priority p at place 3 + 3 D + p (D = n_days: beyond the grid). On day d the places
    # of day d - 1 hold the overdue work, so the day's order is the window of places from 3 d
    # on (the buckets, ``width`` places), and moving to a later day moves no work but the
    # work now overdue.
    held = np.zeros((b, 3 * n_days + width))
    busy = np.zeros(held.shape[1], dtype=bool)  # places holding work for some roster
    cur = int(loop_day[0])
    first = True
    days = loop_day[starts].tolist()
    masks = mask[starts].tolist()
    for g, (s0, s1) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        d, m = days[g], masks[g]
        if d != cur:  # work due on the days passed is late, and now overdue
            passed = held[:, 3 + 3 * cur : 3 + 3 * d].reshape(b, d - cur, 3)
            day_late[:, cur:d, :] += passed
            over = held[:, 3 * d : 3 * d + 3]  # the places of day d - 1
            if d - cur > 1:
                over[:] = passed.sum(axis=1)
                busy[3 * d : 3 * d + 3] = busy[3 + 3 * cur : 3 + 3 * d].reshape(-1, 3).any(0)
            over += held[:, 3 * cur : 3 * cur + 3]
            busy[3 * d : 3 * d + 3] |= busy[3 * cur : 3 * cur + 3]
            cur = d
            first = True
        window = held[:, 3 * d : 3 * d + width]
        busy_now = busy[3 * d : 3 * d + width]
        busy_now |= joined[g]
        n_hours = s1 - s0
        if track and first:
            by_priority = (window + joins[:, s0]).reshape(b, k_buckets, 3).sum(axis=1)
            open_backlog[:, d, 1:] = by_priority
            t = int(loop[s0])
            open_backlog[:, d, 0] = urgent.backlog[t - 1] if t > 0 else 0.0
            first = False
        placed = np.zeros((n_hours, b, width)) if track else None  # backlog after each hour
        # Places neither holding nor receiving work stay empty: leaving them out of the
        # block changes no number.
        if m == 7:
            cols = busy_now.nonzero()[0]
        else:  # work of the priorities not worked in this block waits
            cols = (busy_now & worked[m]).nonzero()[0]
            idle = (busy_now & ~worked[m]).nonzero()[0]
            joining = np.cumsum(joins[:, s0:s1][:, :, idle], axis=1).transpose(1, 0, 2)
            waiting = window[:, idle][None] + joining
            window[:, idle] = waiting[-1]
            if track:
                placed[..., idle] = waiting
        if len(cols):
            start = window[:, cols]
            jj = jj_all[g][..., cols]
            end, path = _serve_block(start, jj, cc_all[g], track)
            window[:, cols] = end
            busy_now[cols] = end.any(axis=0)
            if track:
                served += start.sum(axis=1) + jj[n_hours - 1, :, -1] - end.sum(axis=1)
                placed[..., cols] = path[:n_hours]
        if track:
            by_priority = placed.reshape(n_hours, b, k_buckets, 3).sum(axis=2)
            wait[:, 1:] += np.einsum("i,ibc->bc", gap[s0:s1], by_priority)
    # Flush: work due by the end of the grid and not done is late.
    day_late[:, cur:, :] += held[:, 3 + 3 * cur : 3 + 3 * n_days].reshape(b, -1, 3)
    window = held[:, 3 * cur : 3 * cur + width]
    backlog_end[:, 1:] += window.reshape(b, k_buckets, 3).sum(axis=1)
    return FluidOutcome(late_u, day_late, day_due, open_backlog, backlog_end, served, wait)


# --- Contact-level discrete-event model -------------------------------------------------------
@dataclass
class ContactOutcome:
    """Per-contact results of :func:`simulate_contacts` (times in hours from the grid start).

    Attributes
    ----------
    arrival, due, start, finish : numpy.ndarray
        Per contact; ``start``/``finish`` are NaN for contacts still waiting at the end.
    priority : numpy.ndarray
        Priority index (0 urgent .. 3 standard).
    work : numpy.ndarray
        Staff hours each contact took.
    busy_hours, staff_hours : float
        Staff time working on contacts and staff time on duty.
    """

    arrival: np.ndarray
    priority: np.ndarray
    work: np.ndarray
    due: np.ndarray
    start: np.ndarray
    finish: np.ndarray
    busy_hours: float
    staff_hours: float

    @property
    def decided(self) -> np.ndarray:
        return ~np.isnan(self.finish)

    def within_deadline(self) -> np.ndarray:
        """Whether each contact was decided by its deadline."""
        with np.errstate(invalid="ignore"):
            return self.decided & (self.finish <= self.due + 1e-9)


def _staff_changes(
    staff: np.ndarray, lo: np.ndarray, hi: np.ndarray, elig: np.ndarray
) -> list[tuple[float, int, int]]:
    """Times at which staff on duty or the priorities worked change: (time, staff, elig mask)."""
    out: list[tuple[float, int, int]] = []
    bits = (elig.astype(np.int64) * (1 << np.arange(elig.shape[1]))).sum(axis=1)
    prev = (-1, -1)
    n_days = len(lo)
    for day in range(n_days):
        a, b = lo[day], hi[day]
        base = 24 * day
        if b <= a:
            continue
        hours = range(int(np.floor(a)), int(np.ceil(b)))
        for h in hours:
            t0 = base + max(a, h)
            step = base + h
            level = int(staff[step])
            mask = int(bits[step])
            if (level, mask) != prev:
                out.append((float(t0), level, mask))
                prev = (level, mask)
        if prev != (0, 0):
            out.append((float(base + b), 0, 0))
            prev = (0, 0)
    # At equal times keep the last change (a day closing at 24:00 as the next opens at 00:00).
    merged: list[tuple[float, int, int]] = []
    for item in out:
        if merged and merged[-1][0] == item[0]:
            merged[-1] = item
        else:
            merged.append(item)
    final: list[tuple[float, int, int]] = []
    for item in merged:
        if not final or final[-1][1:] != item[1:]:
            final.append(item)
    return final


def simulate_contacts(
    arrival: np.ndarray,
    priority: np.ndarray,
    work: np.ndarray,
    due: np.ndarray,
    staff: np.ndarray,
    open_lo: np.ndarray,
    open_hi: np.ndarray,
    elig: np.ndarray,
) -> ContactOutcome:
    """Discrete-event simulation of individual contacts and staff.

    Parameters
    ----------
    arrival : numpy.ndarray
        Arrival times [h from the grid start], sorted.
    priority : numpy.ndarray
        Priority index of each contact (0 urgent .. 3 standard).
    work : numpy.ndarray
        Staff hours each contact needs [h].
    due : numpy.ndarray
        Deadlines [h].
    staff : numpy.ndarray
        (T,) staff on duty in each hourly step while the hub is open.
    open_lo, open_hi : numpy.ndarray
        (n_days,) opening interval of each day [h of the day].
    elig : numpy.ndarray
        (T, 4) priorities worked in each step.

    Returns
    -------
    ContactOutcome

    Notes
    -----
    Urgent contacts are taken first in order of arrival, then the earliest deadline (ties:
    higher priority, then arrival). A member of staff finishes the contact they started unless
    the hub closes or staff on duty fall: then the least urgent work in progress is put back in
    the queue with its remaining work and resumed by whoever is next free.

    Examples
    --------
    Two staff on duty all day, three one-hour contacts at 09:00: the third waits an hour.

    >>> lo, hi = np.array([0.0]), np.array([24.0])
    >>> out = simulate_contacts(np.array([9.0, 9.0, 9.0]), np.array([3, 3, 3]),
    ...     np.ones(3), np.full(3, 24.0), np.full(24, 2), lo, hi, np.ones((24, 4), bool))
    >>> out.start.tolist(), out.finish.tolist()
    ([9.0, 9.0, 10.0], [10.0, 10.0, 11.0])
    """
    n = len(arrival)
    nan = float("nan")
    inf = float("inf")
    start = [nan] * n
    finish = [nan] * n
    arr = arrival.tolist()
    pri = priority.astype(int).tolist()
    due_l = due.tolist()
    remaining = work.astype(float).tolist()
    changes = _staff_changes(np.asarray(staff), open_lo, open_hi, np.asarray(elig))
    queues: list[list] = [[] for _ in range(N_PRI)]
    # (time, kind 0=finish 1=change, seq, job): finishes first at equal times
    events: list[tuple[float, int, int, int]] = [
        (t, 1, i, -1) for i, (t, _, _) in enumerate(changes)
    ]
    heapq.heapify(events)
    push, pop = heapq.heappush, heapq.heappop
    # for each mask of priorities worked: is urgent worked, and the others worked
    worked = [(bool(m & 1), tuple(p for p in (1, 2, 3) if m >> p & 1)) for m in range(16)]
    on_duty = 0
    mask_now = 0
    urgent_worked, others = worked[0]
    busy: dict[int, tuple[float, int]] = {}  # job -> (finish time, version)
    version = [0] * n
    busy_hours = 0.0
    staff_hours = 0.0
    last_t = 0.0
    nxt = 0

    def dispatch(now: float) -> None:
        """Free staff take the most urgent work waiting (urgent by arrival, then the earliest
        deadline among the priorities worked)."""
        while on_duty > len(busy):
            if urgent_worked and queues[0]:
                j = pop(queues[0])[2]
            else:
                best = None
                for p in others:
                    q = queues[p]
                    if q and (best is None or q[0][0] < best[0][0]):
                        best = q
                if best is None:
                    return
                j = pop(best)[2]
            if start[j] != start[j]:
                start[j] = now
            end = now + remaining[j]
            v = version[j] + 1
            version[j] = v
            busy[j] = (end, v)
            push(events, (end, 0, v, j))

    def enqueue(j: int) -> None:
        p = pri[j]
        push(queues[p], (arr[j] if p == 0 else due_l[j], arr[j], j))

    change_idx = 0
    while True:
        t_ev = events[0][0] if events else inf
        t_arr = arr[nxt] if nxt < n else inf
        if t_ev == inf and t_arr == inf:
            break
        if t_arr < t_ev:
            now = t_arr
            staff_hours += on_duty * (now - last_t)
            busy_hours += len(busy) * (now - last_t)
            last_t = now
            p = pri[nxt]
            push(queues[p], (now if p == 0 else due_l[nxt], now, nxt))
            nxt += 1
            if on_duty > len(busy):
                dispatch(now)
            continue
        now, kind, ver, j = pop(events)
        staff_hours += on_duty * (now - last_t)
        busy_hours += len(busy) * (now - last_t)
        last_t = now
        if kind == 0:
            job = busy.get(j)
            if job is not None and job[1] == ver:
                del busy[j]
                remaining[j] = 0.0
                finish[j] = now
                dispatch(now)
            continue
        _, on_duty, mask_now = changes[change_idx]
        urgent_worked, others = worked[mask_now]
        change_idx += 1
        # Put back in the queue work of priorities no longer worked, and any above staff.
        stop = [k for k in busy if not (mask_now >> pri[k] & 1)]
        extra = len(busy) - len(stop) - on_duty
        if extra > 0:
            rest = sorted(
                (k for k in busy if k not in stop),
                key=lambda k: (pri[k] == 0, -due_l[k]),
            )
            stop += rest[:extra]
        for k in stop:
            end, _ = busy.pop(k)
            remaining[k] = max(end - now, 0.0)
            version[k] += 1
            enqueue(k)
        dispatch(now)
    return ContactOutcome(
        arrival=np.asarray(arrival, dtype=float),
        priority=np.asarray(priority, dtype=int),
        work=np.asarray(work, dtype=float),
        due=np.asarray(due, dtype=float),
        start=np.array(start, dtype=float),
        finish=np.array(finish, dtype=float),
        busy_hours=busy_hours,
        staff_hours=staff_hours,
    )

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
running minimum); the rest is stepped hour by hour over the open hours only, with the backlog
held as buckets by due day. A batch of rosters is simulated together (numpy broadcasting), which
is what makes the optimiser fast.

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


def _urgent(a: np.ndarray, cap: np.ndarray, due: np.ndarray) -> tuple[np.ndarray, ...]:
    """Urgent queue for all steps at once: backlog, work served and late work per cohort."""
    x = a - cap
    s = np.cumsum(x, axis=1)
    backlog = s - np.minimum(np.minimum.accumulate(s, axis=1), 0.0)
    np.maximum(backlog, 0.0, out=backlog)
    prev = np.concatenate([np.zeros((backlog.shape[0], 1)), backlog[:, :-1]], axis=1)
    served = np.clip(prev + a - backlog, 0.0, None)
    arrived = np.cumsum(a, axis=1)
    departed = arrived - backlog
    before = arrived - a
    t_max = a.shape[1] - 1
    d = np.minimum(due, t_max)
    done = np.clip(departed[:, d] - before, 0.0, a)
    late = np.where(due > t_max, 0.0, a - done)
    late[late < EPS] = 0.0
    return backlog, served, late


def simulate_fluid(inp: FluidInputs, cap: np.ndarray, track: bool = True) -> FluidOutcome:
    """Simulate a batch of rosters as a fluid backlog (see the module docstring).

    Parameters
    ----------
    inp : FluidInputs
        Arrivals and deadlines.
    cap : numpy.ndarray
        (B, T) staff-minutes available in each step (staff on duty x open share x 60).
    track : bool
        Also record the backlog at opening, work served and waiting time (slower; the
        optimiser needs only the late work).

    Returns
    -------
    FluidOutcome

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
    cap = np.asarray(cap, dtype=float)
    b, t_steps = cap.shape
    work = inp.work
    bw = work.shape[0]
    n_days = inp.n_days
    a_u = np.broadcast_to(work[:, :, 0], (b, t_steps)) if bw == 1 else work[:, :, 0]
    cap_u = cap * inp.elig[:, 0]
    u_backlog, u_served, u_late = _urgent(np.ascontiguousarray(a_u), cap_u, inp.urgent_due)
    left = cap - u_served
    elig3 = inp.elig[:, 1:]
    left *= elig3.any(axis=1)
    loop = np.flatnonzero((left > EPS).any(axis=0))
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
    wait[:, 0] = u_backlog.sum(axis=1)
    served = u_served.sum(axis=1)

    steps = np.arange(t_steps)
    idx = np.searchsorted(loop, steps, side="left")  # loop step at which arrivals join
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
    backlog_end[:, 0] = u_backlog[:, -1]
    tail_work = work[:, tail, 1:].sum(axis=1)  # (bw, 3)
    backlog_end[:, 1:] += tail_work
    # closed-hours wait before joining the queue, added to Little's integral
    if n_loop:
        lag = np.where(tail, 0.0, np.maximum(loop[np.minimum(idx, n_loop - 1)] - steps - 0.5, 0.0))
        wait[:, 1:] += np.einsum("t,btc->bc", lag, work[:, :, 1:])

    if n_loop == 0:
        return FluidOutcome(u_late, day_late, day_due, open_backlog, backlog_end, served, wait)
    # Arrivals grouped by (loop step, bucket, class).
    width = k_buckets * 3
    lin = (idx[:, None] * width + bucket * 3 + np.arange(3)[None, :])[~tail].ravel()
    joins = np.zeros((bw, n_loop, width))
    for k in range(bw):
        joins[k] = np.bincount(
            lin, weights=work[k, ~tail, 1:].ravel(), minlength=n_loop * width
        ).reshape(n_loop, width)
    gap = np.diff(np.append(loop, t_steps)).astype(float).tolist()

    r = np.zeros((b, k_buckets, 3))
    rf = r.reshape(b, width)
    cur = int(loop_day[0])
    first = True
    elig_all = elig3.all(axis=1)[loop].tolist()
    left_t = np.ascontiguousarray(left[:, loop].T)  # (n_loop, B)
    joins_i = joins[0] if bw == 1 else joins.transpose(1, 0, 2)
    days_l = loop_day.tolist()
    steps_l = loop.tolist()
    s = np.empty((b, width))
    # Flat columns of the priorities worked, for each eligibility pattern (limited-cover days).
    bits = (elig3 * np.array([1, 2, 4])).sum(axis=1)
    mask_l = bits[loop].tolist()
    col_idx = {
        m: np.flatnonzero(np.tile([(m >> c) & 1 for c in range(3)], k_buckets)) for m in range(8)
    }
    for i in range(n_loop):
        d = days_l[i]
        if d != cur:
            m = min(d - cur, k_buckets - 1)
            due_block = r[:, 1 : 1 + m, :]
            upto = max(min(m, n_days - cur), 0)
            day_late[:, cur : cur + upto, :] += due_block[:, :upto]
            r[:, 0, :] += due_block.sum(axis=1)
            if m < k_buckets - 1:
                r[:, 1 : k_buckets - m, :] = r[:, 1 + m :, :]
            r[:, k_buckets - m :, :] = 0.0
            cur = d
            first = True
        rf += joins_i[i]
        c_i = left_t[i]
        if track and first:
            t = steps_l[i]
            open_backlog[:, d, 1:] = r.sum(axis=1)
            open_backlog[:, d, 0] = u_backlog[:, t - 1] if t > 0 else 0.0
            first = False
        if elig_all[i]:
            np.cumsum(rf, axis=1, out=s)
            if track:
                served += np.minimum(s[:, -1], c_i)
            s -= c_i[:, None]
            np.maximum(s, 0.0, out=s)
            rf[:, 0] = s[:, 0]
            np.subtract(s[:, 1:], s[:, :-1], out=rf[:, 1:])
        else:
            cols = col_idx[mask_l[i]]
            if len(cols):
                cs = np.cumsum(rf[:, cols], axis=1)
                if track:
                    served += np.minimum(cs[:, -1], c_i)
                cs -= c_i[:, None]
                np.maximum(cs, 0.0, out=cs)
                cs[:, 1:] -= cs[:, :-1].copy()
                rf[:, cols] = cs
        if track:
            wait[:, 1:] += r.sum(axis=1) * gap[i]
    # Flush: work due by the end of the grid and not done is late.
    m = k_buckets - 1
    rest = r[:, 1:, :]
    for j in range(m):
        day = cur + j
        if day < n_days:
            day_late[:, day, :] += rest[:, j, :]
    backlog_end[:, 1:] += r.sum(axis=1)
    return FluidOutcome(u_late, day_late, day_due, open_backlog, backlog_end, served, wait)


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
    start = np.full(n, np.nan)
    finish = np.full(n, np.nan)
    arr = arrival.tolist()
    pri = priority.astype(int).tolist()
    due_l = due.tolist()
    remaining = work.astype(float).tolist()
    changes = _staff_changes(np.asarray(staff), open_lo, open_hi, np.asarray(elig))
    queues: list[list] = [[] for _ in range(N_PRI)]
    events: list[tuple[float, int, int, int]] = []  # (time, kind 0=finish 1=change, seq, job)
    seq = 0
    for t, _, _ in changes:
        events.append((t, 1, seq, -1))
        seq += 1
    heapq.heapify(events)
    change_at = {i: (level, mask) for i, (_, level, mask) in enumerate(changes)}
    on_duty = 0
    mask_now = 0
    busy: dict[int, tuple[float, int]] = {}  # job -> (finish time, version)
    version = [0] * n
    busy_hours = 0.0
    staff_hours = 0.0
    last_t = 0.0
    nxt = 0

    def pick() -> int:
        if mask_now & 1 and queues[0]:
            return heapq.heappop(queues[0])[2]
        best = None
        for p in (1, 2, 3):
            if mask_now >> p & 1 and queues[p]:
                head = queues[p][0]
                if best is None or head[0] < queues[best][0][0]:
                    best = p
        if best is None:
            return -1
        return heapq.heappop(queues[best])[2]

    def dispatch(now: float) -> None:
        nonlocal seq
        while on_duty > len(busy):
            j = pick()
            if j < 0:
                return
            if np.isnan(start[j]):
                start[j] = now
            end = now + remaining[j]
            version[j] += 1
            busy[j] = (end, version[j])
            heapq.heappush(events, (end, 0, version[j], j))

    def enqueue(j: int) -> None:
        p = pri[j]
        key = arr[j] if p == 0 else due_l[j]
        heapq.heappush(queues[p], (key, arr[j], j))

    change_idx = 0
    while True:
        t_ev = events[0][0] if events else np.inf
        t_arr = arr[nxt] if nxt < n else np.inf
        if t_ev == np.inf and t_arr == np.inf:
            break
        if t_arr < t_ev:
            now = t_arr
            staff_hours += on_duty * (now - last_t)
            busy_hours += len(busy) * (now - last_t)
            last_t = now
            enqueue(nxt)
            nxt += 1
            if on_duty > len(busy):
                dispatch(now)
            continue
        now, kind, ver, j = heapq.heappop(events)
        staff_hours += on_duty * (now - last_t)
        busy_hours += len(busy) * (now - last_t)
        last_t = now
        if kind == 0:
            if j in busy and busy[j][1] == ver:
                del busy[j]
                remaining[j] = 0.0
                finish[j] = now
                dispatch(now)
            continue
        level, mask_now = change_at[change_idx]
        change_idx += 1
        on_duty = level
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
        start=start,
        finish=finish,
        busy_hours=busy_hours,
        staff_hours=staff_hours,
    )

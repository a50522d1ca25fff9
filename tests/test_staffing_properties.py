"""Hypothesis invariants of the staffing engine (small cases, quick)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mashdemand.staffing import load_config
from mashdemand.staffing.config import DAY_TYPES
from mashdemand.staffing.model import RosterProblem
from mashdemand.staffing.optimise import optimise_roster
from mashdemand.staffing.sim import simulate_fluid
from mashdemand.staffing.synthetic import synthetic_cell, synthetic_option

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
WEEK = (*WEEKDAYS, "sat", "sun")
CFG = load_config()
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

days_st = st.lists(st.sampled_from(WEEKDAYS), min_size=2, max_size=5, unique=True).map(
    lambda ds: tuple(d for d in WEEKDAYS if d in ds)
)


@SETTINGS
@given(
    days=days_st,
    start=st.integers(7, 10),
    length=st.integers(2, 8),
    daily=st.floats(2.0, 40.0),
    more=st.floats(1.0, 1.6),
    min_staff=st.integers(0, 2),
    u_max=st.floats(0.7, 1.0),
)
def test_more_demand_never_needs_fewer_staff(days, start, length, daily, more, min_staff, u_max):
    option = synthetic_option(days, f"{start:02d}:00-{start + length:02d}:00", min_staff)
    working = {d: None for d in DAY_TYPES} | {d: option.hours[d] for d in days}
    cfg = CFG.replace(working_time=working, max_utilisation=u_max)
    costs = []
    for level in (daily, daily * more):
        prob = RosterProblem(synthetic_cell(daily=level, weeks=2), option, cfg)
        res = optimise_roster(prob, max_staff=300)
        assert res.feasible
        costs.append(res.cost)
    assert costs[1] >= costs[0] - 1e-9


@SETTINGS
@given(
    days=st.lists(st.sampled_from(WEEK), min_size=1, max_size=6, unique=True),
    start=st.integers(6, 11),
    length=st.integers(1, 8),
    earlier=st.integers(0, 2),
    later=st.integers(0, 4),
    extra=st.lists(st.sampled_from(WEEK), max_size=3, unique=True),
    cover=st.booleans(),
    staff=st.integers(1, 6),
    daily=st.floats(2.0, 60.0),
)
def test_longer_opening_never_lowers_share_within_deadline(
    days, start, length, earlier, later, extra, cover, staff, daily
):
    """Option B opens every hour option A does (and more); with the same staff on duty in
    every open hour, no priority's share within deadline falls."""
    end = min(start + length, 23)
    a = synthetic_option(days, f"{start:02d}:00-{end:02d}:00")
    more_days = [d for d in extra if d not in days]
    limited = {}
    if cover and more_days:
        limited = {more_days.pop(): ("10:00-14:00", ("urgent", "high"))}
    b = synthetic_option(
        list(days) + more_days,
        f"{start - earlier:02d}:00-{min(end + later, 24):02d}:00".replace("24:00", "23:59"),
        cover=limited,
    )
    cell = synthetic_cell(daily=daily, weeks=3)
    shares = []
    for option in (a, b):
        prob = RosterProblem(cell, option, CFG)
        roster = np.where(prob.open_slots, staff, 0)
        shares.append(prob.evaluate(roster[None]).share[0])
    sa, sb = shares
    assert np.all(np.isnan(sa) | (sb >= sa - 1e-9)), (sa, sb)


@SETTINGS
@given(
    staff=st.lists(st.integers(0, 8), min_size=8, max_size=8),
    daily=st.floats(1.0, 80.0),
    option=st.sampled_from(list(CFG.options)),
    seed=st.integers(0, 2**16),
)
def test_no_contact_disappears(staff, daily, option, seed):
    """Arrived = done + still in the backlog, in the fluid model (work) and contact by contact."""
    cell = synthetic_cell(daily=daily, weeks=2)
    prob = RosterProblem(cell, CFG.options[option], CFG)
    roster = np.where(prob.open_slots, np.array(staff)[:, None], 0)
    out = simulate_fluid(prob.inputs, prob.capacity(roster[None]), track=True)
    arrived = prob.inputs.work.sum()
    assert np.isclose(out.served[0] + out.backlog_end[0].sum(), arrived, rtol=1e-9, atol=1e-6)
    late = out.urgent_late.sum() + out.day_late.sum()
    assert late <= arrived + 1e-6

    rng = np.random.default_rng(seed)
    c = prob.simulate_contacts(roster, rng)
    n = len(c.arrival)
    decided = int(c.decided.sum())
    waiting = int(np.isnan(c.finish).sum())
    assert decided + waiting == n
    done = c.decided
    assert (c.start[done] >= c.arrival[done] - 1e-9).all()
    assert (c.finish[done] >= c.start[done] + c.work[done] - 1e-6).all()
    # staff time spent = work of contacts decided + part-done work of those waiting
    assert c.work[done].sum() - 1e-6 <= c.busy_hours <= c.work.sum() + 1e-6
    assert c.busy_hours <= c.staff_hours + 1e-6

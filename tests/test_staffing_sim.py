"""Queueing checks: Erlang C against published values, the contact-level simulation against
Erlang C, deadlines on the standards' clock, and the fluid model against the contact model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mashdemand.staffing import erlang_b, erlang_c, load_config, mean_wait, service_level
from mashdemand.staffing.erlang import agents_for_service_level
from mashdemand.staffing.grid import Clock, due_times, make_grid, opening
from mashdemand.staffing.model import RosterProblem
from mashdemand.staffing.optimise import optimise_roster
from mashdemand.staffing.sim import FluidInputs, simulate_contacts, simulate_fluid
from mashdemand.staffing.synthetic import synthetic_cell


# --- Erlang C -------------------------------------------------------------------------------
def test_erlang_c_matches_tanner_worked_example():
    """M. Tanner, "The Erlang-C formula" (Mitan Ltd): 360 calls per half hour, 4-minute calls,
    55 agents, 15-second target -> A = 48 erlangs, occupancy 87.3%, probability of waiting
    23.87%, average speed of answer 8.2 s, service level 84.6%."""
    lam, aht = 360 / 1800, 240.0  # per second, seconds
    assert lam * aht / 55 == pytest.approx(0.873, abs=5e-4)
    assert erlang_c(lam, aht, 55) == pytest.approx(0.2387, abs=5e-5)
    assert mean_wait(lam, aht, 55) == pytest.approx(8.2, abs=0.05)
    assert service_level(lam, aht, 55, 15) == pytest.approx(0.846, abs=5e-4)


def test_erlang_closed_forms():
    # Erlang B: A = 2, c = 2 -> (2^2/2) / (1 + 2 + 2) = 0.4; c = 0 blocks everything.
    assert erlang_b(2.0, 2) == pytest.approx(0.4)
    assert erlang_b(3.0, 0) == 1.0
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lambda).
    assert erlang_c(0.6, 1.0, 1) == pytest.approx(0.6)
    assert mean_wait(0.6, 1.0, 1) == pytest.approx(0.6 / 0.4)
    # M/M/2: P(wait) = 2 rho^2 / (1 + rho) with rho = lambda / (2 mu).
    rho = 0.75
    assert erlang_c(1.5, 1.0, 2) == pytest.approx(2 * rho**2 / (1 + rho))
    # Overload: everybody waits, for ever.
    assert erlang_c(5, 1.0, 5) == 1.0 and math.isinf(mean_wait(5, 1.0, 5))
    assert service_level(0.6, 1.0, 1, 0.0) == pytest.approx(0.4)
    assert agents_for_service_level(100 / 1800, 180, 20, 0.8) == 14


@pytest.mark.parametrize(("lam", "aht", "c"), [(4.0, 1.0, 5), (0.5, 1.0, 1), (8.0, 0.5, 5)])
def test_contact_simulation_matches_erlang_c(lam: float, aht: float, c: int):
    """Poisson arrivals, exponential work, constant staff, never closed, one queue: the
    contact-level simulation is M/M/c. Its waiting probability and mean wait must match
    Erlang C within simulation error (batch means over 20 batches, 4 standard errors)."""
    n, k = 40_000, 20
    rng = np.random.default_rng(11)
    arrival = np.cumsum(rng.exponential(1 / lam, n))
    work = rng.exponential(aht, n)
    days = int(np.ceil(arrival[-1] / 24)) + 30
    out = simulate_contacts(
        arrival,
        np.full(n, 3),
        work,
        arrival + 1e6,
        np.full(24 * days, c),
        np.zeros(days),
        np.full(days, 24.0),
        np.ones((24 * days, 4), bool),
    )
    assert out.decided.all()
    wait = out.start - arrival
    waited = wait > 1e-12
    batches = np.array_split(np.arange(n), k)
    se_p = np.std([waited[b].mean() for b in batches]) / np.sqrt(k)
    se_w = np.std([wait[b].mean() for b in batches]) / np.sqrt(k)
    assert abs(waited.mean() - erlang_c(lam, aht, c)) < 4 * se_p + 0.005
    assert abs(wait.mean() - mean_wait(lam, aht, c)) < 4 * se_w + 0.005 * aht
    # Staff were busy exactly for the work done; over the arrival period that is the load.
    assert out.busy_hours == pytest.approx(work.sum())
    assert out.busy_hours / (c * arrival[-1]) == pytest.approx(lam * aht / c, abs=0.02)


# --- Deadlines on the standards' clock ------------------------------------------------------
def _hours(grid, ts: str) -> float:
    return (pd.Timestamp(ts) - grid.days[0]) / pd.Timedelta(hours=1)


@pytest.mark.parametrize(
    ("priority", "received", "due"),
    [
        # Christmas 2026: Fri 25 and Mon 28 (Boxing Day substitute) are bank holidays.
        ("urgent", "2026-12-24 15:00", "2026-12-29 11:00"),  # 1 working hour, then 3 on Tue
        ("urgent", "2026-12-24 18:00", "2026-12-29 12:00"),  # paused overnight and holidays
        ("urgent", "2026-12-22 09:30", "2026-12-22 13:30"),
        ("high", "2026-12-24 14:00", "2026-12-25 00:00"),  # the same working day
        ("high", "2026-12-24 15:00", "2026-12-30 00:00"),  # after the cut-off: next working day
        ("high", "2026-12-26 10:00", "2026-12-30 00:00"),  # weekend: next working day
        ("medium", "2026-12-23 10:00", "2026-12-31 00:00"),  # 3 working days: 24, 29, 30
        ("standard", "2026-12-21 10:00", "2027-01-05 00:00"),  # 7 working days, 1 Jan a holiday
    ],
)
def test_deadlines_pause_outside_working_time(priority: str, received: str, due: str):
    cfg = load_config()
    grid = make_grid(pd.Timestamp("2026-12-21"), pd.Timestamp("2027-01-08"), 0, 7)
    clock = Clock.from_hours(grid, cfg.working_time)
    got = due_times(np.array([_hours(grid, received)]), cfg.deadlines[priority], clock)[0]
    assert got == pytest.approx(_hours(grid, due))


def test_opening_fractions_and_priorities():
    cfg = load_config()
    grid = make_grid(pd.Timestamp("2026-12-21"), pd.Timestamp("2026-12-27"), 0, 0)
    o = opening(grid, cfg.options["today"])
    per_day = o.frac.reshape(-1, 24).sum(axis=1)
    # Mon-Thu 8 h, Fri 25 Dec a bank holiday (cover 09:00-13:00), Sat and Sun cover 4 h.
    assert per_day.tolist() == [8, 8, 8, 8, 4, 4, 4]
    assert o.elig[4 * 24 + 10].tolist() == [True, True, False, False]
    assert o.elig[10].all() and not o.elig[3].any()
    assert o.slot_min[0, 8] == 2 and o.slot_min[5, 9] == 1 and o.slot_min[0, 7] == 0


# --- Fluid model --------------------------------------------------------------------------------
def test_fluid_urgent_first_then_earliest_deadline():
    t = 48
    work = np.zeros((1, t, 4))
    work[0, 9, 3] = 60.0  # standard, due end of day 1
    work[0, 9, 1] = 60.0  # high, due end of day 0
    work[0, 10, 0] = 30.0  # urgent, due by the end of step 11
    due_day = np.zeros((t, 3), dtype=int)
    due_day[:, 2] = 1
    urgent_due = np.minimum(np.arange(t) + 1, t)
    inp = FluidInputs(work, np.ones((t, 4), bool), urgent_due, due_day, 2)
    cap = np.zeros((1, t))
    cap[0, 9:12] = 40.0  # 120 minutes over three hours on day 0
    out = simulate_fluid(inp, cap)
    assert out.urgent_late.sum() == 0  # urgent jumped the queue at 10:00
    assert out.day_late[0, 0, 0] == pytest.approx(0.0)  # high done by 11:00 ...
    assert out.day_late[0, 1, 2] == pytest.approx(30.0)  # ... leaving 30 of standard undone
    assert out.served[0] == pytest.approx(120.0)
    assert out.backlog_end[0].sum() == pytest.approx(30.0)


def test_fluid_and_contact_models_agree():
    """On a synthetic hub, under- and adequately staffed, the fluid planning model and the
    contact-level simulation give similar shares within deadline."""
    cfg = load_config()
    cell = synthetic_cell(daily=60, weeks=6)
    prob = RosterProblem(cell, cfg.options["today"], cfg)
    best = optimise_roster(prob)
    assert best.feasible and best.utilisation == pytest.approx(0.85, abs=0.01)
    for scale, tol in ((1.0, 0.03), (0.8, 0.1)):
        roster = np.floor(best.roster * scale).astype(int)
        fluid = prob.evaluate(roster[None]).share[0]
        rng = np.random.default_rng(5)
        des = np.nanmean(
            [prob.contact_shares(prob.simulate_contacts(roster, rng)) for _ in range(3)], axis=0
        )
        assert np.abs(fluid - des).max() < tol, (scale, fluid, des)
    assert (fluid < 0.95).any()  # 80% of the roster misses targets in both models

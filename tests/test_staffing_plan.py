"""The staffing plan end to end on small inputs: arrivals, optimiser, plan, verify, RPA, plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mashdemand.sample import generate_contacts
from mashdemand.staffing import (
    StaffingError,
    load_config,
    plan_staffing,
    plot_fte_by_hub,
    plot_fte_by_quarter,
    plot_option_tradeoff,
    plot_roster_heatmap,
    plot_weekend_cover,
)
from mashdemand.staffing.arrivals import build_profiles, hourly_arrivals, planning_counts
from mashdemand.staffing.config import DAY_TYPES, PRIORITIES
from mashdemand.staffing.grid import make_grid
from mashdemand.staffing.model import RosterProblem
from mashdemand.staffing.optimise import brute_force_roster, optimise_roster, roster_fte
from mashdemand.staffing.synthetic import synthetic_cell, synthetic_option

matplotlib.use("Agg")


def make_forecast(hubs: dict[str, float], start: str, end: str, by_priority: bool = False):
    """A daily forecast in the CONTRACTS.md shape: weekdays at ``level``, weekends at 45%."""
    days = pd.date_range(start, end)
    rows = []
    for hub, level in hubs.items():
        y = np.where(days.day_of_week < 5, level, 0.45 * level)
        splits = [(p, s) for p, s in zip(PRIORITIES, (0.02, 0.06, 0.14, 0.78), strict=True)]
        for pri, share in splits if by_priority else [(None, 1.0)]:
            df = pd.DataFrame(
                {
                    "hub": hub,
                    "date": days,
                    "yhat": y * share,
                    "lo80": 0.8 * y * share,
                    "hi80": 1.25 * y * share,
                    "lo95": 0.7 * y * share,
                    "hi95": 1.4 * y * share,
                }
            )
            if pri:
                df["priority"] = pri
            rows.append(df)
    fc = pd.concat(rows, ignore_index=True)
    total = fc.groupby("date", as_index=False)[["yhat", "lo80", "hi80", "lo95", "hi95"]].sum()
    return pd.concat([fc, total.assign(hub="ALL")], ignore_index=True)


@pytest.fixture(scope="module")
def contacts() -> pd.DataFrame:
    return generate_contacts(start="2025-01-01", end="2026-09-30", hubs=["slough"], scale=0.5)


@pytest.fixture(scope="module")
def small_config():
    return load_config().with_options(["today", "long_day_0719"])


@pytest.fixture(scope="module")
def plan(contacts, small_config):
    fc = make_forecast({"slough": 30.0, "newtown": 12.0}, "2026-11-01", "2027-01-20")
    return plan_staffing(fc, contacts, small_config, seed=3)


# --- Arrivals -----------------------------------------------------------------------------
def test_profiles_from_records_with_pooled_fallback(contacts):
    cfg = load_config()
    profiles, notes, rpa = build_profiles(contacts, ["slough", "newtown"], cfg)
    own, pooled = profiles["slough"], profiles["newtown"]
    assert own.origin == "own" and pooled.origin == "pooled"
    assert any("Newtown" in n and "pooled" in n for n in notes)  # named for readers
    assert np.allclose(own.joint.sum(axis=(1, 2)), 1.0)
    # The sample's mix: ~2% urgent, ~6% high; police arrive at night, schools do not.
    mix = own.priority_mix()
    assert mix[0] == pytest.approx(0.02, abs=0.01) and mix[1] == pytest.approx(0.06, abs=0.015)
    night = own.joint_by_source[:, 0, :, 0:6].sum(axis=(1, 2))
    assert night[0] > 5 * night[1]  # police vs education, Monday 00:00-06:00
    assert own.day_volume[5] < 0.7 * own.day_volume[0]  # Saturdays quieter than Mondays
    assert rpa["slough"] == pytest.approx(0.85, abs=0.02)
    # Minutes per contact follow the source mix (police standard contacts are quicker).
    assert own.minutes(cfg)[3] < cfg.minutes["standard"]


def test_planning_quantile_and_hourly_spread(contacts):
    cfg = load_config()
    fc = make_forecast({"slough": 30.0}, "2026-10-01", "2026-12-31")
    p50 = planning_counts(fc, 0.5)
    p80 = planning_counts(fc, 0.8)
    p90 = planning_counts(fc, 0.9)
    assert np.allclose(p50["planned"], p50["yhat"])
    assert np.allclose(p90["planned"], p90["hi80"])
    assert (p80["planned"] > p80["yhat"]).all() and (p80["planned"] < p80["hi80"]).all()
    profiles, _, _ = build_profiles(contacts, ["slough"], cfg)
    grid = make_grid(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-12-31"), 14, 6)
    rows = p80[p80["hub"] == "slough"]
    rate, work = hourly_arrivals(rows, profiles["slough"], grid, cfg)
    window = slice(24 * grid.lo, 24 * grid.hi)
    assert rate[window].sum() == pytest.approx(rows["planned"].sum())  # nothing lost
    assert work[window].sum() / rate[window].sum() > 25  # staff-minutes per contact
    # The same total from a forecast split by priority, with the mix taken from the forecast.
    fcp = make_forecast({"slough": 30.0}, "2026-10-01", "2026-12-31", by_priority=True)
    rp = planning_counts(fcp, 0.8)
    rate_p, _ = hourly_arrivals(rp[rp["hub"] == "slough"], profiles["slough"], grid, cfg)
    assert rate_p[window].sum() == pytest.approx(rate[window].sum())
    assert rate_p[window, 0].sum() / rate_p[window].sum() == pytest.approx(0.02)


def test_forecast_and_contacts_errors_name_the_column(contacts, small_config):
    fc = make_forecast({"slough": 30.0}, "2026-10-01", "2026-10-31")
    with pytest.raises(StaffingError, match="forecast: missing column.*hi80"):
        plan_staffing(fc.drop(columns="hi80"), contacts, small_config)
    with pytest.raises(StaffingError, match="column priority has unknown value.*red"):
        plan_staffing(fc.assign(priority="red"), contacts, small_config)
    with pytest.raises(StaffingError, match="contacts: missing column.*priority"):
        plan_staffing(fc, contacts.drop(columns="priority"), small_config)
    with pytest.raises(StaffingError, match="quantile"):
        plan_staffing(fc, contacts, small_config, quantile=1.2)
    with pytest.raises(ValueError, match="only the force total"):
        plan_staffing(fc[fc["hub"] == "ALL"], contacts, small_config)


# --- Optimiser --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("daily", "days", "hours", "max_staff"),
    [
        (2.0, ("mon", "wed", "fri"), "09:00-11:00", 4),
        (3.0, ("tue", "thu"), "09:00-12:00", 4),
        (1.5, ("mon", "tue", "thu"), "10:00-12:00", 3),
    ],
)
def test_optimiser_within_five_percent_of_brute_force(daily, days, hours, max_staff):
    base = load_config()
    option = synthetic_option(days, hours)
    working = {d: None for d in DAY_TYPES} | {d: option.hours[d] for d in days}
    cfg = base.replace(working_time=working)
    prob = RosterProblem(synthetic_cell(daily=daily, weeks=3), option, cfg)
    best = brute_force_roster(prob, max_staff)
    found = optimise_roster(prob, max_staff=max_staff)
    assert best.feasible and found.feasible
    assert found.cost <= 1.05 * best.cost
    assert found.evaluations < best.evaluations / 10


def test_county_hub_needs_tens_of_fte():
    """A hub of ~5,500 contacts a month (Oxfordshire) needs tens of FTE, not one or hundreds."""
    cfg = load_config().with_options(["today"])
    weekday = 5500 * 12 / 365.25 / (5 + 2 * 0.45) * 7
    fc = make_forecast({"county": weekday}, "2026-10-01", "2026-12-31")
    p = plan_staffing(fc, None, cfg)
    row = p.summary.iloc[0]
    assert row["contacts"] / 3 == pytest.approx(5500 * 1.1, rel=0.1)  # P80 ~ +10%
    assert 20 <= row["fte_required"] <= 80
    assert row["utilisation"] <= cfg.max_utilisation + 1e-9
    prob = RosterProblem(p._cells[("county", "2026Q4")], cfg.options["today"], cfg)
    fte = roster_fte(prob, p.roster_array("county", "2026Q4"), cfg)
    assert fte["fte_required"] == pytest.approx(row["fte_required"])


# --- The plan ----------------------------------------------------------------------------------
def test_plan_has_the_contract_columns(plan, small_config):
    s = plan.summary
    for col in (
        "hub",
        "quarter",
        "option",
        "contacts",
        "workload_hours",
        "fte_required",
        "recommended",
        "within_urgent",
        "within_high",
        "within_medium",
        "within_standard",
        "out_of_hours_arrivals",
        "monday_backlog",
        "utilisation",
        "fte_police",
        "fte_social_care",
        "fte_health",
        "fte_business_support",
    ):
        assert col in s.columns, col
    assert set(s["hub"]) == {"slough", "newtown"}  # ALL left out
    assert set(s["quarter"]) == {"2026Q4", "2027Q1"}
    assert set(s["option"]) == {"today", "long_day_0719"}
    assert (s.groupby(["hub", "quarter"])["recommended"].sum() == 1).all()
    assert s["meets_targets"].all()
    role = s[[f"fte_{r}" for r in small_config.roles]].sum(axis=1)
    assert np.allclose(role, s["fte_required"])
    assert (s[s["quarter"] == "2027Q1"]["days"] == 20).all() and s["partial"].all()
    assert any("partial quarter" in n for n in plan.notes)
    assert any("ALL" in n for n in plan.notes)
    # longer opening: fewer contacts wait for the hub to open
    one = s[(s["hub"] == "slough") & (s["quarter"] == "2026Q4")].set_index("option")
    assert one.loc["long_day_0719", "out_of_hours_share"] < one.loc["today", "out_of_hours_share"]

    r = plan.roster
    assert list(r.columns) == ["hub", "quarter", "option", "day_type", "hour", "staff"]
    assert len(r) == 2 * 2 * 2 * 8 * 24
    assert set(r["day_type"]) == set(DAY_TYPES)
    today = plan.roster_array("slough", "2026Q4", "today")
    assert (today[:5, 8:15] >= 2).all() and today[:5, :8].sum() == 0 and today[4, 16] == 0
    assert (today[5:, 9:13] >= 1).all()  # weekend and bank-holiday cover

    c = plan.weekend_cover
    assert len(c) == 4 and (c["min_cover_staff"] >= 1).all()
    assert (c["delay_hours_no_cover"] > c["delay_hours_with_cover"]).all()
    assert (c["within_urgent_cover"] >= 0.95).all() and (c["within_urgent_if_left"] < 0.95).all()


def test_verify_meets_every_target(plan):
    v = plan.verify(replications=2)
    assert len(v) == 4 and v["met"].all()
    assert (v["contacts_standard"] > 100).all()
    for p in PRIORITIES:
        assert (v[f"within_{p}"] >= 0.95).all()
    assert (v["utilisation"] < 0.9).all()


def test_rpa_releases_fte(plan):
    r = plan.rpa(0.10)
    assert len(r) == 4
    assert np.allclose(r["minutes_saved_per_contact"], 0.10 * 15)
    assert (r["workload_hours_saved"] > 0).all()
    assert (r["fte_released"] >= -0.05).all() and r["fte_released"].sum() > 0
    capped = plan.rpa(0.5)  # only 15% of checks are left to automate
    assert np.allclose(capped["extra_share_applied"], 0.15)
    with pytest.raises(StaffingError):
        plan.rpa(1.5)


def test_csv_and_plots(plan, tmp_path: Path):
    plan.to_csv(tmp_path / "s.csv", tmp_path / "r.csv")
    s = pd.read_csv(tmp_path / "s.csv")
    assert {"hub", "quarter", "option", "fte_required", "recommended"} <= set(s.columns)
    assert pd.read_csv(tmp_path / "r.csv").shape == (len(plan.roster), 6)
    figs = [
        plot_roster_heatmap(plan, "slough", "2026Q4"),
        plot_roster_heatmap(plan.roster, "slough", "2026Q4", "today"),
        plot_fte_by_quarter(plan.summary),
        plot_fte_by_hub(plan.summary, "2026Q4"),
        plot_option_tradeoff(plan.summary, "slough", "2026Q4"),
        plot_weekend_cover(plan.weekend_cover, "2026Q4"),
        plan.plot_tradeoff("newtown", "2027Q1"),
    ]
    import matplotlib.pyplot as plt

    for i, fig in enumerate(figs):
        assert isinstance(fig, matplotlib.figure.Figure)
        fig.savefig(tmp_path / f"f{i}.png")
        plt.close(fig)


def test_monthly_and_source_split_forecasts(contacts):
    """A monthly forecast is spread over its days (the quarter is whole, not partial); a forecast
    split by source gives the same contacts as the hub total."""
    cfg = load_config().with_options(["today"])
    daily = make_forecast({"slough": 30.0}, "2026-10-01", "2026-12-31")
    daily = daily[daily["hub"] != "ALL"]
    month = pd.to_datetime(daily["date"]).dt.to_period("M").dt.start_time
    monthly = (
        daily.assign(date=month)
        .groupby(["hub", "date"], as_index=False)[["yhat", "lo80", "hi80"]]
        .sum()
    )
    a = plan_staffing(daily, contacts, cfg).summary.iloc[0]
    b = plan_staffing(monthly, contacts, cfg).summary.iloc[0]
    assert b["days"] == 92 and not b["partial"]
    assert b["contacts"] == pytest.approx(a["contacts"], rel=0.01)
    parts = [
        daily.assign(
            source=s, yhat=daily["yhat"] * w, lo80=daily["lo80"] * w, hi80=daily["hi80"] * w
        )
        for s, w in (("police", 0.5), ("education", 0.2), ("health", 0.3))
    ]
    c = plan_staffing(pd.concat(parts), contacts, cfg).summary.iloc[0]
    assert c["contacts"] == pytest.approx(a["contacts"], rel=1e-6)
    # police's quicker standard contacts make a police-heavy mix lighter per contact
    assert c["workload_hours"] / c["contacts"] < cfg.minutes["standard"] / 60 * 1.5


def test_a_single_financial_year_row_is_spread_over_its_days():
    """A forecast of one row per financial year plans the same staff as the same demand given
    day by day (regression: the one yearly row near a quarter was once read as one day's
    contacts)."""
    from mashdemand.staffing import load_config, plan_staffing

    days = pd.date_range("2026-04-01", "2027-03-31")
    daily = pd.DataFrame({"hub": "h", "date": days, "yhat": 60.0, "lo80": 60.0, "hi80": 60.0})
    n = float(len(days))  # two financial years of 365 days each
    yearly = pd.DataFrame(
        {
            "hub": "h",
            "date": pd.to_datetime(["2026-04-01", "2027-04-01"]),
            "yhat": 60.0 * n,
            "lo80": 60.0 * n,
            "hi80": 60.0 * n,
        }
    )
    cfg = load_config().with_options(["today"])
    a = plan_staffing(daily, None, cfg, quarters=["2026Q4"]).summary
    b = plan_staffing(yearly, None, cfg, quarters=["2026Q4"]).summary
    assert a["contacts"].iloc[0] == pytest.approx(b["contacts"].iloc[0], rel=0.03)
    assert a["fte_required"].iloc[0] == pytest.approx(b["fte_required"].iloc[0], rel=0.05)
    assert a["fte_required"].iloc[0] > 5
    with pytest.raises(ValueError, match="2030Q1"):
        plan_staffing(daily, None, cfg, quarters=["2030Q1"])

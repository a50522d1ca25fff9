"""Benchmark: the staffing engine's optimiser, speed and the recommended rosters' check.

1. **Optimiser against brute force.** Small synthetic hubs (a few open hours on a few days, so
   every roster can be enumerated): the optimiser's roster must cost within 5% of the cheapest
   feasible roster found by brute force.
2. **The whole plan, timed.** The sample force (``data/sample``): a forecast from the daily counts
   to 30/09/2028 (8 quarters, 2026Q4-2028Q3, with its backtest-calibrated intervals), the three
   record-level logs for the hour-of-week profiles, 9 hubs x 8 quarters x 4 options. Goal: under
   2 minutes on the 2-core machine.
3. **Check.** Every recommended roster re-simulated contact by contact with fresh random arrivals
   at the planning quantile (P80): every target must be met.
4. **Figures** for the closing note (``reports/figures/staffing_*.png``) and the 2026Q4 tables
   (FTE by hub today vs recommended, weekend cover, RPA).

Run: ``python benchmarks/staffing.py [--jobs 2] [--forecast PATH] [--quick]``. The forecast
is cached in the temp folder (``--forecast`` reuses a CSV written by ``mashdemand forecast``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
FIG = ROOT / "reports" / "figures"
SAMPLE = ROOT / "data" / "sample"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import _version, markdown_table  # noqa: E402

from mashdemand.staffing import (  # noqa: E402
    load_config,
    plan_staffing,
    plot_fte_by_hub,
    plot_fte_by_quarter,
    plot_option_tradeoff,
    plot_roster_heatmap,
    plot_weekend_cover,
)
from mashdemand.staffing.config import DAY_TYPES, Deadline  # noqa: E402
from mashdemand.staffing.model import RosterProblem  # noqa: E402
from mashdemand.staffing.optimise import (  # noqa: E402
    brute_force_roster,
    optimise_roster,
    roster_fte,
)
from mashdemand.staffing.synthetic import synthetic_cell, synthetic_option  # noqa: E402

UNTIL = "2028-09-30"
ACCEPT_QUARTER = "2026Q4"
GOAL_SECONDS = 120.0
# (label, contacts/weekday, open days, hours, max staff, max utilisation, priority mix, tight)
SMALL_CASES = [
    ("3 days x 2 h", 2.0, ("mon", "wed", "fri"), "09:00-11:00", 5, 0.85, None, False),
    ("3 days x 2 h, busier", 3.0, ("mon", "wed", "fri"), "09:00-11:00", 6, 0.85, None, False),
    (
        "3 days x 2 h, tight deadlines",
        3.0,
        ("mon", "wed", "fri"),
        "09:00-11:00",
        6,
        1.0,
        None,
        True,
    ),
    (
        "urgent-heavy mix",
        2.0,
        ("mon", "tue", "thu"),
        "09:00-11:00",
        5,
        1.0,
        (0.2, 0.3, 0.2, 0.3),
        True,
    ),
    ("2 days x 3 h", 2.0, ("mon", "thu"), "09:00-12:00", 5, 1.0, None, True),
    ("2 days x 3 h, busy", 4.0, ("tue", "fri"), "10:00-13:00", 6, 0.95, (0.1, 0.2, 0.3, 0.4), True),
    ("5 days x 1 h", 1.0, ("mon", "tue", "wed", "thu", "fri"), "09:00-10:00", 5, 0.9, None, False),
    ("half-hour close", 2.5, ("mon", "wed", "fri"), "09:00-10:30", 5, 0.85, None, True),
]
QUICK_CASES = SMALL_CASES[:3]


# --- 1. Optimiser against brute force ---------------------------------------------------------
def small_problem(case) -> tuple[RosterProblem, int]:
    label, daily, days, hours, max_staff, u_max, mix, tight = case
    base = load_config()
    option = synthetic_option(days, hours)
    working = {d: None for d in DAY_TYPES} | {d: option.hours[d] for d in days}
    cfg = base.replace(working_time=working, max_utilisation=u_max)
    if tight:
        dl = dict(cfg.deadlines)
        dl["high"] = Deadline(0, "working_days", 0.5)
        dl["medium"] = Deadline(1, "working_days")
        dl["standard"] = Deadline(2, "working_days")
        cfg = cfg.replace(deadlines=dl)
    kw = {"mix": mix} if mix else {}
    cell = synthetic_cell(daily=daily, weeks=4, **kw)
    return RosterProblem(cell, option, cfg), max_staff


def brute_force_table(cases) -> pd.DataFrame:
    rows = []
    for case in cases:
        prob, max_staff = small_problem(case)
        t0 = time.perf_counter()
        best = brute_force_roster(prob, max_staff)
        t_bf = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = optimise_roster(prob, max_staff=max_staff)
        t_opt = time.perf_counter() - t0
        fte_bf = roster_fte(prob, best.roster, prob.config)["fte_required"]
        fte_opt = roster_fte(prob, found.roster, prob.config)["fte_required"]
        rows.append(
            {
                "case": case[0],
                "open_slots": int(prob.open_slots.sum()),
                "rosters_enumerated": best.evaluations,
                "brute_force_fte": round(fte_bf, 3),
                "optimiser_fte": round(fte_opt, 3),
                "gap_pct": round(100 * (fte_opt / fte_bf - 1), 2) if fte_bf else 0.0,
                "both_feasible": bool(best.feasible and found.feasible),
                "optimiser_evaluations": found.evaluations,
                "brute_force_s": round(t_bf, 2),
                "optimiser_s": round(t_opt, 3),
            }
        )
    return pd.DataFrame(rows)


# --- 2. The whole plan ------------------------------------------------------------------------
def sample_forecast(path: Path | None, jobs: int) -> tuple[pd.DataFrame, float, str]:
    """The sample force's daily forecast to UNTIL (cached)."""
    if path is not None:
        return pd.read_csv(path), 0.0, f"read from {path}"
    cache = Path(tempfile.gettempdir()) / f"mashdemand_staffing_forecast_{UNTIL}.csv"
    if cache.exists():
        return pd.read_csv(cache), 0.0, f"cached {cache}"
    from mashdemand.forecast.api import forecast, load_history

    history, freq = load_history(counts=SAMPLE / "daily_counts.csv")
    t0 = time.perf_counter()
    res = forecast(history, until=UNTIL, history_freq=freq, n_jobs=jobs)
    secs = time.perf_counter() - t0
    frame = res.frame.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    frame.to_csv(cache, index=False)
    return frame, secs, f"forecast() with backtest, {secs:.0f} s (cached at {cache})"


def sample_contacts() -> pd.DataFrame:
    cols = ["hub", "received_at", "priority", "source", "rpa"]
    paths = sorted(SAMPLE.glob("contacts_*.parquet"))
    return pd.concat([pd.read_parquet(p, columns=cols) for p in paths], ignore_index=True)


def figures(plan, verify: pd.DataFrame) -> list[str]:
    FIG.mkdir(parents=True, exist_ok=True)
    s = plan.summary
    out = []

    def save(fig, name):
        fig.savefig(FIG / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        out.append(name)

    save(
        plot_fte_by_hub(s, ACCEPT_QUARTER, baseline=plan.config.baseline), "staffing_fte_by_hub.png"
    )
    save(plot_weekend_cover(plan.weekend_cover, ACCEPT_QUARTER), "staffing_weekend_cover.png")
    save(plot_fte_by_quarter(s), "staffing_fte_by_quarter.png")
    save(
        plot_option_tradeoff(s, "oxfordshire", ACCEPT_QUARTER), "staffing_tradeoff_oxfordshire.png"
    )
    fig, axes = plt.subplots(2, 1, figsize=(11, 7.5))
    rec = plan._recommended_option("oxfordshire", ACCEPT_QUARTER)
    plot_roster_heatmap(plan, "oxfordshire", ACCEPT_QUARTER, plan.config.baseline, ax=axes[0])
    plot_roster_heatmap(plan, "oxfordshire", ACCEPT_QUARTER, rec, ax=axes[1])
    fig.tight_layout()
    save(fig, "staffing_roster_oxfordshire.png")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--forecast", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="3 small cases; skip RPA")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cfg = load_config()

    print("1. optimiser against brute force ...", flush=True)
    bf = brute_force_table(QUICK_CASES if args.quick else SMALL_CASES)
    print(bf.to_string(index=False))

    print("2. whole plan ...", flush=True)
    fc, fc_secs, fc_note = sample_forecast(args.forecast, args.jobs)
    t0 = time.perf_counter()
    contacts = sample_contacts()
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan = plan_staffing(fc, contacts, cfg, n_jobs=args.jobs)
    t_plan = time.perf_counter() - t0
    s = plan.summary
    n_cells = s[["hub", "quarter"]].drop_duplicates().shape[0]
    print(f"plan: {len(s)} hub x quarter x option rows in {t_plan:.1f} s", flush=True)

    print("3. verify ...", flush=True)
    t0 = time.perf_counter()
    ver = plan.verify(n_jobs=args.jobs)
    t_ver = time.perf_counter() - t0
    print(f"verify: {int(ver['met'].sum())}/{len(ver)} met in {t_ver:.1f} s", flush=True)
    rpa = None
    t_rpa = 0.0
    if not args.quick:
        t0 = time.perf_counter()
        rpa = plan.rpa(0.10, n_jobs=args.jobs)
        t_rpa = time.perf_counter() - t0
    figs = figures(plan, ver)

    timing = pd.DataFrame(
        [
            {
                "step": "read 3 record-level logs",
                "seconds": round(t_read, 1),
                "detail": f"{len(contacts):,} contacts",
            },
            {
                "step": "plan_staffing",
                "seconds": round(t_plan, 1),
                "detail": f"{s['hub'].nunique()} hubs x {s['quarter'].nunique()} quarters x "
                f"{s['option'].nunique()} options = {len(s)} rosters, jobs={args.jobs}, "
                f"{int(s['evaluations'].sum()):,} roster simulations",
            },
            {
                "step": "verify (contact level)",
                "seconds": round(t_ver, 1),
                "detail": f"{n_cells} recommended rosters x {cfg.replications} replications, "
                f"{int(ver['contacts_simulated'].sum()):,} contacts",
            },
            {
                "step": "rpa(0.10)",
                "seconds": round(t_rpa, 1),
                "detail": "recommended option re-optimised"
                if rpa is not None
                else "skipped (--quick)",
            },
        ]
    )
    print(timing.to_string(index=False))

    q = s[s["quarter"] == ACCEPT_QUARTER]
    base = q[q["option"] == cfg.baseline].set_index("hub")
    rec = q[q["recommended"]].set_index("hub")
    hubs_tab = pd.DataFrame(
        {
            "hub": base.index,
            "contacts_P80": base["contacts"].round(0).astype(int).to_numpy(),
            "workload_h": base["workload_hours"].round(0).astype(int).to_numpy(),
            "fte_today": base["fte_required"].round(1).to_numpy(),
            "recommended": rec.loc[base.index, "option"].to_numpy(),
            "fte_recommended": rec.loc[base.index, "fte_required"].round(1).to_numpy(),
            "out_of_hours_today": (100 * base["out_of_hours_share"])
            .round(0)
            .astype(int)
            .astype(str)
            + "%",
            "out_of_hours_rec": (100 * rec.loc[base.index, "out_of_hours_share"])
            .round(0)
            .astype(int)
            .astype(str)
            .to_numpy()
            + "%",
            "monday_backlog_today": base["monday_backlog"].round(0).astype(int).to_numpy(),
            "monday_backlog_rec": rec.loc[base.index, "monday_backlog"]
            .round(0)
            .astype(int)
            .to_numpy(),
        }
    ).sort_values("fte_today", ascending=False)
    opt_tab = (
        q.groupby("option", sort=False)
        .agg(
            fte=("fte_required", "sum"),
            out_of_hours=("out_of_hours_arrivals", "sum"),
            monday_backlog=("monday_backlog", "sum"),
            recommended_for=("recommended", "sum"),
            meets_all=("meets_targets", "all"),
        )
        .reset_index()
    )
    opt_tab["fte"] = opt_tab["fte"].round(1)
    opt_tab["out_of_hours"] = opt_tab["out_of_hours"].round(0).astype(int)
    opt_tab["monday_backlog"] = opt_tab["monday_backlog"].round(0).astype(int)
    wc = plan.weekend_cover[plan.weekend_cover["quarter"] == ACCEPT_QUARTER][
        [
            "hub",
            "option",
            "cover_hours",
            "urgent_high_weekend",
            "min_cover_staff",
            "cover_fte",
            "within_urgent_cover",
            "within_high_cover",
            "within_urgent_if_left",
            "within_high_if_left",
            "delay_hours_no_cover",
            "delay_hours_with_cover",
            "monday_backlog_no_cover",
            "monday_backlog_with_cover",
        ]
    ].round(2)
    fte_q = (
        s[s["recommended"]].pivot(index="hub", columns="quarter", values="fte_required").round(1)
    )
    fte_q.loc["force total"] = fte_q.sum().round(1)
    ver_q = (
        ver.groupby("quarter")
        .agg(
            met=("met", "sum"),
            cells=("met", "size"),
            **{
                f"min_within_{p}": (f"within_{p}", "min")
                for p in ("urgent", "high", "medium", "standard")
            },
        )
        .round(3)
        .reset_index()
    )

    goal = t_plan < GOAL_SECONDS
    worst = bf["gap_pct"].max()
    verdict = [
        f"- Optimiser vs brute force: worst gap {worst:+.2f}% FTE over {len(bf)} cases "
        f"({'met' if worst <= 5 else 'NOT met'}: within 5%).",
        f"- Whole plan (9 hubs x 8 quarters x 4 options): {t_plan:.0f} s with {args.jobs} jobs "
        f"({'met' if goal else 'NOT met'}: under {GOAL_SECONDS:.0f} s).",
        f"- Recommended rosters re-simulated contact by contact (fresh Poisson arrivals at P80, "
        f"gamma work CV {cfg.work_cv}): {int(ver['met'].sum())}/{len(ver)} hub-quarters meet "
        f"every target ({'met' if ver['met'].all() else 'NOT met'}).",
    ]
    oxf = q[(q["hub"] == "oxfordshire")].set_index("option")["fte_required"]
    md = [
        "# Staffing benchmark",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {_version('numpy')}, "
        f"pandas {_version('pandas')}. Run {pd.Timestamp.now():%d/%m/%Y %H:%M}. "
        f"Forecast: sample force daily counts to {UNTIL} ({fc_note}); planning quantile P80.",
        "",
        "## Verdict",
        "",
        *verdict,
        "",
        "## 1. Optimiser against brute force (small synthetic hubs)",
        "",
        "Every roster of each small problem enumerated (each open hour from its minimum cover to "
        "the maximum staff; rosters no cheaper than the best so far are not simulated). "
        "FTE from the roster's staff-hours with the default roles.",
        "",
        markdown_table(bf),
        "",
        "## 2. Timing",
        "",
        markdown_table(timing),
        "",
        "## 3. Check: recommended rosters re-simulated contact by contact",
        "",
        "Pooled over the replications; urgent measured by arrival in the quarter, the others by "
        "deadline in the quarter. Targets: 95% within deadline for every priority.",
        "",
        markdown_table(ver_q),
        "",
        f"## 4. {ACCEPT_QUARTER}: FTE by hub, today's hours against the recommended option",
        "",
        f"Oxfordshire (~5,500 contacts a month): {oxf.get(cfg.baseline, np.nan):.1f} FTE on "
        f"today's hours. Options for the force in {ACCEPT_QUARTER} (sum over hubs):",
        "",
        markdown_table(opt_tab),
        "",
        markdown_table(hubs_tab),
        "",
        "## 5. Weekend and bank-holiday cover (recommended option)",
        "",
        markdown_table(wc),
        "",
        "## 6. FTE by quarter (recommended option)",
        "",
        markdown_table(fte_q.reset_index()),
        "",
    ]
    if rpa is not None:
        r = (
            rpa.groupby("quarter")
            .agg(
                workload_hours_saved=("workload_hours_saved", "sum"),
                fte_before=("fte_before", "sum"),
                fte_after=("fte_after", "sum"),
                fte_released=("fte_released", "sum"),
            )
            .round(1)
            .reset_index()
        )
        md += [
            "## 7. RPA: a further 10% of research checks automated",
            "",
            f"Each contact saves {rpa['minutes_saved_per_contact'].iloc[0]:.1f} staff minutes "
            f"(10% x {cfg.rpa_minutes_saved:g} minutes saved per check); recommended option "
            "re-optimised. Force totals:",
            "",
            markdown_table(r),
            "",
        ]
    md += [
        "## Notes",
        "",
        *[f"- {n}" for n in plan.notes],
        "",
        "Figures: " + ", ".join(f"`reports/figures/{f}`" for f in figs),
        "",
    ]
    (OUT / "staffing.md").write_text("\n".join(md), encoding="utf-8")
    csv = pd.concat(
        [
            bf.assign(section="brute_force"),
            timing.assign(section="timing"),
            hubs_tab.assign(section=f"fte_by_hub_{ACCEPT_QUARTER}"),
        ],
        ignore_index=True,
    )
    csv.to_csv(OUT / "staffing.csv", index=False)
    print("\n".join(verdict))
    print(f"wrote {OUT / 'staffing.md'}, {OUT / 'staffing.csv'} and {len(figs)} figures")


if __name__ == "__main__":
    main()

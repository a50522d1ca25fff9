"""The staffing plan: every hub, quarter and operating option, with a recommendation.

:func:`plan_staffing` is what the CLI and notebooks call::

    from mashdemand.staffing import load_config, plan_staffing
    plan = plan_staffing(forecast, contacts, load_config())
    plan.summary        # hub, quarter, option, contacts, workload_hours, fte_required, ...
    plan.roster         # hub, quarter, option, day_type, hour, staff
    plan.weekend_cover  # minimum weekend/bank-holiday cover vs leaving it to Monday
    plan.verify()       # recommended rosters re-simulated contact by contact
    plan.rpa(0.10)      # FTE released by automating 10% more research checks

For each hub (the force total ``ALL`` is left out: it is the sum of the hubs) and each calendar
quarter the forecast covers, the forecast's daily counts at the planning quantile are spread
over the hours and priorities (:mod:`~mashdemand.staffing.arrivals`), the smallest roster
meeting every target is found for each option (:mod:`~mashdemand.staffing.optimise`) and
converted to FTE by role, and the cheapest option meeting every target is recommended. Options
within ``[recommendation] tolerance`` of the cheapest FTE (0.5%, or 0.1 FTE) count as equally
cheap; among them the one with the fewest contacts arriving while the hub is closed to them is
recommended (``tie_break``). Weekend and bank-holiday cover is then sized for the recommended
option, and :meth:`StaffingPlan.verify` re-simulates the recommended rosters contact by contact.

Where the targets bind: work with deadlines of days can wait for the next open hour, so for most
hubs the binding constraint is the maximum sustainable utilisation (staff-hours >= planned work /
0.85); deadlines shape where the staff-hours go (Mondays after the weekend, weekend cover for
urgent and high work) and decide small hubs and short-deadline cover.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.hubs import display_name
from mashdemand.staffing import defaults
from mashdemand.staffing.arrivals import (
    ArrivalProfile,
    build_profiles,
    forecast_dims,
    hourly_arrivals,
    next_period_start,
    planning_counts,
    validate_forecast,
)
from mashdemand.staffing.config import (
    DAY_TYPES,
    PRIORITIES,
    ROLE_NAMES,
    OperatingOption,
    StaffingConfig,
    StaffingError,
)
from mashdemand.staffing.grid import Clock, make_grid, opening
from mashdemand.staffing.model import Cell, RosterProblem
from mashdemand.staffing.optimise import optimise_roster, roster_fte

__all__ = ["StaffingPlan", "plan_staffing"]

QUARTER = "quarter"
OPTION = "option"
WEEKEND_TYPES = (5, 6, 7)  # sat, sun, bank_holiday
SUMMARY_COLUMNS: tuple[str, ...] = (
    schema.HUB,
    QUARTER,
    OPTION,
    "days",
    "partial",
    "contacts",
    "workload_hours",
    "fte_required",
    "recommended",
    "meets_targets",
    *(f"within_{p}" for p in PRIORITIES),
    "utilisation",
    "staff_hours_week",
    "peak_staff",
    "out_of_hours_arrivals",
    "out_of_hours_share",
    "monday_backlog",
    "open_backlog_mean",
    *(f"wait_hours_{p}" for p in PRIORITIES),
)
ROSTER_COLUMNS: tuple[str, ...] = (schema.HUB, QUARTER, OPTION, "day_type", "hour", "staff")


def quarter_label(ts: pd.Timestamp) -> str:
    """Calendar quarter label, e.g. ``2026Q4``.

    >>> quarter_label(pd.Timestamp("2026-11-05"))
    '2026Q4'
    """
    return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"


def _quarters(
    first: pd.Timestamp, last: pd.Timestamp
) -> list[tuple[str, pd.Timestamp, pd.Timestamp, bool]]:
    """(label, first day, last day, partial) for each calendar quarter touched by first..last."""
    out = []
    for q in pd.period_range(first, last, freq="Q"):
        a, b = q.start_time.normalize(), q.end_time.normalize()
        lo, hi = max(a, first), min(b, last)
        out.append((f"{q.year}Q{q.quarter}", lo, hi, bool(lo > a or hi < b)))
    return out


# --- Per-cell work (runs in worker processes) -------------------------------------------------
def _metrics(problem: RosterProblem, roster: np.ndarray, config: StaffingConfig) -> dict[str, Any]:
    """Summary metrics of one roster on one problem (fluid model)."""
    ev = problem.evaluate(roster[None], keep=True)
    out = ev.outcome
    cell = problem.cell
    g = cell.grid
    minutes = np.where(cell.minutes > 0, cell.minutes, 1.0)
    win = cell.window_slice
    rate = cell.rate[win]
    frac = problem.open_.frac[win]
    elig = problem.open_.elig[win]
    open_share = np.where(elig, frac[:, None], 0.0)
    ooh = float((rate * (1 - open_share)).sum())
    row: dict[str, Any] = {
        "utilisation": float(ev.utilisation[0]),
        "meets_targets": bool(ev.feasible[0]),
        **{f"within_{p}": float(ev.share[0, k]) for k, p in enumerate(PRIORITIES)},
        "out_of_hours_arrivals": ooh,
        "out_of_hours_share": ooh / max(float(rate.sum()), 1e-9),
        "peak_staff": int(roster.max()),
    }
    row.update(roster_fte(problem, roster, config))
    ob = out.open_backlog[0] / minutes[None, :]  # (n_days, 4) contacts waiting at opening
    days = np.arange(g.lo, g.hi)
    mondays = days[(g.day_type[days] == 0) & ~np.isnan(ob[days, 1])]
    row["monday_backlog"] = float(ob[mondays].sum(axis=1).mean()) if len(mondays) else np.nan
    opened = days[~np.isnan(ob[days, 1])]
    row["open_backlog_mean"] = float(ob[opened].sum(axis=1).mean()) if len(opened) else np.nan
    arrived = problem.inputs.work[0].sum(axis=0)
    for k, p in enumerate(PRIORITIES):
        row[f"wait_hours_{p}"] = float(out.wait[0, k] / arrived[k]) if arrived[k] > 0 else np.nan
    return row


def cover_option(option: OperatingOption, config: StaffingConfig, open_: bool) -> OperatingOption:
    """The option with weekends and bank holidays replaced by the cover window (urgent and high
    only) when ``open_``, or closed when not."""
    hours = dict(option.hours)
    pri = dict(option.priorities)
    for dt in ("sat", "sun", "bank_holiday"):
        hours[dt] = config.cover_hours if open_ else None
        pri[dt] = config.cover_priorities
    return dataclasses.replace(option, hours=hours, priorities=pri)


def _cover_clocks(problem_cell: Cell, config: StaffingConfig) -> dict[str, Clock]:
    """Deadline clocks for the cover analysis: the standards' clock plus the cover window on
    weekends and bank holidays, for the priorities covered."""
    hours = dict(config.working_time)
    for dt in ("sat", "sun", "bank_holiday"):
        hours[dt] = config.cover_hours
    clock = Clock.from_hours(problem_cell.grid, hours)
    return {p: clock for p in config.cover_priorities}


def _weekend_cover(
    cell: Cell, option: OperatingOption, roster: np.ndarray, config: StaffingConfig
) -> dict[str, Any]:
    """Minimum weekend/bank-holiday cover for urgent and high work against leaving it."""
    g = cell.grid
    weekend_day = np.isin(g.day_type, WEEKEND_TYPES)
    measure = weekend_day.copy()
    measure[: g.lo] = False
    measure[g.hi :] = False
    cov = cover_option(option, config, True)
    prob = RosterProblem(cell, cov, config, clocks=_cover_clocks(cell, config), measure=measure)
    weekday = np.array(roster, dtype=np.int64)
    weekday[list(WEEKEND_TYPES)] = 0
    levels = np.arange(0, config.cover_max_staff + 1)
    cands = np.repeat(weekday[None], len(levels), axis=0)
    slots = prob.open_slots.copy()
    slots[:5] = False
    cands[:, slots] = levels[:, None]
    ev = prob.evaluate(cands)
    k_idx = [PRIORITIES.index(p) for p in config.cover_priorities]
    targets = np.array([config.targets[p] for p in config.cover_priorities])
    share = ev.share[:, k_idx]
    ok = (np.isnan(share) | (share >= targets - 1e-9)).all(axis=1)
    need = int(levels[np.argmax(ok)]) if ok.any() else -1
    best = int(np.argmax(ok)) if ok.any() else len(levels) - 1

    win = cell.window_slice
    wk_steps = np.repeat(weekend_day, 24)
    wk_steps_win = np.zeros(g.n_steps, dtype=bool)
    wk_steps_win[win] = wk_steps[win]
    rate_uh = cell.rate[:, k_idx]
    contacts = float(rate_uh[wk_steps_win].sum())

    def delay(opt: OperatingOption) -> float:
        elig = opening(g, opt).elig
        t = np.arange(g.n_steps)
        total, weight = 0.0, 0.0
        for j, k in enumerate(k_idx):
            nxt = np.where(elig[:, k], t, g.n_steps)
            nxt = np.minimum.accumulate(nxt[::-1])[::-1]
            wait = np.where(nxt < g.n_steps, nxt - t, np.nan)
            r = rate_uh[wk_steps_win, j]
            w = wait[wk_steps_win]
            ok_ = ~np.isnan(w)
            total += float((r[ok_] * w[ok_]).sum())
            weight += float(r[ok_].sum())
        return total / weight if weight > 0 else np.nan

    closed = cover_option(option, config, False)
    p_closed = RosterProblem(cell, closed, config)
    m_closed = _metrics(p_closed, weekday, config)
    cover_roster = cands[best]
    m_cover = _metrics(RosterProblem(cell, cov, config), cover_roster, config)
    days = g.hi - g.lo
    cover_hours = float(prob.cost(cover_roster[None])[0] - prob.cost(weekday[None])[0])
    cover_fte = cover_hours * 365.25 / days / config.hours_per_fte()
    window = config.cover_hours
    cover_p = config.cover_priorities
    return {
        "option": option.name,
        "cover_hours": f"{window[0] // 60:02d}:{window[0] % 60:02d}-"
        f"{window[1] // 60:02d}:{window[1] % 60:02d}",
        "urgent_high_weekend": contacts,
        "min_cover_staff": need,
        **{f"within_{p}_cover": float(share[best, j]) for j, p in enumerate(cover_p)},
        **{f"within_{p}_if_left": float(share[0, j]) for j, p in enumerate(cover_p)},
        "cover_fte": cover_fte,
        "delay_hours_no_cover": delay(closed),
        "delay_hours_with_cover": delay(cov),
        "monday_backlog_no_cover": m_closed["monday_backlog"],
        "monday_backlog_with_cover": m_cover["monday_backlog"],
    }


def recommend(rows: list[dict[str, Any]], config: StaffingConfig) -> str | None:
    """The option to recommend among one hub and quarter's rows (None if none meets every
    target): the cheapest in FTE, options within ``config.tolerance`` (or 0.1 FTE) of it
    counting as equally cheap, ties broken by ``config.tie_break``.

    >>> from mashdemand.staffing.config import load_config
    >>> rows = [dict(option="a", meets_targets=True, fte_required=10.0, out_of_hours_arrivals=9),
    ...         dict(option="b", meets_targets=True, fte_required=10.04, out_of_hours_arrivals=5),
    ...         dict(option="c", meets_targets=False, fte_required=8.0, out_of_hours_arrivals=1)]
    >>> recommend(rows, load_config())
    'b'
    """
    ok = [r for r in rows if r["meets_targets"]]
    if not ok:
        return None
    best = min(r["fte_required"] for r in ok)
    band = max(config.tolerance * best, 0.1)
    tied = [r for r in ok if r["fte_required"] <= best + band + 1e-12]
    if config.tie_break == "order" or len(tied) == 1:
        return str(tied[0][OPTION])
    key = config.tie_break
    return str(min(tied, key=lambda r: (r[key], r["fte_required"]))[OPTION])


def solve_cell(cell: Cell, config: StaffingConfig) -> dict[str, Any]:
    """Optimise every option for one hub and quarter; recommend one; weekend cover figures."""
    rows, rosters, results = [], [], {}
    for name, option in config.options.items():
        prob = RosterProblem(cell, option, config)
        res = optimise_roster(prob)
        m = _metrics(prob, res.roster, config)
        m["meets_targets"] = bool(res.feasible)
        rows.append(
            {
                schema.HUB: cell.hub,
                QUARTER: cell.window,
                OPTION: name,
                "days": cell.grid.hi - cell.grid.lo,
                "partial": cell.partial,
                "contacts": cell.contacts(),
                "workload_hours": cell.workload_hours(),
                "evaluations": res.evaluations,
                **m,
            }
        )
        results[name] = res
        rosters.append((name, res.roster))
    pick = recommend(rows, config)
    for r in rows:
        r["recommended"] = r[OPTION] == pick
    cover_name = pick or config.baseline
    cover = _weekend_cover(cell, config.options[cover_name], results[cover_name].roster, config)
    cover = {schema.HUB: cell.hub, QUARTER: cell.window, **cover}
    return {"rows": rows, "rosters": rosters, "cover": cover}


def _verify_cell(
    cell: Cell,
    option: OperatingOption,
    roster: np.ndarray,
    config: StaffingConfig,
    seed: int,
    replications: int,
) -> dict[str, Any]:
    prob = RosterProblem(cell, option, config)
    rng = np.random.default_rng(seed)
    ok = {k: [] for k in range(len(PRIORITIES))}
    busy = staff = 0.0
    n = 0
    for _ in range(replications):
        out = prob.simulate_contacts(roster, rng)
        n += len(out.arrival)
        busy += out.busy_hours
        staff += out.staff_hours
        within = out.within_deadline()
        n_days = cell.grid.n_days
        arr_day = np.clip((out.arrival // 24).astype(int), 0, n_days - 1)
        due_day = np.where(np.isfinite(out.due), np.ceil(out.due / 24 - 1e-9) - 1, n_days)
        due_day = due_day.astype(int)
        for k in range(len(PRIORITIES)):
            if k == 0:
                sel = (out.priority == 0) & prob.days[arr_day]
            else:
                sel = (out.priority == k) & (due_day < n_days)
                sel &= prob.days[np.minimum(due_day, n_days - 1)]
            ok[k].append(within[sel])
    row: dict[str, Any] = {schema.HUB: cell.hub, QUARTER: cell.window, OPTION: option.name}
    met = True
    for k, p in enumerate(PRIORITIES):
        v = np.concatenate(ok[k]) if ok[k] else np.array([])
        share = float(v.mean()) if len(v) else np.nan
        row[f"contacts_{p}"] = int(len(v))
        row[f"within_{p}"] = share
        if len(v) and share < config.targets[p] - 1e-12:
            met = False
    row["utilisation"] = busy / staff if staff > 0 else np.nan
    row["contacts_simulated"] = n
    row["replications"] = replications
    row["met"] = met
    return row


def _run(
    tasks: list[tuple], fn, n_jobs: int, progress: bool, desc: str, cells: Iterable[tuple]
) -> list:
    """``fn(*task)`` for every task, in order, as tasks of the engine (:mod:`mashdemand.engine`;
    ``n_jobs`` local workers unless :func:`~mashdemand.engine.use_engine` chose another).
    ``cells`` are the tasks' ``(hub, quarter)``, which name a task that fails."""
    from mashdemand.engine import Task, current_engine

    engine = current_engine(n_jobs)
    named = [
        Task(fn, args, f"{display_name(hub)} {quarter}")
        for args, (hub, quarter) in zip(tasks, cells, strict=True)
    ]
    return engine.run(named, progress=progress, desc=desc)


# --- The plan ---------------------------------------------------------------------------------
@dataclass
class StaffingPlan:
    """Recommended staffing by hub, quarter and operating option.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per hub, quarter and option: ``hub, quarter, option, days, partial, contacts,
        workload_hours, fte_required, recommended, meets_targets, within_<priority>,
        utilisation, staff_hours_week, peak_staff, out_of_hours_arrivals, out_of_hours_share,
        monday_backlog, open_backlog_mean, wait_hours_<priority>, fte_<role>``. Contacts and
        hours are per quarter at the planning quantile; FTE are annual equivalents.
    roster : pandas.DataFrame
        ``hub, quarter, option, day_type, hour, staff``: staff on duty (every hour 0-23 of
        every day type, 0 when closed).
    weekend_cover : pandas.DataFrame
        One row per hub and quarter (for the recommended option): fewest staff on duty in the
        cover window on weekends and bank holidays for urgent and high work arriving then to
        meet its deadline, their FTE, and what leaving it to the next working day costs (delay,
        Monday backlog).
    notes : list of str
        Fallbacks and assumptions used in this run.
    config : StaffingConfig
    quantile : float
        Planning quantile of the forecast.
    seed : int
    seconds : float
        Time taken.
    """

    summary: pd.DataFrame
    roster: pd.DataFrame
    weekend_cover: pd.DataFrame
    notes: list[str]
    config: StaffingConfig
    quantile: float
    seed: int = defaults.SEED
    seconds: float = 0.0
    _cells: dict[tuple[str, str], Cell] = field(default_factory=dict, repr=False)
    _planned: pd.DataFrame | None = field(default=None, repr=False)
    _profiles: dict[str, ArrivalProfile] = field(default_factory=dict, repr=False)

    # -- access ----------------------------------------------------------------------------
    @property
    def recommended(self) -> pd.DataFrame:
        """Summary rows of the recommended option for each hub and quarter."""
        return self.summary[self.summary["recommended"]].reset_index(drop=True)

    def roster_array(self, hub: str, quarter: str, option: str | None = None) -> np.ndarray:
        """(8, 24) roster of a hub, quarter and option (default the recommended one)."""
        option = option or self._recommended_option(hub, quarter)
        r = self.roster
        sel = r[(r[schema.HUB] == hub) & (r[QUARTER] == quarter) & (r[OPTION] == option)]
        if sel.empty:
            raise StaffingError(
                f"no roster for hub {hub!r}, quarter {quarter!r}, option {option!r}"
            )
        arr = np.zeros((len(DAY_TYPES), 24), dtype=np.int64)
        arr[sel["day_type"].map(DAY_TYPES.index).to_numpy(), sel["hour"].to_numpy()] = sel["staff"]
        return arr

    def _recommended_option(self, hub: str, quarter: str) -> str:
        s = self.summary
        rec = s[(s[schema.HUB] == hub) & (s[QUARTER] == quarter) & s["recommended"]]
        return str(rec[OPTION].iloc[0]) if len(rec) else self.config.baseline

    # -- checks and scenarios --------------------------------------------------------------
    def verify(
        self,
        seed: int | None = None,
        replications: int | None = None,
        n_jobs: int = defaults.N_JOBS,
        progress: bool = False,
    ) -> pd.DataFrame:
        """Re-simulate each recommended roster contact by contact with fresh random arrivals
        at the planning quantile (Poisson), random work per contact and individual staff.

        Returns one row per hub and quarter: ``within_<priority>`` pooled over the
        replications (urgent by arrival in the quarter, the others by deadline in the quarter),
        ``contacts_<priority>`` measured, ``utilisation`` (busy / on duty) and ``met``
        (every target reached).
        """
        seed = self.seed + 1_000_003 if seed is None else seed
        reps = replications or self.config.replications
        tasks = []
        for i, ((hub, quarter), cell) in enumerate(sorted(self._cells.items())):
            opt = self._recommended_option(hub, quarter)
            tasks.append(
                (
                    cell,
                    self.config.options[opt],
                    self.roster_array(hub, quarter, opt),
                    self.config,
                    seed + 7919 * i,
                    reps,
                )
            )
        rows = _run(tasks, _verify_cell, n_jobs, progress, "verify", sorted(self._cells))
        return pd.DataFrame(rows)

    def rpa(
        self, extra_share: float, n_jobs: int = defaults.N_JOBS, progress: bool = False
    ) -> pd.DataFrame:
        """FTE released by RPA running a further ``extra_share`` of research checks.

        Each contact's work falls by ``min(extra_share, 1 - current_share) x minutes_saved``;
        the recommended option is re-optimised for every hub and quarter.

        Returns ``hub, quarter, option, extra_share, minutes_saved_per_contact,
        workload_hours_saved, fte_before, fte_after, fte_released``.
        """
        if not 0 <= extra_share <= 1:
            raise StaffingError(f"rpa: extra share {extra_share} must be between 0 and 1")
        cfg = self.config
        share = min(extra_share, max(1 - cfg.rpa_current_share, 0.0))
        cut = share * cfg.rpa_minutes_saved
        tasks = []
        for (hub, quarter), cell in sorted(self._cells.items()):
            planned = self._planned[self._planned[schema.HUB] == hub]
            rate, work = hourly_arrivals(
                planned, self._profiles[hub], cell.grid, cfg, {p: cut for p in PRIORITIES}
            )
            new = dataclasses.replace(cell, rate=rate, work=work)
            opt = self._recommended_option(hub, quarter)
            tasks.append((new, cfg.options[opt], cfg))
        results = _run(tasks, _rpa_cell, n_jobs, progress, "rpa", sorted(self._cells))
        rows = []
        base = self.summary.set_index([schema.HUB, QUARTER, OPTION])
        for (hub, quarter), res in zip(sorted(self._cells), results, strict=True):
            opt = self._recommended_option(hub, quarter)
            before = base.loc[(hub, quarter, opt)]
            rows.append(
                {
                    schema.HUB: hub,
                    QUARTER: quarter,
                    OPTION: opt,
                    "extra_share": extra_share,
                    "extra_share_applied": share,
                    "minutes_saved_per_contact": cut,
                    "workload_hours_saved": float(before["workload_hours"]) - res["workload_hours"],
                    "fte_before": float(before["fte_required"]),
                    "fte_after": res["fte_required"],
                    "fte_released": float(before["fte_required"]) - res["fte_required"],
                }
            )
        return pd.DataFrame(rows)

    # -- output ----------------------------------------------------------------------------
    def to_csv(self, summary_path: str | Path, roster_path: str | Path | None = None) -> None:
        """Write the summary (and the rosters) as CSV.

        Text cells (option names and descriptions come from the user's config) are neutralised
        against formula injection (:func:`mashdemand.cells.to_csv`).
        """
        from mashdemand.cells import to_csv

        Path(summary_path).parent.mkdir(parents=True, exist_ok=True)
        to_csv(self.summary, summary_path, index=False, float_format="%.4f")
        if roster_path is not None:
            Path(roster_path).parent.mkdir(parents=True, exist_ok=True)
            to_csv(self.roster, roster_path, index=False)

    def plot_roster(self, hub: str, quarter: str, option: str | None = None, ax=None):
        from mashdemand.staffing.plots import plot_roster_heatmap

        return plot_roster_heatmap(self, hub, quarter, option, ax=ax)

    def plot_fte(self, option: str = "recommended", ax=None):
        from mashdemand.staffing.plots import plot_fte_by_quarter

        return plot_fte_by_quarter(self.summary, option=option, ax=ax)

    def plot_tradeoff(self, hub: str, quarter: str, ax=None):
        from mashdemand.staffing.plots import plot_option_tradeoff

        return plot_option_tradeoff(self.summary, hub, quarter, ax=ax)


def _rpa_cell(cell: Cell, option: OperatingOption, config: StaffingConfig) -> dict[str, float]:
    prob = RosterProblem(cell, option, config)
    res = optimise_roster(prob)
    fte = roster_fte(prob, res.roster, config)
    return {"fte_required": fte["fte_required"], "workload_hours": cell.workload_hours()}


def load_contacts(
    paths: Iterable[str | Path] | None = None,
    store: str | Path | None = None,
    mapping: str | Path | None = None,
) -> pd.DataFrame:
    """Record-level contacts for :func:`plan_staffing` from exports or a store.

    ``paths`` (CSV, XLSX or Parquet exports) are ingested into a throwaway in-memory store with
    the same rules as ``mashdemand ingest``; ``store`` is read as it is. Returns ``hub,
    received_date, received_hour`` (local UK), ``priority, source, rpa``.
    """
    from mashdemand.store import Store, StoreError

    paths = list(paths or [])
    if bool(paths) == (store is not None):
        raise StaffingError("give exactly one of contact exports or a store")
    if paths:
        from mashdemand.ingest import ingest_contacts

        with Store(":memory:") as st:
            summary = ingest_contacts(paths, store=st, mapping=mapping)
            if summary.rows_accepted == 0:
                raise StaffingError("no usable contacts in " + ", ".join(map(str, paths)))
            return profile_contacts(st)
    try:
        with Store(store, read_only=True) as st:
            if st.count() == 0:
                raise StaffingError(f"{store}: the store holds no contacts; run ingest first")
            return profile_contacts(st)
    except StoreError as exc:
        raise StaffingError(str(exc)) from None


def profile_contacts(
    store: Any, until: pd.Timestamp | None = None, hubs: Iterable[str] | None = None
) -> pd.DataFrame:
    """The columns :func:`plan_staffing` learns arrival profiles from, read from an open
    :class:`~mashdemand.store.Store` (contacts received up to ``until`` and of ``hubs``, if
    given)."""
    return store.arrivals(end=until, hubs=hubs, with_priority=True)


def build_cells(
    planned: pd.DataFrame,
    profiles: dict[str, ArrivalProfile],
    config: StaffingConfig,
    hubs: Iterable[str],
    only: Iterable[str] | None = None,
) -> tuple[dict[tuple[str, str], Cell], list[str]]:
    """Arrivals on the simulation grid for every hub and calendar quarter of the forecast
    (or only the quarters labelled in ``only``, e.g. ``["2026Q4"]``)."""
    first = planned[schema.DATE].min()
    last = planned[schema.DATE].max()
    step = 1
    if len(planned[schema.DATE].drop_duplicates()) > 1:
        step = planned[schema.DATE].drop_duplicates().sort_values().diff().median().days
        if step > 1:  # weekly or monthly forecast: its last period runs to the day before next
            last = next_period_start(last, step) - pd.Timedelta(days=1)
    quarters = _quarters(first, last)
    if only is not None:
        wanted = set(only)
        unknown = wanted - {q[0] for q in quarters}
        if unknown:
            raise StaffingError(
                f"quarter(s) {', '.join(sorted(unknown))} not covered by the forecast "
                f"({first:%d/%m/%Y} to {last:%d/%m/%Y})"
            )
        quarters = [q for q in quarters if q[0] in wanted]
    notes = []
    part = [q for q, _, _, partial in quarters if partial]
    if part:
        notes.append(
            f"partial quarter(s) {', '.join(part)}: the forecast covers only part of them; "
            "figures are for the days covered"
        )
    cells = {}
    for hub in hubs:
        rows = planned[planned[schema.HUB] == hub]
        for label, lo, hi, partial in quarters:
            grid = make_grid(lo, hi, config.warmup_days, config.cooldown_days)
            near = rows[
                (rows[schema.DATE] >= grid.days[0] - pd.Timedelta(days=366))
                & (rows[schema.DATE] <= grid.days[-1])
            ]
            rate, work = hourly_arrivals(near, profiles[hub], grid, config, step=step)
            cells[(hub, label)] = Cell(hub, label, grid, rate, work, partial)
    return cells, notes


def plan_staffing(
    forecast: pd.DataFrame,
    contacts: pd.DataFrame | None,
    config: StaffingConfig,
    *,
    quantile: float = defaults.QUANTILE,
    seed: int = defaults.SEED,
    n_jobs: int = defaults.N_JOBS,
    progress: bool = False,
    quarters: Iterable[str] | None = None,
) -> StaffingPlan:
    """Turn a forecast into rosters and FTE for every hub, quarter and operating option.

    Parameters
    ----------
    forecast : pandas.DataFrame
        CONTRACTS.md forecast: ``hub, date, yhat, lo80, hi80`` (``lo95, hi95`` ignored) and
        optionally ``priority`` and/or ``source``. Daily is best; weekly or monthly periods are
        spread over their days by the hubs' day-of-week volumes. ``ALL`` rows are ignored.
    contacts : pandas.DataFrame or None
        Record-level contacts (``hub, received_at, priority[, source, rpa]``) for the
        hour-of-week profiles and priority mix; hubs without records use the pooled profile of
        those with them. None: the sample force's documented profile for every hub.
    config : StaffingConfig
        From :func:`~mashdemand.staffing.config.load_config`.
    quantile : float
        Planning quantile of the forecast (default P80).
    seed : int
        Seed for the random replications of :meth:`StaffingPlan.verify`.
    n_jobs : int
        Worker processes (one hub and quarter per task).
    progress : bool
        Show a progress bar.
    quarters : iterable of str, optional
        Plan only these calendar quarters (``2026Q4``); default every quarter the forecast
        touches.

    Returns
    -------
    StaffingPlan

    Raises
    ------
    StaffingError
        A ``ValueError`` naming the missing column or bad value.
    """
    t0 = time.perf_counter()
    fc = validate_forecast(forecast)
    planned = planning_counts(fc, quantile)
    hubs = list(dict.fromkeys(planned[schema.HUB]))
    profiles, notes, rpa_share = build_profiles(contacts, hubs, config)
    notes = list(notes)
    if (forecast[schema.HUB].astype(str) == schema.FORCE_TOTAL).any():
        notes.append(f"force total rows ({schema.FORCE_TOTAL}) ignored: rosters are per hub")
    dims = forecast_dims(fc)
    notes.append(
        f"planning quantile P{round(quantile * 100)}: each day planned at yhat + z(q) x "
        "(hi80 - yhat) / 1.2816; "
        + (f"forecast split by {', '.join(dims)}" if dims else "hub totals split by priority mix")
    )
    if rpa_share:
        vals = ", ".join(f"{display_name(h)} {v:.0%}" for h, v in sorted(rpa_share.items()))
        notes.append(
            f"RPA coverage measured in the contact log: {vals}; the staffing config assumes "
            f"{config.rpa_current_share:.0%}"
        )
    cells, more = build_cells(planned, profiles, config, hubs, quarters)
    notes += more
    tasks = [(cell, config) for cell in cells.values()]
    results = _run(tasks, solve_cell, n_jobs, progress, "staffing", list(cells))
    rows, roster_rows, cover_rows = [], [], []
    for res in results:
        rows += res["rows"]
        cover_rows.append(res["cover"])
        hub, quarter = res["rows"][0][schema.HUB], res["rows"][0][QUARTER]
        for name, r in res["rosters"]:
            dt_idx, hr = np.meshgrid(np.arange(len(DAY_TYPES)), np.arange(24), indexing="ij")
            roster_rows.append(
                pd.DataFrame(
                    {
                        schema.HUB: hub,
                        QUARTER: quarter,
                        OPTION: name,
                        "day_type": np.array(DAY_TYPES)[dt_idx.ravel()],
                        "hour": hr.ravel(),
                        "staff": r.ravel(),
                    }
                )
            )
    summary = pd.DataFrame(rows)
    role_cols = [f"fte_{r}" for r in config.roles]
    cols = [c for c in SUMMARY_COLUMNS if c in summary] + role_cols + ["evaluations"]
    summary = summary[cols]
    bad = summary.groupby([schema.HUB, QUARTER])["meets_targets"].any()
    if not bad.all():
        cells_bad = [f"{h} {q}" for (h, q), v in bad.items() if not v]
        notes.append(
            f"no option meets every target within {config.max_staff} staff on duty for: "
            + ", ".join(cells_bad)
        )
    roster = (
        pd.concat(roster_rows, ignore_index=True)
        if roster_rows
        else pd.DataFrame(columns=ROSTER_COLUMNS)
    )
    cover = pd.DataFrame(cover_rows)
    return StaffingPlan(
        summary=summary,
        roster=roster,
        weekend_cover=cover,
        notes=notes,
        config=config,
        quantile=quantile,
        seed=seed,
        seconds=time.perf_counter() - t0,
        _cells=cells,
        _planned=planned,
        _profiles=profiles,
    )


__all__ += ["ROLE_NAMES", "build_cells", "load_contacts", "quarter_label", "solve_cell"]

"""Benchmark: mashdemand's default forecast against competent peers on series nobody here designed.

The suite (read from ``/work/shared/data``, never copied into the repository):

- ``wales``: Welsh ambulance incidents, 7 health boards + ALL, daily (England and Wales);
- ``samu``: two French emergency call centres (SAMU 67, 68) + ALL, daily (France; gaps kept);
- ``bristol``: Bristol NHS 111 calls, 111 ambulance incidents, paediatric A&E + ALL, daily
  (England; about 2.5 years, so no two-year horizon);
- ``pedestrians``: one Melbourne pedestrian sensor, daily, with the COVID break (Australia);
- ``sample``: the sample force, 9 hubs + ALL, daily (England and Wales);
- ``dfe``: DfE children's social care referrals by local authority, financial years, h = 4.

Each daily file is one panel given to ``forecast()`` (hub = series) and every series is scored,
the total ``ALL`` included. Rolling origin at month-end cutoffs (:func:`_suite.choose_cutoffs`):
each method forecasts ONCE from each cutoff, as far as the data allow (at most 730 days, 731
when the 24 months after the cutoff hold 29 February), and
that one forecast is scored for daily MASE at 91 and 365 days, monthly-total MASE over 24
months, and 80% / 95% coverage and relative width in the buckets 1-91, 92-365 and 366-730
days. Peers (``_peers.py``) are cached per (data set, cutoff, method, history), so a re-run
refits only mashdemand. A speed section times the default forecast of the sample force and of
one 5-year daily series, idle and beside two busy processes.

Run: ``python benchmarks/forecast.py [--datasets wales,samu,bristol,pedestrians,sample,dfe]
[--quick] [--jobs 2] [--no-cache] [--no-speed]``
"""

from __future__ import annotations

import os

# Every fit single-threaded, in this process and in the joblib workers it starts (they inherit
# the environment); parallelism comes from running data sets / cutoffs side by side.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import inspect  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402
import _suite as S  # noqa: E402
from ingest import _version, markdown_table  # noqa: E402

from mashdemand.forecast.metrics import CUTOFF, HORIZON, MODEL, evaluate  # noqa: E402

SHARED = Path("/work/shared/data")
BENCH = SHARED / "benchmarks"
DFE = SHARED / "dfe_cin_referrals_2013_2025.csv"
ONS = SHARED / "ons_child_population_2012_2024.csv"
PEDESTRIANS = SHARED / "prophet_pedestrians_covid.csv"
CACHE = Path("/tmp/mashdemand_bench_cache")
OURS = "mashdemand"
TOTAL = "ALL"
#: History given to every method at a cutoff: at most the latest five years [days], so the
#: ten-year SAMU files and the sample force cost what a five-year series costs.
MAX_HISTORY_DAYS = 1826
#: Financial-year cutoffs of the DfE referrals (FY starting 1 April; h = 4 years).
DFE_CUTOFFS = ("2018-04-01", "2019-04-01", "2020-04-01")
DFE_H = 4
# Section 2 targets of issue 11.
TARGET_RATIO, TARGET_MEAN_RATIO, TARGET_FY_RATIO = 0.97, 0.93, 0.90
TARGET_COV = {80: (0.75, 0.85), 95: (0.92, 0.97)}
SPEED_GOALS = {"sample": 30.0, "series": 5.0}


# --- data sets ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dataset:
    """One daily file of the suite: how to read it and which holidays apply."""

    name: str
    title: str
    read: Callable[[], pd.DataFrame]
    prophet_country: str
    calendar: str


def _read_bench(file: str) -> Callable[[], pd.DataFrame]:
    def read() -> pd.DataFrame:
        d = pd.read_csv(BENCH / file, parse_dates=["date"])
        return d[["hub", "date", "contacts"]]

    return read


def read_pedestrians() -> pd.DataFrame:
    """The Prophet pedestrians example as counts (one series, ``hub = pedestrians``)."""
    d = pd.read_csv(PEDESTRIANS, parse_dates=["ds"])
    return pd.DataFrame({"hub": "pedestrians", "date": d["ds"], "contacts": d["y"]})


def read_sample() -> pd.DataFrame:
    """The sample force's daily counts, summed over sources per hub and day."""
    from mashdemand.forecast.counts import read_counts

    counts, _ = read_counts(ROOT / "data" / "sample" / "daily_counts.csv")
    return counts.groupby(["hub", "date"], as_index=False)["contacts"].sum()


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "wales",
            "Welsh ambulance",
            _read_bench("wales_ambulance_lhb.csv"),
            "UK",
            "england-and-wales",
        ),
        Dataset("samu", "SAMU 67/68", _read_bench("fr_samu_alsace_affaires.csv"), "FR", "FR"),
        Dataset(
            "bristol",
            "Bristol 111/A&E",
            _read_bench("uk_bnssg_111_paeds_ae.csv"),
            "UK",
            "england-and-wales",
        ),
        Dataset("pedestrians", "pedestrians", read_pedestrians, "AU", "AU"),
        Dataset("sample", "sample force", read_sample, "UK", "england-and-wales"),
    )
}


# --- tasks: one method's forecast from one cutoff -------------------------------------------
@dataclass
class Task:
    """One forecast to make: a method, a data set, a cutoff and the history it may see."""

    dataset: str
    method: str
    cutoff: pd.Timestamp
    h: int
    freq: str
    history: pd.DataFrame
    country: str | None = None
    calendar: str | None = None
    cache: Path | None = None
    population: pd.DataFrame | None = field(default=None, repr=False)


def calendar_kwargs(calendar: str | None) -> dict[str, str]:
    """``{'calendar': ...}`` if this ``forecast()`` takes a calendar, else nothing."""
    from mashdemand.forecast.api import forecast

    if calendar and "calendar" in inspect.signature(forecast).parameters:
        return {"calendar": calendar}
    return {}


def mashdemand_forecast(task: Task) -> pd.DataFrame:
    """The default ``forecast()`` of the task's history to ``h`` periods after the cutoff."""
    from mashdemand.forecast.api import forecast

    freq = task.freq
    until = task.cutoff + (
        pd.Timedelta(days=task.h) if freq == "day" else pd.DateOffset(years=task.h)
    )
    kw: dict = {"n_jobs": 1, **calendar_kwargs(task.calendar)}
    if freq != "day":
        kw.update(freq=freq, history_freq=freq, population=task.population)
    try:
        res = forecast(task.history, until=until, **kw)
    except (ValueError, KeyError) as exc:
        if "calendar" not in kw or "calendar" not in str(exc).lower():
            raise
        kw.pop("calendar")  # a calendar this engine does not know: its default, noted
        res = forecast(task.history, until=until, **kw)
    fc = res.frame.rename(columns={"hub": S.UID, "date": S.DS})
    return fc[list(_peers.FORECAST_COLUMNS)]


class Done(NamedTuple):
    """A task's forecast, its wall time and the CPU time of its process and children [s]."""

    task: Task
    forecast: pd.DataFrame
    wall: float
    cpu: float
    error: str = ""


def _cpu_seconds() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_task(task: Task) -> Done:
    """Make one forecast on one native thread (CmdStan's child process counts in ``cpu``)."""
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    quiet_logs()
    t0, c0 = time.perf_counter(), _cpu_seconds()
    error = ""
    try:
        with threadpool_limits(limits=1):
            if task.method.startswith(OURS):
                fc = mashdemand_forecast(task)
            else:
                fc = _peers.cached_forecast(
                    task.history, task.method, task.h, task.freq, task.country, task.cache
                )
    except Exception as exc:  # one failed fit is reported in the table, not fatal to the run
        fc = pd.DataFrame(columns=list(_peers.FORECAST_COLUMNS))
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return Done(task, fc, time.perf_counter() - t0, _cpu_seconds() - c0, error)


def quiet_logs() -> None:
    """Silence Prophet's and CmdStan's per-fit chatter."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).disabled = True


def run_tasks(tasks: list[Task], jobs: int) -> list[Done]:
    """Run tasks in ``jobs`` joblib processes (slowest kinds first), or in process if 1."""
    order = {"mashdemand": 0, "mashdemand+pop": 0, "AutoARIMA": 1, "Prophet": 2}
    tasks = sorted(tasks, key=lambda t: (order.get(t.method, 3), -len(t.history)))
    if jobs <= 1 or len(tasks) <= 1:
        return [_logged(run_task(t)) for t in tasks]
    from joblib import Parallel, delayed

    par = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    return [_logged(r) for r in par(delayed(run_task)(t) for t in tasks)]


def _logged(done: Done) -> Done:
    t = done.task
    print(
        f"  {t.dataset} {t.cutoff:%Y-%m-%d} {t.method}: {done.wall:.1f} s wall, "
        f"{done.cpu:.1f} s CPU{' FAILED ' + done.error if done.error else ''}",
        flush=True,
    )
    return done


# --- daily data sets ------------------------------------------------------------------------
@dataclass
class Plan:
    """A daily data set's actuals, cutoffs and how far each cutoff's forecast reaches."""

    dataset: Dataset
    counts: pd.DataFrame
    actual: pd.DataFrame
    reaches: dict[pd.Timestamp, int]


def plan_daily(ds: Dataset, quick: bool) -> Plan:
    """Read a daily file and choose its cutoffs (one window per horizon if ``quick``)."""
    counts = ds.read()
    counts["date"] = pd.to_datetime(counts["date"])
    actual = S.actual_panel(counts, TOTAL)
    if counts["hub"].nunique() == 1:  # the total of one series is that series
        actual = actual[actual[S.UID] != TOTAL]
    first, last = counts["date"].min(), counts["date"].max()
    cuts = S.choose_cutoffs(first, last, windows=1 if quick else 3)
    return Plan(ds, counts, actual, {c: S.reach(c, last) for c in cuts})


def daily_tasks(plan: Plan, peers: Sequence[str], cache: Path | None) -> list[Task]:
    """mashdemand and every peer from each cutoff, on the same latest five years."""
    tasks = []
    for cut, h in plan.reaches.items():
        start = cut - pd.Timedelta(days=MAX_HISTORY_DAYS - 1)
        c = plan.counts
        hist = c[(c["date"] <= cut) & (c["date"] >= start)].reset_index(drop=True)
        act = plan.actual[plan.actual[S.DS] >= start]
        peer_hist = S.interpolated_history(act, cut, TOTAL)
        ds = plan.dataset
        tasks.append(Task(ds.name, OURS, cut, h, "day", hist, calendar=ds.calendar))
        for method in peers:
            key = _peers.history_key(peer_hist, method, h, "day", ds.prophet_country)
            path = (
                _peers.cache_path(cache, f"{ds.name}_{cut:%Y%m%d}", method, key) if cache else None
            )
            tasks.append(
                Task(ds.name, method, cut, h, "day", peer_hist, ds.prophet_country, cache=path)
            )
    return tasks


def daily_points(plan: Plan, results: list[Done]) -> pd.DataFrame:
    """Every method's scored days of one data set (see :func:`_suite.scored_points`)."""
    frames = [
        S.scored_points(fc, plan.actual, t.cutoff, t.method)
        for t, fc, *_, error in results
        if t.dataset == plan.dataset.name and not error
    ]
    return pd.concat(frames, ignore_index=True)


def score_daily(plan: Plan, points: pd.DataFrame) -> tuple[list[dict], pd.DataFrame]:
    """MASE rows (h = 91, 365 days; 24 monthly totals) and bucket coverage of one data set."""
    rows = []
    series = plan.actual[S.UID].nunique()
    for h in S.DAILY_HORIZONS:
        pts = S.reaching(points, h, plan.reaches)
        windows = pts[CUTOFF].nunique()
        if windows:
            rows.append(
                _row(
                    plan.dataset.title,
                    f"daily h={h}",
                    series,
                    windows,
                    S.daily_mase(pts, plan.actual),
                )
            )
    long = [c for c in plan.reaches if S.months_reached(c, plan.reaches[c]) >= S.MONTHS]
    if long:
        pts = points[points[CUTOFF].isin(long)]
        rows.append(
            _row(
                plan.dataset.title,
                "monthly 24",
                series,
                len(long),
                S.monthly_mase(pts, plan.actual),
            )
        )
    cov = S.bucket_coverage(points).assign(dataset=plan.dataset.title)
    return rows, cov


def _row(dataset: str, horizon: str, series: int, windows: int, mase: pd.Series) -> dict:
    return {
        "dataset": dataset,
        "horizon": horizon,
        "series": series,
        "windows": windows,
        "mase": mase,
    }


# --- DfE referrals, financial years ---------------------------------------------------------
def read_dfe() -> tuple[pd.DataFrame, str]:
    """Referrals per authority and FY: suppressed values and part-span authorities dropped."""
    d = pd.read_csv(DFE, dtype=str)
    d = d[d["geographic_level"] == "Local authority"].copy()
    d["fy"] = d["time_period"].astype(int) - 1  # 2025 = 2024-25, starts 1 April 2024
    d["n"] = pd.to_numeric(d["referral_count"], errors="coerce")
    bad = set(d.loc[d["n"].isna(), "new_la_code"].unique())
    years = d["fy"].nunique()
    nyears = d.groupby("new_la_code")["fy"].nunique()
    partial = set(nyears[nyears < years].index)
    keep = d[~d["new_la_code"].isin(bad | partial)]
    counts = pd.DataFrame(
        {
            "hub": keep["new_la_code"].str.lower(),
            "date": pd.to_datetime(keep["fy"].astype(str) + "-04-01"),
            "contacts": keep["n"].astype("int64"),
        }
    )
    note = (
        f"{d['new_la_code'].nunique()} authorities; dropped {len(bad)} with suppressed values "
        f"and {len(partial - bad)} more without all {years} years; kept "
        f"{counts['hub'].nunique()} + ALL"
    )
    return counts.sort_values(["hub", "date"]).reset_index(drop=True), note


def read_population(hubs: Sequence[str]) -> pd.DataFrame:
    """ONS 0-17 population estimates per authority, as a ``population`` driver frame."""
    p = pd.read_csv(ONS, dtype=str)
    p = p[p["geographic_level"] == "Local authority"]
    p = p.assign(hub=p["new_la_code"].str.lower())
    p = p[p["hub"].isin(set(hubs))]
    return pd.DataFrame(
        {
            "hub": p["hub"],
            "year": p["time_period"].astype(int),
            "age_band": "0-17",
            "population": pd.to_numeric(p["population_estimate"], errors="coerce"),
            "kind": "estimate",
            "variant": "principal",
        }
    ).dropna()


def dfe_tasks(counts: pd.DataFrame, quick: bool, peers: Sequence[str], cache: Path | None):
    """mashdemand (with and without population) and the annual peers from each FY cutoff."""
    from mashdemand.forecast.api import build_panel

    panel = build_panel(counts)
    pop = read_population(counts["hub"].unique())
    cuts = [pd.Timestamp(c) for c in (DFE_CUTOFFS[-1:] if quick else DFE_CUTOFFS)]
    tasks = []
    for cut in cuts:
        hist = counts[counts["date"] <= cut].reset_index(drop=True)
        tasks.append(Task("dfe", OURS, cut, DFE_H, "fy", hist))
        tasks.append(Task("dfe", f"{OURS}+pop", cut, DFE_H, "fy", hist, population=pop))
        ph = panel[panel[S.DS] <= cut]
        for method in peers:
            if method == "MSTL":
                continue
            key = _peers.history_key(ph, method, DFE_H, "fy", None)
            path = _peers.cache_path(cache, f"dfe_{cut:%Y%m%d}", method, key) if cache else None
            tasks.append(Task("dfe", method, cut, DFE_H, "fy", ph, cache=path))
    return panel, tasks


def score_dfe(panel: pd.DataFrame, results: list[Done]) -> tuple[list[dict], pd.DataFrame]:
    """FY MASE at h = 4 (m = 1, each window scaled by its own history) and FY coverage."""
    frames = []
    for t, fc, *_, error in results:
        if t.dataset != "dfe" or error:
            continue
        d = fc.merge(panel, on=[S.UID, S.DS], how="inner")
        d[CUTOFF] = t.cutoff
        d[HORIZON] = d[S.DS].dt.year - t.cutoff.year
        d[MODEL] = t.method
        frames.append(d[(d[HORIZON] >= 1) & (d[HORIZON] <= DFE_H)])
    pts = pd.concat(frames, ignore_index=True)
    mase = evaluate(pts, panel, 1, level=()).overall.set_index(MODEL)["mase"]
    row = _row(
        "DfE referrals", f"FY h={DFE_H}", panel[S.UID].nunique(), pts[CUTOFF].nunique(), mase
    )
    cov = S.bucket_coverage(pts, [(1, DFE_H)]).assign(dataset="DfE referrals")
    cov["bucket"] = f"FY 1-{DFE_H}"
    return [row], cov


# --- tables ---------------------------------------------------------------------------------
def suite_table(rows: list[dict], cov: pd.DataFrame, peers: Sequence[str]) -> pd.DataFrame:
    """One row per data set and horizon: MASE of every method, best peer, ratio, coverage."""
    out = []
    for r in rows:
        best, best_mase, ratio = S.ratio_to_best(r["mase"], OURS, peers)
        rec = {k: r[k] for k in ("dataset", "horizon", "series", "windows")}
        rec[OURS] = r["mase"].get(OURS, np.nan)
        rec["best peer"] = f"{best} {best_mase:.3f}" if best else ""
        rec["ratio"] = ratio
        for p in peers:
            rec[p] = r["mase"].get(p, np.nan)
        if f"{OURS}+pop" in r["mase"].index:
            rec[f"{OURS}+pop"] = r["mase"][f"{OURS}+pop"]
        rec["cov80/95 by bucket"] = _coverage_cell(cov, r["dataset"], r["horizon"])
        out.append(rec)
    return pd.DataFrame(out)


def _buckets_of(horizon: str) -> list[str]:
    if horizon.startswith("FY"):
        return [f"FY 1-{DFE_H}"]
    if horizon == "daily h=91":
        return ["1-91"]
    if horizon == "daily h=365":
        return ["1-91", "92-365"]
    return [S.bucket_name(b) for b in S.BUCKETS]


def _coverage_cell(cov: pd.DataFrame, dataset: str, horizon: str) -> str:
    c = cov[(cov["dataset"] == dataset) & (cov[MODEL] == OURS)].set_index("bucket")
    parts = [
        f"{b}: {c.loc[b, 'cov80']:.2f}/{c.loc[b, 'cov95']:.2f}"
        for b in _buckets_of(horizon)
        if b in c.index
    ]
    return "; ".join(parts)


def coverage_table(cov: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Per data set and bucket, each method's ``cov80 / cov95 / width80`` in one cell."""
    cov = cov.copy()
    cov["cell"] = [
        f"{a:.2f} / {b:.2f} / {w:.2f}"
        for a, b, w in zip(cov["cov80"], cov["cov95"], cov["width80"], strict=True)
    ]
    wide = cov.pivot_table(
        index=["dataset", "bucket"], columns=MODEL, values="cell", aggfunc="first", sort=False
    )
    n = cov[cov[MODEL] == OURS].set_index(["dataset", "bucket"])["n"]
    wide.insert(0, "days", n.reindex(wide.index))
    cols = ["days", *[m for m in methods if m in wide.columns]]
    return wide[cols].reset_index()


def verdict(table: pd.DataFrame, cov: pd.DataFrame) -> list[str]:
    """Section 2 of issue 11, cell by cell: what is met and which cells miss."""
    daily = table[~table["horizon"].str.startswith("FY")]
    fy = table[table["horizon"].str.startswith("FY")]
    miss_ratio = [
        f"{r.dataset} {r.horizon} {r.ratio:.3f}"
        for r in daily.itertuples()
        if r.ratio > TARGET_RATIO
    ]
    mean_ratio = float(table["ratio"].mean())
    miss_fy = [f"{r.dataset} {r.ratio:.3f}" for r in fy.itertuples() if r.ratio > TARGET_FY_RATIO]
    ours = cov[cov[MODEL] == OURS]
    miss_cov = []
    for r in ours.itertuples():
        for lv, (lo, hi) in TARGET_COV.items():
            v = getattr(r, f"cov{lv}")
            if not lo <= v <= hi:
                miss_cov.append(f"{r.dataset} {r.bucket} cov{lv} {v:.2f}")

    def line(label: str, misses: list[str]) -> str:
        return f"- {label}: " + ("**met**" if not misses else "**NOT met**: " + "; ".join(misses))

    return [
        line(f"every daily/monthly ratio <= {TARGET_RATIO}", miss_ratio),
        line(
            f"mean ratio <= {TARGET_MEAN_RATIO} (is {mean_ratio:.3f})",
            [] if mean_ratio <= TARGET_MEAN_RATIO else [f"{mean_ratio:.3f}"],
        ),
        line("cov80 in 0.75-0.85 and cov95 in 0.92-0.97 per bucket", miss_cov),
        line(f"FY ratio <= {TARGET_FY_RATIO}", miss_fy),
    ]


def fit_seconds(results: list[Done]) -> pd.DataFrame:
    """Wall and CPU seconds per data set and method, summed over cutoffs."""
    recs = [
        (
            DATASETS[d.task.dataset].title if d.task.dataset in DATASETS else "DfE referrals",
            d.task.method,
            d.wall,
            d.cpu,
        )
        for d in results
    ]
    frame = pd.DataFrame(recs, columns=["dataset", "method", "seconds", "cpu_seconds"])
    return frame.groupby(["dataset", "method"], as_index=False, sort=False).sum()


def long_table(rows: list[dict], cov: pd.DataFrame, seconds: pd.DataFrame) -> pd.DataFrame:
    """The CSV: one row per data set x horizon (or bucket) x method x metric."""
    recs = []
    for r in rows:
        for method, v in r["mase"].items():
            recs.append((r["dataset"], r["horizon"], method, "mase", float(v)))
            recs.append((r["dataset"], r["horizon"], method, "windows", r["windows"]))
    for c in cov.itertuples():
        for metric in ("cov80", "cov95", "width80", "n"):
            recs.append((c.dataset, c.bucket, getattr(c, MODEL), metric, float(getattr(c, metric))))
    for s in seconds.itertuples():
        recs.append((s.dataset, "all", s.method, "seconds", float(s.seconds)))
        recs.append((s.dataset, "all", s.method, "cpu_seconds", float(s.cpu_seconds)))
    return pd.DataFrame(recs, columns=["dataset", "horizon", "method", "metric", "value"])


# --- speed (issue 11, section 2) ------------------------------------------------------------
def _busy(n: int) -> list[subprocess.Popen]:
    code = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def speed_cases() -> dict[str, Callable[[], object]]:
    """(a) the sample force to 31/12/2026, (b) SAMU 67's last five years one year ahead."""
    from mashdemand.forecast.api import forecast

    sample = read_sample()
    samu = DATASETS["samu"].read()
    samu = samu[samu["hub"] == "fr-samu-67-bas-rhin"]
    last = samu["date"].max()
    samu = samu[samu["date"] > last - pd.DateOffset(years=5)].reset_index(drop=True)
    until = last + pd.Timedelta(days=365)
    kw = calendar_kwargs("FR")
    return {
        "sample": lambda: forecast(sample, until="2026-12-31"),
        "series": lambda: forecast(samu, until=until, **kw),
    }


def speed_table() -> pd.DataFrame:
    """Wall seconds of each case idle and beside two busy CPU-bound processes."""
    warnings.filterwarnings("ignore")
    quiet_logs()
    rows = []
    for name, fn in speed_cases().items():
        load = os.getloadavg()[0]
        idle = _timed(fn)
        procs = _busy(2)
        try:
            time.sleep(0.5)
            busy = _timed(fn)
        finally:
            for p in procs:
                p.kill()
                p.wait()
        goal = SPEED_GOALS[name]
        rows.append(
            {
                "case": {
                    "sample": "9-hub sample to 31/12/2026 (default, with backtest)",
                    "series": "SAMU 67, last 5 years, 365 days ahead",
                }[name],
                "idle s": round(idle, 1),
                "beside 2 busy s": round(busy, 1),
                "busy / idle": round(busy / idle, 2),
                "load avg before": round(load, 1),
                "goal": f"<= {goal:.0f} s idle, <= 1.5x busy",
                "met": "yes" if idle <= goal and busy <= 1.5 * idle else "NO",
            }
        )
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


QUICK = "**Quick run** (one window per horizon). "


# --- the run --------------------------------------------------------------------------------
def header(args: argparse.Namespace, total: float, notes: list[str]) -> str:
    """Machine, versions, date (UK), total time and how to run."""
    return (
        "# Forecast benchmark suite (issue 11)\n\n"
        f"Run {time.strftime('%d/%m/%Y %H:%M')} on {platform.machine()}, {os.cpu_count()} cores "
        f"(shared), Python {platform.python_version()}, pandas {pd.__version__}, statsforecast "
        f"{_version('statsforecast')}, prophet {_version('prophet')}, statsmodels "
        f"{_version('statsmodels')}, scikit-learn {_version('scikit-learn')}, mashdemand "
        f"{_version('mashdemand')}. {QUICK if args.quick else ''}"
        f"Total {total / 60:.1f} min with --jobs {args.jobs}"
        f"{' (peer cache off)' if args.no_cache else ''}. Run: `python benchmarks/forecast.py "
        "[--datasets wales,samu,bristol,pedestrians,sample,dfe] [--quick] [--jobs N] "
        "[--no-cache] [--no-speed]`.\n\n" + "".join(f"- {n}\n" for n in notes) + "\n"
    )


NOTES = [
    "Rolling origin at month-end cutoffs; each method forecasts once per cutoff as far as the "
    "data go (at most 730 days; 731 when the 24 months after the cutoff hold 29 February, so "
    "that they are complete) and that forecast is scored at every horizon. Cutoffs step back "
    "3 months until each horizon has 3 windows, keeping at least one year of history; fewer "
    "windows where the span does not allow (column `windows`).",
    "Every method sees the same latest five years (at most) up to the cutoff. mashdemand gets "
    "the file as it is (`forecast()` fills absent days itself: zero for a small series, "
    "estimated as a gap in a busy one); peers get missing days linearly "
    "interpolated (the total rebuilt from the interpolated series). Days missing from a file "
    "are never scored; the total ALL is scored only on days where every series has a count.",
    "MASE: `mashdemand.forecast.metrics.evaluate`, absolute error over the in-sample seasonal "
    "naive MAE up to each cutoff (m = 7 daily), pooled over series, cutoffs and days. `daily "
    "h=N`: days 1-N of forecasts reaching N days. `monthly 24`: the daily forecast summed to "
    "calendar months (complete months only), months 1-24 after the cutoff's month, scaled by "
    "the in-sample monthly seasonal naive (m = 12). `FY h=4`: annual, m = 1.",
    "Coverage is scored on daily buckets only (1-91, 92-365, 366-730 days after the cutoff), "
    "not on monthly totals (that would need a second, monthly fit). cov80/cov95: share of "
    "actual days inside the 80%/95% interval; width: mean (hi80 - lo80) / yhat.",
    "Peers: SeasonalNaive (m = 7; naive for FY), statsforecast AutoETS (season 7), AutoARIMA "
    f"(season 7, on the latest {_peers.ARIMA_DAYS} days), MSTL (seasons 7 and 365, default "
    "trend model), Prophet (yearly + weekly seasonality, `add_country_holidays`: UK for "
    "Wales, Bristol and the sample, FR for SAMU, AU for the Melbourne pedestrians; no "
    "seasonality for FY), each with its own 80/95% intervals (statsforecast level=[80, 95]; "
    "Prophet's predictive-sample quantiles). Peer forecasts are cached in "
    f"`{CACHE}` keyed by a hash of method, settings and history.",
    "mashdemand: `forecast(history, until=cutoff + h)`, defaults, with the file's calendar "
    "(`calendar=` england-and-wales, FR, AU) when the engine takes one. One series "
    "(pedestrians): its ALL is the series itself and is not scored twice.",
]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--datasets", default="wales,samu,bristol,pedestrians,sample,dfe")
    ap.add_argument("--quick", action="store_true", help="one window per horizon (smoke run)")
    ap.add_argument("--jobs", type=int, default=2, help="joblib processes across tasks")
    ap.add_argument("--no-cache", action="store_true", help="refit the peers")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed section")
    ap.add_argument("--cache-dir", type=Path, default=CACHE)
    ap.add_argument("--out", type=Path, default=OUT, help="folder for forecast.md and .csv")
    ap.add_argument("--points", type=Path, help="also save every scored day here (parquet)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    quiet_logs()
    t_start = time.perf_counter()
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in (*DATASETS, "dfe")]
    if unknown:
        raise SystemExit(f"forecast.py: error: unknown data set(s) {', '.join(unknown)}")
    cache = None if args.no_cache else args.cache_dir
    peers = _peers.PEERS
    plans = [plan_daily(DATASETS[n], args.quick) for n in names if n in DATASETS]
    tasks = [t for p in plans for t in daily_tasks(p, peers, cache)]
    notes = list(NOTES)
    for p in plans:
        cuts = ", ".join(f"{c:%d/%m/%Y} ({h} d)" for c, h in p.reaches.items())
        notes.append(f"{p.dataset.title}: cutoffs (days forecast) {cuts}.")
    dfe_panel = None
    if "dfe" in names:
        counts, note = read_dfe()
        dfe_panel, more = dfe_tasks(counts, args.quick, peers, cache)
        tasks += more
        cuts = ", ".join(
            f"FY {t.cutoff.year}-{str(t.cutoff.year + 1)[-2:]}" for t in more if t.method == OURS
        )
        notes.append(
            f"DfE referrals: {note}; cutoffs {cuts}, h = {DFE_H} years; `{OURS}+pop` adds ONS "
            "0-17 estimates as the population driver (actuals, i.e. a perfect projection)."
        )
    print(f"{len(tasks)} forecasts to make ({args.jobs} processes)", flush=True)
    results = run_tasks(tasks, args.jobs)
    notes += [
        f"**FAILED** (not scored, so that method has fewer windows): {d.task.dataset} "
        f"{d.task.cutoff:%d/%m/%Y} {d.task.method}: {d.error}"
        for d in results
        if d.error
    ]

    rows, covs, kept = [], [], []
    for p in plans:
        points = daily_points(p, results)
        kept.append(points.assign(dataset=p.dataset.name))
        r, c = score_daily(p, points)
        rows += r
        covs.append(c)
    if args.points:
        args.points.parent.mkdir(parents=True, exist_ok=True)
        pd.concat(kept, ignore_index=True).to_parquet(args.points, index=False)
    if dfe_panel is not None:
        r, c = score_dfe(dfe_panel, results)
        rows += r
        covs.append(c)
    cov = pd.concat(covs, ignore_index=True)
    seconds = fit_seconds(results)
    table = suite_table(rows, cov, peers)
    methods = [OURS, f"{OURS}+pop", *peers]
    cov_tab = coverage_table(cov, methods)
    lines = verdict(table, cov)
    speed = None if args.no_speed else speed_table()
    total = time.perf_counter() - t_start
    write(args, total, notes, table, cov_tab, lines, seconds, speed, long_table(rows, cov, seconds))


def write(args, total, notes, table, cov_tab, lines, seconds, speed, long) -> None:
    """Print the tables and write ``forecast.md`` and ``forecast.csv``."""
    cells = seconds.assign(
        cell=[
            f"{w:.0f} / {c:.0f}"
            for w, c in zip(seconds["seconds"], seconds["cpu_seconds"], strict=True)
        ]
    )
    secs = cells.pivot_table(
        index="dataset", columns="method", values="cell", aggfunc="first", sort=False
    )
    parts = [
        header(args, total, notes),
        "## MASE by data set and horizon\n\n",
        "`ratio` = mashdemand / best peer (below 1: mashdemand wins). Coverage columns: "
        "mashdemand's 80%/95% coverage per daily bucket.\n\n",
        markdown_table(table.round(3).astype(object).fillna("")),
        "\n\n## Verdict (issue 11, section 2)\n\n",
        "\n".join(lines),
        "\n\n## Coverage per bucket (cov80 / cov95 / width80)\n\n",
        markdown_table(cov_tab.astype(object).fillna("")),
        "\n\n## Seconds per data set, wall / CPU (all cutoffs; a cached peer costs only its "
        "read)\n\n",
        markdown_table(secs.reset_index().astype(object).fillna("")),
        "\n",
    ]
    if speed is not None:
        parts += [
            "\n## Speed (issue 11, section 2)\n\n",
            "Default `forecast()` with its backtest, in this process; busy = beside two "
            '`python -c "while True: pass"` processes on this 2-core machine. The machine is '
            "shared: `load avg before` is the 1-minute load average when the idle run started "
            "(above 0: other work was running).\n\n",
            markdown_table(speed),
            "\n",
        ]
        long = pd.concat(
            [
                long,
                pd.DataFrame(
                    [
                        (f"speed {r['case']}", kind, OURS, "seconds", r[col])
                        for r in speed.to_dict("records")
                        for kind, col in (("idle", "idle s"), ("busy", "beside 2 busy s"))
                    ],
                    columns=long.columns,
                ),
            ],
            ignore_index=True,
        )
    text = "".join(parts)
    print(text, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "forecast.md").write_text(text, encoding="utf-8")
    long.to_csv(args.out / "forecast.csv", index=False)
    print(f"wrote {args.out / 'forecast.md'} and forecast.csv ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()

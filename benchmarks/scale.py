"""Benchmark: a synthetic nation's forecast, with backtest, on one and two local processes and
on a two-worker Dask LocalCluster (issue 13).

A nation of ``--hubs`` hubs (default 150) x 4 priorities: daily contacts over ``--years``
years (default 8) to the end of the latest complete quarter, from
:func:`mashdemand.sample.nation_daily_counts` (the nine Thames Valley hubs and synthetic hubs
of varied size and growth). Each configuration forecasts the whole nation a year ahead by hub
and priority, default models and rolling-origin backtest, in a fresh process:

1. ``local 1``: the local engine, one process (everything in the main process);
2. ``local 2``: the local engine, two worker processes;
3. ``dask 2``: a ``distributed.LocalCluster`` of two single-threaded worker processes on
   loopback (``--engine dask``).

Each run's forecast is hashed: the three must be identical. Peak memory is sampled every
0.2 s (psutil) for the main process and each worker process.

Prints a table and writes ``reports/benchmarks/scale.md`` (and ``.csv``). Goal (issue 13): two
workers at least 1.8x as fast as one, the whole run (every series, backtest included) under
15 minutes.

Run: ``python benchmarks/scale.py [--hubs 150] [--years 8] [--only local-2]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import _version, markdown_table  # noqa: E402

CONFIGS: dict[str, tuple[str, int]] = {
    "local-1": ("local", 1),
    "local-2": ("local", 2),
    "dask-2": ("dask", 2),
}

# One configuration, in a fresh process: argv = counts parquet, until, engine, workers.
RUN = r"""
import hashlib, json, os, resource, sys, threading, time
import pandas as pd
import psutil


def main():
    import mashdemand as md

    path, until, kind, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    daily = pd.read_parquet(path)
    me = psutil.Process()
    peaks, stop = {}, threading.Event()

    def sample():
        while not stop.is_set():
            for p in me.children(recursive=True):
                try:
                    rss = p.memory_info().rss
                    if "python" in " ".join(p.cmdline()[:1]).lower():
                        peaks[p.pid] = max(peaks.get(p.pid, 0), rss)
                except psutil.Error:
                    pass
            stop.wait(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    with md.use_engine(kind, n_jobs=workers) as eng:
        result = md.forecast(daily, until=until, by=["priority"])
        log, walls = list(eng.log), list(eng.walls)
    seconds = time.perf_counter() - t0
    from mashdemand.forecast.models import MODELS, make_model

    pooled = {k for k in MODELS if not make_model(k).per_series}
    task_s = [t for _, _, t in log]
    pooled_s = [t for _, name, t in log if name.split(" ")[0] in pooled]
    longest = max(log, key=lambda r: r[2]) if log else ("", "", 0.0)
    stop.set()
    watcher.join()
    frame = result.frame
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values).hexdigest()
    ids = frame[["hub", "priority"]].drop_duplicates()
    bottom = ids[(ids["hub"] != "ALL") & (ids["priority"] != "ALL")]
    main_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Dask: the nanny processes hold no data; the workers are the largest children.
    worker_mb = sorted((v / 2**20 for v in peaks.values()), reverse=True)[: max(workers, 1)]
    print(json.dumps({
        "seconds": seconds,
        "series": len(ids),
        "bottom_series": len(bottom),
        "rows_in": len(daily),
        "main_peak_mb": main_mb,
        "worker_peak_mb": max(worker_mb) if workers > 1 and worker_mb else main_mb,
        "digest": digest[:16],
        "mase": float(result.backtest.overall.set_index("model").loc["ensemble", "mase"]),
        "tasks": len(log),
        "task_seconds": sum(task_s),
        "pooled_task_seconds": sum(pooled_s),
        "longest_task_seconds": longest[2],
        "longest_task": longest[1],
        "engine_wall_seconds": sum(w for _, _, w in walls),
    }))


if __name__ == "__main__":
    main()
"""


def run_config(script: Path, counts: Path, until: str, kind: str, workers: int) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, str(script), str(counts), until, kind, str(workers)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise SystemExit(f"{kind} {workers}: failed: {' | '.join(tail)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: (series, workers) the projection is made for.
PROJECTED: tuple[tuple[int, int], ...] = (
    (10_000, 8), (10_000, 32), (100_000, 64), (100_000, 256),
)  # fmt: skip
#: Series per pooled fit when the pooled model is fitted in blocks (docs/scaling.md, change 1).
BLOCK = 1_000


def projection(table: pd.DataFrame) -> pd.DataFrame:
    """Time and memory for more series, from the measured per-series costs.

    From the one-process run: the driver's serial seconds per series, the task seconds per
    series (all models, all windows) and the longest task per series (the pooled model's final
    fit over every series: the critical path). From the Dask run (a cluster runs Dask; else
    the fastest run with workers): how much slower a task runs on a worker, and the worker's
    peak memory, which the pooled fit sets and which grows with its rows. Linear in series
    throughout, which the measurements support only up to the nation measured.
    """
    one = table[table["workers"] == 1].iloc[0]
    many = table[table["workers"] > 1]
    dask = many[many["config"].str.startswith("dask")]
    two = (dask if len(dask) else many.sort_values("seconds")).iloc[0]
    n0 = float(one["series"])
    driver = one["driver_seconds"] / n0
    task = one["task_seconds"] / n0 * (two["task_seconds"] / one["task_seconds"])
    critical = one["longest_task_seconds"] / n0
    worker_mb, main_mb = two["worker_peak_mb"] / n0, two["main_peak_mb"] / n0
    rows = []
    for n, w in PROJECTED:
        for design, pool in (("as now", n), (f"pooled in blocks of {BLOCK:,}", min(n, BLOCK))):
            seconds = driver * n + max(task * n / w, critical * pool)
            rows.append(
                {
                    "series": f"{n:,}",
                    "workers": w,
                    "design": design,
                    "hours": round(seconds / 3600, 2),
                    "driver_hours": round(driver * n / 3600, 2),
                    "critical_path_hours": round(critical * pool / 3600, 2),
                    "worker_peak_gb": round(worker_mb * pool / 1024, 1),
                    "driver_peak_gb": round(main_mb * n / 1024, 1),
                }
            )
    return pd.DataFrame(rows)


def write_projection(table: pd.DataFrame) -> str:
    proj = projection(table)
    text = (
        "# Scale projection\n\n"
        "From `reports/benchmarks/scale.csv` (`python benchmarks/scale.py --project`): per-series "
        "costs of the measured nation, scaled linearly; `design` is the code as it is, or with "
        "the pooled model fitted in blocks (docs/scaling.md). hours = driver (serial) + the "
        "larger of the tasks spread over the workers and the longest single task.\n\n"
        + markdown_table(proj)
        + "\n"
    )
    (OUT / "scale_projection.md").write_text(text, encoding="utf-8")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hubs", type=int, default=150)
    ap.add_argument("--years", type=int, default=8)
    ap.add_argument("--seed", type=int, default=20170101)
    ap.add_argument("--only", help="comma-separated configurations: local-1,local-2,dask-2")
    ap.add_argument("--no-write", action="store_true", help="print only (a trial run)")
    ap.add_argument(
        "--project", action="store_true", help="only the projection, from the saved table"
    )
    args = ap.parse_args()
    if args.project:
        print(write_projection(pd.read_csv(OUT / "scale.csv")))
        return

    from mashdemand.sample import default_end, nation_daily_counts

    end = default_end()
    start = (end - pd.DateOffset(years=args.years) + pd.Timedelta(days=1)).normalize()
    until = (end + pd.DateOffset(years=1)).strftime("%Y-%m-%d")
    t0 = time.perf_counter()
    daily = nation_daily_counts(args.hubs, seed=args.seed, start=start, end=end)
    made = time.perf_counter() - t0
    print(
        f"nation: {args.hubs} hubs, {len(daily):,} hub-priority-days "
        f"{start:%d/%m/%Y}-{end:%d/%m/%Y}, {daily['contacts'].sum():,.0f} contacts "
        f"({made:.1f} s); forecast to {pd.Timestamp(until):%d/%m/%Y}",
        flush=True,
    )
    names = args.only.split(",") if args.only else list(CONFIGS)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "nation.parquet"
        daily.to_parquet(counts, index=False)
        script = Path(tmp) / "run.py"
        script.write_text(RUN)
        for name in names:
            kind, workers = CONFIGS[name]
            print(f"{name}: running...", flush=True)
            r = run_config(script, counts, until, kind, workers)
            r.update(config=name, engine=kind, workers=workers)
            print(f"{name}: {r['seconds']:.0f} s, digest {r['digest']}", flush=True)
            rows.append(r)
    table = pd.DataFrame(rows)
    one = table.loc[table["config"] == "local-1", "seconds"]
    base = float(one.iloc[0]) if len(one) else float("nan")
    table["series_per_min"] = table["bottom_series"] / (table["seconds"] / 60)
    table["driver_seconds"] = table["seconds"] - table["engine_wall_seconds"]
    table["speedup"] = base / table["seconds"]
    table["efficiency"] = table["speedup"] / table["workers"]
    same = table["digest"].nunique() == 1
    table["identical"] = "yes" if same else "NO"
    table["goal"] = [
        "reference" if w == 1 else ">= 1.8x local-1, < 15 min" for w in table["workers"]
    ]
    table["met"] = [
        "" if w == 1 else ("yes" if s >= 1.8 and t < 900 else "no")
        for w, s, t in zip(table["workers"], table["speedup"], table["seconds"], strict=True)
    ]
    cols = [
        "config", "workers", "bottom_series", "series", "seconds", "series_per_min", "speedup",
        "efficiency", "main_peak_mb", "worker_peak_mb", "mase", "identical", "goal", "met",
    ]  # fmt: skip
    costs = table[
        ["config", "tasks", "task_seconds", "pooled_task_seconds", "longest_task_seconds",
         "longest_task", "engine_wall_seconds", "driver_seconds"]
    ].round(1)  # fmt: skip
    costs["longest_task"] = costs["longest_task"].str.replace("|", "/")  # a markdown cell
    table = table[cols].round(
        {"seconds": 1, "series_per_min": 1, "speedup": 2, "efficiency": 2, "main_peak_mb": 0,
         "worker_peak_mb": 0, "mase": 3}
    )  # fmt: skip
    import mashdemand

    head = (
        f"A synthetic nation of {args.hubs} hubs x 4 priorities ({table['bottom_series'].iloc[0]} "
        f"daily series, {table['series'].iloc[0]} with the hub, priority and national totals), "
        f"{args.years} years to {end:%d/%m/%Y} ({len(daily):,} series-days); default models "
        f"(seasonal naive, ETS, pooled gradient boosting) with rolling-origin backtest, "
        f"forecast to {pd.Timestamp(until):%d/%m/%Y}. Each configuration in a fresh process; "
        f"series_per_min counts the {table['bottom_series'].iloc[0]} bottom series; peak = "
        f"resident set size sampled every 0.2 s. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, mashdemand "
        f"{mashdemand.__version__}, pandas {pd.__version__}, "
        f"distributed {_version('distributed')}. "
        f"Run {pd.Timestamp.now(tz='Europe/London'):%d/%m/%Y %H:%M}."
    )
    md = (
        "# Scale benchmark\n\n" + head + "\n\n" + markdown_table(table) + "\n\n"
        "Where the time goes: task_seconds is the sum of every task's run time in its worker "
        "(pooled_task_seconds: the pooled gradient-boosting fits, one task per backtest window "
        "and one final fit), engine_wall_seconds the wall time of the engine runs, "
        "driver_seconds the rest (reading, features, weighting, calibration, reconciliation: "
        "serial, in the main process).\n\n" + markdown_table(costs) + "\n"
    )
    print(md)
    if not args.no_write:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "scale.md").write_text(md, encoding="utf-8")
        table.merge(costs, on="config").to_csv(OUT / "scale.csv", index=False)
        print(f"wrote {OUT / 'scale.md'}")
        if (table["workers"] == 1).any() and (table["workers"] > 1).any():
            print(write_projection(table.merge(costs, on="config")))


if __name__ == "__main__":
    main()

"""One hold-out at the end of each real daily series: today's engine against the adjusted one.

For each data set the last ``H`` days (365; 182 for the short Bristol series) are held out;
``mashdemand.forecast(history to cutoff, until=cutoff + H)`` is run once per variant of the
calendar and exposure step (:mod:`mashdemand.forecast.adjust`), and scored on every series
including ``ALL``:

- daily MASE (:func:`mashdemand.forecast.metrics.evaluate`, ``m = 7``, scaled by the history
  to the cutoff) and 80% coverage;
- the mean absolute error of calendar-month totals over the full months held out [% of
  actual], and their mean signed error (bias) [%].

Variants (``--variants``): ``today`` (no step), ``h4`` (the shipped defaults of
:data:`~mashdemand.forecast.adjust.ADJUSTED_BY_FREQ` and ``ADDED_BY_FREQ``), ``all`` (snaive
and ets wrapped in place), ``gbm`` (h4 plus the GBM wrapped, calendar only), ``ets`` (only
ETS wrapped), ``mexp`` (h4, and monthly and weekly snaive, ets and drift wrapped: exposure only).
``--freq month`` scores monthly forecasts (MASE with ``m = 12``) instead.

Run: ``python benchmarks/holdout_quick.py [--datasets wales,samu,bristol,sample]
[--variants today,h4]``. Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import mashdemand.forecast.adjust as adjust
from mashdemand.drivers import read_population
from mashdemand.forecast.api import build_panel, forecast
from mashdemand.forecast.metrics import evaluate

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path("/work/shared/data/benchmarks")
DATASETS: dict[str, tuple[str, int]] = {
    "wales": ("wales_ambulance_lhb.csv", 365),
    "samu": ("fr_samu_alsace_affaires.csv", 365),
    "bristol": ("uk_bnssg_111_paeds_ae.csv", 182),
    "sample": ("", 365),
}
VARIANTS: dict[str, tuple[dict, dict]] = {
    "today": ({}, {}),
    "h4": (dict(adjust.ADJUSTED_BY_FREQ), dict(adjust.ADDED_BY_FREQ)),
    "all": ({"day": ("snaive", "ets")}, {}),
    "gbm": ({"day": ("ets", "gbm")}, {"day": {"snaive_adj": "snaive"}}),
    "ets": ({"day": ("ets",)}, {}),
    "mexp": (
        {"day": ("ets",), "month": ("snaive", "ets", "drift"), "week": ("snaive", "ets")},
        {"day": {"snaive_adj": "snaive"}},
    ),
}


def read(name: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``hub, date, contacts`` daily counts and the population table (sample only)."""
    if name == "sample":
        d = pd.read_csv(ROOT / "data" / "sample" / "daily_counts.csv", parse_dates=["date"])
        d = d.groupby(["hub", "date"], as_index=False)["contacts"].sum()
        return d, read_population(ROOT / "data" / "sample" / "population.csv")
    d = pd.read_csv(BENCH / DATASETS[name][0], parse_dates=["date"])
    return d[["hub", "date", "contacts"]], None


def monthly_errors(
    fc: pd.DataFrame, actual: pd.DataFrame, daily: bool = True
) -> tuple[float, float]:
    """Mean absolute and mean signed error of full calendar-month totals [% of actual]."""
    j = fc.merge(actual, on=["unique_id", "ds"])
    j["month"] = j["ds"].dt.to_period("M")
    if daily:
        days = j.groupby(["unique_id", "month"])["ds"].transform("size")
        j = j[days == j["month"].dt.days_in_month]
    t = j.groupby(["unique_id", "month"])[["yhat", "y"]].sum()
    err = (t["yhat"] - t["y"]) / t["y"]
    return float(100 * err.abs().mean()), float(100 * err.mean())


def run_one(
    name: str, variant: str, jobs: int, freq: str = "day", origin: int = 0
) -> dict[str, float | str]:
    """Forecast the hold-out ``origin`` days before the last one with ``variant``; scores."""
    counts, pop = read(name)
    h = DATASETS[name][1]
    cutoff = counts["date"].max() - pd.Timedelta(days=h + origin)
    counts = counts[counts["date"] <= cutoff + pd.Timedelta(days=h)]
    hist = counts[counts["date"] <= cutoff]
    wrapped, added = VARIANTS[variant]
    adjust.ADJUSTED_BY_FREQ.clear()
    adjust.ADJUSTED_BY_FREQ.update(wrapped)
    adjust.ADDED_BY_FREQ.clear()
    adjust.ADDED_BY_FREQ.update(added)
    t0 = time.perf_counter()
    until = cutoff + pd.Timedelta(days=h)
    res = forecast(hist, until=until, freq=freq, population=pop, n_jobs=jobs)
    secs = time.perf_counter() - t0
    f = res.frame.rename(columns={"hub": "unique_id", "date": "ds"})
    if freq == "day":
        panel, m = build_panel(counts), 7
    else:
        from mashdemand.forecast.counts import aggregate

        panel, m = build_panel(aggregate(counts[counts["date"] <= until], freq)), 12
    actual = panel[panel["ds"] > cutoff]
    cv = f.merge(actual, on=["unique_id", "ds"], how="inner").assign(cutoff=cutoff)
    ev = evaluate(cv, panel[panel["ds"] <= cutoff], m, level=(80,))
    mae_m, bias_m = monthly_errors(f, actual, daily=freq == "day")
    w = res.weights.groupby("model")["weight"].mean().round(2).to_dict()
    return {
        "data": name,
        "origin": origin,
        "variant": variant,
        "mase": round(float(ev.overall["mase"].iloc[0]), 3),
        "cov80": round(float(ev.overall["coverage80"].iloc[0]), 2),
        "month_mae%": round(mae_m, 1),
        "month_bias%": round(bias_m, 1),
        "seconds": round(secs, 1),
        "weights": " ".join(f"{k}={v}" for k, v in w.items()),
    }


def members(
    name: str, specs: dict[str, Callable[[], object]], origin: int = 0
) -> list[dict[str, object]]:
    """Hold-out daily MASE of single members (plain and adjusted), fitted directly.

    ``origin`` moves the cutoff that many days earlier (the hold-out keeps its length).
    """
    from mashdemand.forecast.features import make_features

    counts, pop = read(name)
    h = DATASETS[name][1]
    cutoff = counts["date"].max() - pd.Timedelta(days=h + origin)
    end = cutoff + pd.Timedelta(days=h)
    panel = build_panel(counts)
    feats = make_features(panel[["unique_id", "ds"]], "day", population=pop)
    full = panel.merge(feats, on=["unique_id", "ds"])
    train = full[full["ds"] <= cutoff].reset_index(drop=True)
    fut = full[(full["ds"] > cutoff) & (full["ds"] <= end)].drop(columns="y")
    fut = fut.reset_index(drop=True)
    actual = panel[(panel["ds"] > cutoff) & (panel["ds"] <= end)]
    rows = []
    for label, build in specs.items():
        t0 = time.perf_counter()
        fc = build().fit(train).predict(h, X=fut, level=(80,))
        secs = time.perf_counter() - t0
        cv = fc.merge(actual, on=["unique_id", "ds"]).assign(cutoff=cutoff)
        ev = evaluate(cv, panel[panel["ds"] <= cutoff], 7, level=(80,))
        mae_m, bias_m = monthly_errors(fc, actual)
        rows.append(
            {
                "data": name,
                "origin": origin,
                "member": label,
                "mase": round(float(ev.overall["mase"].iloc[0]), 3),
                "month_mae%": round(mae_m, 1),
                "month_bias%": round(bias_m, 1),
                "seconds": round(secs, 1),
            }
        )
        print(rows[-1], flush=True)
    return rows


def member_specs(names: str) -> dict[str, Callable[[], object]]:
    """``snaive``, ``ets``, ``gbm`` and their adjusted variants (``+adj``) by name."""
    from mashdemand.forecast.models import make_model

    out: dict[str, Callable[[], object]] = {}
    for n in names.split(","):
        base = n.removesuffix("+adj")
        if n.endswith("+adj"):
            out[n] = lambda b=base: adjust._wrap(make_model(b, freq="day"))
        else:
            out[n] = lambda b=base: make_model(b, freq="day")
    return out


def main(argv: list[str] | None = None, runner: Callable = run_one) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="wales,samu,bristol,sample")
    ap.add_argument("--variants", default="today,h4")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--freq", default="day", help="day or month")
    ap.add_argument("--members", default="", help="e.g. snaive,snaive+adj,ets,ets+adj")
    ap.add_argument("--origins", default="0", help="days before the last hold-out, e.g. 0,91")
    args = ap.parse_args(argv)
    rows = []
    if args.members:
        for name in args.datasets.split(","):
            for origin in map(int, args.origins.split(",")):
                rows += members(name, member_specs(args.members), origin)
        table = pd.DataFrame(rows)
        print(table.to_string(index=False))
        mean = table.groupby(["data", "member"], sort=False)[["mase", "month_mae%"]].mean()
        print(mean.round(3).unstack("member").to_string())
        return table
    for name in args.datasets.split(","):
        for origin in map(int, args.origins.split(",")):
            for variant in args.variants.split(","):
                rows.append(runner(name, variant, args.jobs, args.freq, origin))
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    cols = ["mase", "cov80", "month_mae%", "month_bias%", "seconds"]
    print(table.groupby(["data", "variant"], sort=False)[cols].mean().round(3).to_string())
    return table


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

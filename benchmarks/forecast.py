"""Benchmark: mashdemand's forecast ensemble against peer forecasters, rolling origin.

Every method is scored on the same series, the same cutoffs and the same horizon, with
:func:`mashdemand.forecast.metrics.evaluate` (MASE / RMSSE scaled by the in-sample seasonal
naive up to each cutoff; m = 7 daily, 12 monthly, 1 annual). Methods:

- mashdemand: the default ensemble and each member, from ``forecast(...).cv``;
- peers: seasonal naive (a member too), Prophet with England and Wales holidays (mashdemand's
  ``prophet`` adapter), statsforecast AutoETS, AutoARIMA and MSTL, with their own intervals.

Data sets:

1. ``sample``: the sample force (9 hubs + ALL), daily, h = 91, 4 windows 28 days apart; and
   monthly, h = 12 (the horizon cap of ``forecast``'s monthly backtest), 4 windows 3 apart.
2. ``dfe``: DfE children's social care referrals by local authority, financial years; fit to
   2020-21, project 2021-22 to 2024-25 (one cutoff, h = 4); with and without ONS child
   population as a driver (actual estimates, i.e. a perfect population projection).
3. ``pedestrians``: daily pedestrian counts with the COVID break, h = 91, 4 windows.

Goal (issue 3): the default ensemble beats every peer on MASE (by >= 10% on the sample
force) with 80% coverage in 0.75-0.85.

Run: ``python benchmarks/forecast.py [--datasets sample,dfe,pedestrians] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import _version, markdown_table  # noqa: E402

from mashdemand.forecast.api import build_panel, forecast  # noqa: E402
from mashdemand.forecast.backtest import cross_validation  # noqa: E402
from mashdemand.forecast.base import (  # noqa: E402
    DS,
    FREQ_ALIASES,
    LEVELS,
    UID,
    YHAT,
    Forecaster,
    Y,
    finish_forecast,
    interval_columns,
)
from mashdemand.forecast.counts import read_counts  # noqa: E402
from mashdemand.forecast.features import make_features  # noqa: E402
from mashdemand.forecast.metrics import CUTOFF, HORIZON, MODEL, evaluate  # noqa: E402
from mashdemand.forecast.models import make_model  # noqa: E402

DFE = Path("/work/shared/data/dfe_cin_referrals_2013_2025.csv")
ONS = Path("/work/shared/data/ons_child_population_2012_2024.csv")
PEDESTRIANS = Path("/work/shared/data/prophet_pedestrians_covid.csv")
KEYS = [UID, DS, CUTOFF]
COLS = [UID, DS, CUTOFF, HORIZON, Y, YHAT, *interval_columns(LEVELS), MODEL]
MASHDEMAND = ("ensemble", "ETS", "PooledGBM", "Drift")
PEERS = ("SeasonalNaive", "Prophet", "AutoETS", "AutoARIMA", "MSTL")
ARIMA_DAYS = 0  # daily AutoARIMA fits on at most this many latest days (0: all); --arima-days
SEASONS: dict[str, tuple[int, ...] | None] = {"day": (7, 365), "month": (12,), "fy": None}


class StatsForecastModel(Forecaster):
    """A thin adapter: one statsforecast model behind mashdemand's forecaster protocol."""

    def __init__(
        self,
        *,
        kind: str = "AutoETS",
        freq: str = "day",
        season_length: int | None = None,
        seasons: tuple[int, ...] | None = None,
        max_train: int | None = None,
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.kind = kind
        self.seasons = seasons
        self.max_train = max_train

    @property
    def name(self) -> str:
        return self.kind

    def _build(self):
        from statsforecast.models import MSTL, AutoARIMA, AutoETS

        if self.kind == "AutoETS":
            return AutoETS(season_length=self.m)
        if self.kind == "AutoARIMA":
            return AutoARIMA(season_length=self.m)
        if self.kind == "MSTL":
            return MSTL(season_length=list(self.seasons or (self.m,)))
        raise ValueError(self.kind)

    def fit(self, df: pd.DataFrame) -> StatsForecastModel:
        df = df.sort_values([UID, DS])
        if self.max_train:
            df = df.groupby(UID, sort=False).tail(self.max_train)
        self.model_ = df[[UID, DS, Y]].copy()
        self.model_[DS] = self.model_[DS].astype("datetime64[ns]")
        return self

    def predict(
        self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = LEVELS
    ) -> pd.DataFrame:
        from statsforecast import StatsForecast

        sf = StatsForecast(models=[self._build()], freq=FREQ_ALIASES[self.freq], n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = sf.forecast(df=self.model_, h=h, level=list(level))
        fc = fc.reset_index() if UID not in fc.columns else fc
        out = pd.DataFrame({UID: fc[UID].to_numpy(), DS: fc[DS].to_numpy()})
        out[YHAT] = fc[self.kind].to_numpy(dtype=float)
        for lv in level:
            for side in ("lo", "hi"):
                out[f"{side}{lv}"] = fc[f"{self.kind}-{side}-{lv}"].to_numpy(dtype=float)
        out = out.replace([np.inf, -np.inf], np.nan)
        out[YHAT] = out[YHAT].fillna(0.0)
        for c in interval_columns(level):
            out[c] = out[c].fillna(out[YHAT])
        return finish_forecast(out, level)


def peer_models(freq: str, quick: bool) -> dict[str, Forecaster]:
    """Peers for one period; ``quick`` leaves out the slow ones (Prophet, daily AutoARIMA)."""
    peers: dict[str, Forecaster] = {"SeasonalNaive": make_model("snaive", freq)}
    if not quick:
        peers["Prophet"] = make_model("prophet", freq)
    peers["AutoETS"] = StatsForecastModel(kind="AutoETS", freq=freq)
    if not (quick and freq == "day"):
        limit = ARIMA_DAYS if freq == "day" and ARIMA_DAYS > 0 else None
        peers["AutoARIMA"] = StatsForecastModel(kind="AutoARIMA", freq=freq, max_train=limit)
    if SEASONS.get(freq):
        peers["MSTL"] = StatsForecastModel(kind="MSTL", freq=freq, seasons=SEASONS[freq])
    return peers


def with_features(panel: pd.DataFrame, freq: str, population=None) -> pd.DataFrame:
    """The training frame ``forecast`` builds: panel plus calendar (and driver) features."""
    hub_of = {u: u.split("|")[0] for u in panel[UID].unique()}
    feats = make_features(panel[[UID, DS]], freq, hub_of=hub_of, population=population)
    return panel.merge(feats, on=[UID, DS], how="left")


def run_peers(
    train: pd.DataFrame,
    freq: str,
    h: int,
    n_windows: int,
    step: int,
    quick: bool,
    n_jobs: int,
    skip: Sequence[str] = (),
) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    cvs, secs = {}, {}
    for name, model in peer_models(freq, quick).items():
        if name in skip:
            continue
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = cross_validation(
                model, train, h=h, n_windows=n_windows, step=step, level=LEVELS, n_jobs=n_jobs
            )
        secs[name] = time.perf_counter() - t0
        cvs[name] = cv.assign(**{MODEL: name})
        print(f"  {name}: {secs[name]:.1f} s", flush=True)
    return cvs, secs


def score(
    cvs: dict[str, pd.DataFrame], panel: pd.DataFrame, m: int, secs: dict[str, float]
) -> pd.DataFrame:
    """Score all methods on the (series, period, cutoff) points every method forecast."""
    frames = {k: v[COLS].assign(**{MODEL: k}) for k, v in cvs.items() if len(v)}
    common = None
    for f in frames.values():
        k = f[KEYS].drop_duplicates()
        common = k if common is None else common.merge(k, on=KEYS)
    cv = pd.concat([f.merge(common, on=KEYS) for f in frames.values()], ignore_index=True)
    ov = evaluate(cv, panel, m, levels=LEVELS).overall.set_index(MODEL)
    order = [k for k in [*MASHDEMAND, *PEERS, *frames] if k in ov.index]
    ov = ov.loc[list(dict.fromkeys(order))]
    ov["seconds"] = [secs.get(k, np.nan) for k in ov.index]
    cols = ["n", "mase", "rmsse", "rel_bias", "coverage80", "coverage95", "seconds"]
    return ov[cols].rename_axis("method").reset_index()


def verdict(table: pd.DataFrame, margin: float) -> str:
    t = table.set_index("method")
    if "ensemble" not in t.index:
        return "NOT met: no ensemble backtest"
    ens = t.loc["ensemble"]
    peers = t.loc[[p for p in PEERS if p in t.index]]
    best = peers["mase"].idxmin()
    gain = 1 - ens["mase"] / peers.loc[best, "mase"]
    cov = ens["coverage80"]
    ok_mase, ok_cov = gain >= margin, 0.75 <= cov <= 0.85
    parts = [
        f"ensemble MASE {ens['mase']:.3f} vs best peer {best} {peers.loc[best, 'mase']:.3f} "
        f"({gain:+.1%} better; need {'> 0%' if margin == 0 else f'>= {margin:.0%}'})",
        f"coverage80 {cov:.3f} (need 0.75-0.85)",
    ]
    if margin == 0:
        ok_mase = gain > 0
    status = "met" if ok_mase and ok_cov else "NOT met"
    return f"**{status}**: " + "; ".join(parts)


def cv_of(result, models: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    cv = result.cv
    names = models or cv[MODEL].unique()
    return {n: cv[cv[MODEL] == n] for n in names}


# --- data sets ------------------------------------------------------------------------------
def bench_sample(args) -> list[tuple[str, pd.DataFrame, str, float]]:
    counts, _ = read_counts(ROOT / "data" / "sample" / "daily_counts.csv")
    history = counts.groupby(["hub", "date"], as_index=False)["contacts"].sum()
    out = []
    # daily, h = 91: the default forecast (to 2026-12-31) runs exactly this backtest
    t0 = time.perf_counter()
    res = forecast(history, until="2026-12-31", n_jobs=args.n_jobs)
    wall = time.perf_counter() - t0
    print(f"sample daily: default forecast to 2026-12-31 with backtest {wall:.1f} s", flush=True)
    cvs = cv_of(res)
    cuts = sorted(res.cv[CUTOFF].unique())
    train = with_features(res.history, "day")
    peers, secs = run_peers(
        train, "day", 91, 4, 28, args.quick, args.n_jobs, skip=["SeasonalNaive"]
    )
    for name, cv in peers.items():
        assert set(cuts) <= set(cv[CUTOFF].unique()), (name, cv[CUTOFF].unique(), cuts)
    cvs.update(peers)
    secs["ensemble"] = wall
    table = score(cvs, res.history, 7, secs)
    days = ", ".join(pd.Timestamp(c).strftime("%Y-%m-%d") for c in cuts)
    note = (
        f"9 hubs + ALL, daily, h = 91, cutoffs {days}. "
        f"Default forecast (to 2026-12-31, with backtest) took {wall:.1f} s (goal < 120 s): "
        f"{'met' if wall < 120 else 'NOT met'}. Ensemble seconds = the whole forecast() call "
        "(backtest of all members, refit, calibration); members share it."
    )
    out.append(("sample force, daily, h=91", table, note, 0.10))

    # monthly, h = 24 (two years ahead, as the FMS needs), 4 windows 3 months apart
    t0 = time.perf_counter()
    res = forecast(
        history,
        until="2028-09-30",
        freq="month",
        history_freq="day",
        n_jobs=args.n_jobs,
        backtest_plan=(24, 4, 3),
    )
    wall = time.perf_counter() - t0
    cvs = cv_of(res)
    cuts = sorted(res.cv[CUTOFF].unique())
    h = int(res.cv[HORIZON].max())
    n_win = len(sorted(cvs["SeasonalNaive"][CUTOFF].unique()))
    train = with_features(res.history, "month")
    peers, secs = run_peers(train, "month", h, n_win, 3, args.quick, args.n_jobs, ["SeasonalNaive"])
    for name, cv in peers.items():
        assert set(cuts) <= set(cv[CUTOFF].unique()), (name, cv[CUTOFF].unique(), cuts)
    cvs.update(peers)
    secs["ensemble"] = wall
    table = score(cvs, res.history, 12, secs)
    note = (
        f"9 hubs + ALL, monthly, h = {h} (forecast(..., backtest_plan=(24, 4, 3)); the "
        "default monthly backtest is 12 months), cutoffs "
        f"{', '.join(pd.Timestamp(c).strftime('%Y-%m') for c in cuts)}."
    )
    out.append((f"sample force, monthly, h={h}", table, note, 0.10))
    return out


def read_dfe() -> tuple[pd.DataFrame, str]:
    d = pd.read_csv(DFE, dtype=str)
    d = d[d["geographic_level"] == "Local authority"].copy()
    d["fy"] = d["time_period"].astype(int) - 1  # 2025 = 2024-25, starts 1 April 2024
    d["n"] = pd.to_numeric(d["referral_count"], errors="coerce")
    bad = d.loc[d["n"].isna(), "new_la_code"].unique()
    years = d["fy"].nunique()
    nyears = d.groupby("new_la_code")["fy"].nunique()
    partial = nyears[nyears < years].index
    drop = set(bad) | set(partial)
    keep = d[~d["new_la_code"].isin(drop)]
    counts = pd.DataFrame(
        {
            "hub": keep["new_la_code"].str.lower(),
            "date": pd.to_datetime(keep["fy"].astype(str) + "-04-01"),
            "contacts": keep["n"].astype("int64"),
        }
    )
    note = (
        f"{d['new_la_code'].nunique()} authorities; dropped {len(set(bad))} with suppressed "
        f"values (x/u/c: {int(d['n'].isna().sum())} rows) and {len(set(partial) - set(bad))} "
        f"more without all {years} years (boundary changes); kept {counts['hub'].nunique()}, "
        f"FY {d['fy'].min()}-{str(d['fy'].min() + 1)[-2:]} to {d['fy'].max()}-"
        f"{str(d['fy'].max() + 1)[-2:]}"
    )
    return counts.sort_values(["hub", "date"]).reset_index(drop=True), note


def read_population(hubs: Sequence[str]) -> pd.DataFrame:
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


def bench_dfe(args) -> list[tuple[str, pd.DataFrame, str, float]]:
    counts, note = read_dfe()
    cutoff = pd.Timestamp("2020-04-01")
    panel = build_panel(counts)
    h = 4
    hist = counts[counts["date"] <= cutoff]
    pop = read_population(counts["hub"].unique())
    cvs: dict[str, pd.DataFrame] = {}
    secs: dict[str, float] = {}
    for label, population in (("ensemble", None), ("ensemble+pop", pop)):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = forecast(
                    hist,
                    until="2024-04-01",
                    freq="fy",
                    history_freq="fy",
                    population=population,
                    n_jobs=args.n_jobs,
                )
        except Exception as exc:  # report, don't hide
            print(f"  {label}: forecast() failed: {type(exc).__name__}: {exc}")
            note += f". {label}: forecast() failed ({type(exc).__name__}: {exc})"
            continue
        secs[label] = time.perf_counter() - t0
        fc = res.frame.rename(columns={"hub": UID, "date": DS})
        fc = fc.merge(panel, on=[UID, DS], how="inner")
        fc[CUTOFF] = cutoff
        fc[HORIZON] = fc.groupby(UID)[DS].rank().astype(int)
        cvs[label] = fc.assign(**{MODEL: label})
        if label == "ensemble":
            bt = res.backtest.overall.set_index(MODEL)
            w = res.weights.groupby(MODEL)["weight"].sum() / res.weights[UID].nunique()
            note += (
                f". forecast()'s own backtest (h=2, 3 windows to 2020): ensemble MASE "
                f"{bt.loc['ensemble', 'mase']:.3f}, coverage80 "
                f"{bt.loc['ensemble', 'coverage80']:.3f}; mean weights "
                + ", ".join(f"{k} {v:.2f}" for k, v in w.items())
                + f"; calibrated: {res.calibration is not None}"
            )
        print(f"  {label}: {secs[label]:.1f} s", flush=True)
    # members and peers: the same single cutoff (2020-04-01) and h = 4
    train = with_features(panel, "fy")
    for name in ("ets", "gbm", "drift"):
        model = make_model(name, "fy")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = cross_validation(model, train, h=h, n_windows=1, level=LEVELS)
        secs[model.name] = time.perf_counter() - t0
        cvs[model.name] = cv
    peers, psecs = run_peers(train, "fy", h, 1, 1, args.quick, args.n_jobs)
    cvs.update(peers)
    secs.update(psecs)
    for k, cv in cvs.items():
        assert set(cv[CUTOFF].unique()) == {cutoff}, (k, cv[CUTOFF].unique())
    table = score(cvs, panel, 1, secs)
    note += (
        ". One cutoff (FY 2020-21), h = 4 (2021-22 to 2024-25), all authorities + ALL; "
        "ensemble = forecast(history to 2020-21, freq='fy'); members and peers refitted on "
        "the same history by cross_validation; ensemble+pop adds ONS 0-17 estimates for "
        "2012-2024 as the population driver (a perfect projection)."
    )
    return [("DfE referrals by local authority, FY, h=4", table, note, 0.0)]


def bench_pedestrians(args) -> list[tuple[str, pd.DataFrame, str, float]]:
    d = pd.read_csv(PEDESTRIANS, parse_dates=["ds"])
    history = pd.DataFrame({"hub": "pedestrians", "date": d["ds"], "contacts": d["y"]})
    h = 28 if args.quick else 91
    last = history["date"].max()
    t0 = time.perf_counter()
    res = forecast(history, until=last + pd.Timedelta(days=h), n_jobs=args.n_jobs)
    wall = time.perf_counter() - t0
    cvs = {k: v[v[UID] == "pedestrians"] for k, v in cv_of(res).items()}
    cuts = sorted(res.cv[CUTOFF].unique())
    panel = res.history[res.history[UID] == "pedestrians"]
    train = with_features(panel, "day")
    peers, secs = run_peers(train, "day", h, 4, 28, args.quick, args.n_jobs, ["SeasonalNaive"])
    for name, cv in peers.items():
        assert set(cuts) <= set(cv[CUTOFF].unique()), (name, cv[CUTOFF].unique(), cuts)
    cvs.update(peers)
    secs["ensemble"] = wall
    table = score(cvs, panel, 7, secs)
    note = (
        f"one series (ds {d['ds'].min():%Y-%m-%d} to {last:%Y-%m-%d}), daily, h = {h}, cutoffs "
        f"{', '.join(pd.Timestamp(c).strftime('%Y-%m-%d') for c in cuts)}."
    )
    return [(f"pedestrians (COVID break), daily, h={h}", table, note, 0.0)]


BENCHES = {"sample": bench_sample, "dfe": bench_dfe, "pedestrians": bench_pedestrians}


def write(args, sections: list[str], rows: list[pd.DataFrame], total: float) -> None:
    arima = f"daily AutoARIMA on the latest {ARIMA_DAYS} days" if ARIMA_DAYS else "all history"
    head = (
        "# Forecast benchmark\n\nmashdemand's default ensemble and members against peers, "
        "rolling origin, same series / cutoffs / horizon for every method, scored with "
        "`mashdemand.forecast.metrics.evaluate` (MASE, RMSSE scaled by the in-sample seasonal "
        "naive up to each cutoff). Goal: the ensemble beats every peer on MASE (by >= 10% on "
        "the sample force) with 80% coverage in 0.75-0.85. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, pandas {pd.__version__}, statsforecast "
        f"{_version('statsforecast')}, prophet {_version('prophet')}, statsmodels "
        f"{_version('statsmodels')}, scikit-learn {_version('scikit-learn')}. "
        f"{'Quick run. ' if args.quick else ''}Peers' training: {arima} (others all). "
        f"Total {total:.0f} s. Run {time.strftime('%d/%m/%Y %H:%M')}.\n\n"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "forecast.md").write_text(head + "\n".join(sections), encoding="utf-8")
    pd.concat(rows, ignore_index=True).to_csv(OUT / "forecast.csv", index=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="sample,dfe,pedestrians")
    ap.add_argument("--quick", action="store_true", help="skip Prophet and daily AutoARIMA")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument(
        "--arima-days",
        type=int,
        default=730,
        help="daily AutoARIMA fits on the latest N days only (0: all; all is very slow)",
    )
    args = ap.parse_args()
    global ARIMA_DAYS
    ARIMA_DAYS = args.arima_days
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)

    t_start = time.perf_counter()
    sections, rows = [], []
    for name in args.datasets.split(","):
        print(f"== {name}", flush=True)
        for title, table, note, margin in BENCHES[name.strip()](args):
            v = verdict(table, margin)
            text = f"## {title}\n\n{note}\n\n{markdown_table(table.round(3))}\n\nVerdict: {v}\n"
            print(text, flush=True)
            sections.append(text)
            rows.append(table.assign(dataset=title))
        total = time.perf_counter() - t_start
        write(args, sections, rows, total)
    print(f"total {total:.0f} s; wrote {OUT / 'forecast.md'}")


if __name__ == "__main__":
    main()

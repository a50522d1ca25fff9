"""Gather the FMS appendix: read the store, project demand under each scenario, plan the
workforce, then make the tables (:mod:`~mashdemand.report.fms.tables`) and the words
(:mod:`~mashdemand.report.fms.text`).

The appendix holds the true values and what disclosure control needs; the writers make the
published or the internal version from the one build.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mashdemand import schema
from mashdemand.calendar import fy_start
from mashdemand.forecast.api import Scenario, refit_needed
from mashdemand.hubs import validate_hubs
from mashdemand.report.fms import tables as tb
from mashdemand.report.fms.appendix import FmsAppendix, FmsPeriods, FmsTable, role_label
from mashdemand.report.fms.figures import appendix_figures
from mashdemand.report.fms.text import SOURCES, assumptions, paragraphs, scenario_words
from mashdemand.report.quarterly import (
    ReportError,
    complete_fy_totals,
    forecastable_history,
    fy_projection,
    load_report_history,
    whole_periods,
)
from mashdemand.report.sdc import DisclosureRule
from mashdemand.store import Store

__all__ = [
    "DEFAULT_SCENARIOS",
    "FmsHistory",
    "appendix_tables",
    "build_fms_appendix",
    "fms_history",
    "plan_workforce",
    "principal_name",
    "read_establishment",
    "scenario_projections",
    "workforce_forecast",
]

DEFAULT_SCENARIOS: tuple[str, ...] = (
    "principal",
    "low",
    "high",
    "risk_growth:risk_identification=0.05",
)
"""Principal, ONS low and high population variants, and 5% more police risk identification."""

OPTIONAL_TABLES = ("demand_priority", "drivers")
"""Tables left out when empty (no record-level logs; no population drivers)."""


# --- inputs -----------------------------------------------------------------------------------
def read_establishment(path: str | Path) -> pd.DataFrame:
    """The establishment (funded posts) the user supplies: CSV ``hub, role, fte`` or
    ``hub, fte`` [FTE]. Returns ``hub, role, fte`` (role ``all`` when not given); hubs follow
    the hub rule (:func:`mashdemand.hubs.validate_hubs`), a bad one is refused naming its row."""
    p = Path(path)
    if not p.exists():
        raise ReportError(f"{p}: establishment file not found")
    try:
        df = pd.read_csv(p, dtype={schema.HUB: str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReportError(f"{p}: not a CSV ({' '.join(str(exc).split())[:120]})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in (schema.HUB, "fte") if c not in df.columns]
    if missing:
        raise ReportError(
            f"{p}: missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}"
        )
    fte = pd.to_numeric(df["fte"], errors="coerce")
    bad = df.index[fte.isna() | (fte < 0)]
    if len(bad):
        raise ReportError(
            f"{p}: row {int(bad[0]) + 2}, column fte: {df.loc[bad[0], 'fte']!r} is not an FTE"
        )
    hubs = validate_hubs(df[schema.HUB], p, column=schema.HUB, error=ReportError)
    role = df["role"].astype(str).str.strip().str.lower() if "role" in df else "all"
    return pd.DataFrame({schema.HUB: hubs, "role": role, "fte": fte})


@dataclass(frozen=True)
class FmsHistory:
    """The history the appendix is built from.

    Attributes
    ----------
    daily : DataFrame
        ``hub, source, date, contacts`` of the hubs with enough history to forecast.
    totals : DataFrame
        ``hub, date, contacts`` (all sources).
    hubs : list of str
        The hubs covered, sorted.
    record_hubs, count_hubs : list of str
        Hubs with record-level logs; hubs with daily counts only.
    left_out : DataFrame
        Hubs left out for too little history.
    last_day : Timestamp
        The last day of data.
    """

    daily: pd.DataFrame
    totals: pd.DataFrame
    hubs: list[str]
    record_hubs: list[str]
    count_hubs: list[str]
    left_out: pd.DataFrame
    last_day: pd.Timestamp


def fms_history(store: Store, counts: str | Path | None, periods: FmsPeriods) -> FmsHistory:
    """The store's history (and ``counts``' hubs), without hubs too short to forecast.

    A stray hub (a mistyped name, a few contacts) is left out and named, not fatal. A
    :class:`ReportError` if the data end before the current financial year does.
    """
    daily, record_hubs, count_hubs = load_report_history(store, counts)
    last_day = daily[schema.DATE].max()
    daily, left_out = forecastable_history(daily, last_day)
    kept = set(daily[schema.HUB])
    if last_day < periods.cur1:
        year = periods.year
        raise ReportError(
            f"FMS {year} reports financial year {periods.current} as current demand, but the "
            f"data end on {last_day:%d/%m/%Y}; use --year {year - 1} or load data to "
            f"{periods.cur1:%d/%m/%Y}"
        )
    totals = daily.groupby([schema.HUB, schema.DATE], as_index=False)[schema.CONTACTS].sum()
    return FmsHistory(
        daily=daily,
        totals=totals,
        hubs=sorted(totals[schema.HUB].unique()),
        record_hubs=[h for h in record_hubs if h in kept],
        count_hubs=[h for h in count_hubs if h in kept],
        left_out=left_out,
        last_day=last_day,
    )


# --- demand ahead -----------------------------------------------------------------------------
def scenario_projections(
    daily: pd.DataFrame,
    until: pd.Timestamp,
    population: pd.DataFrame | None,
    housing: pd.DataFrame | None,
    scenarios: Sequence[str],
    n_jobs: int,
    models: Sequence[str] | None,
    done: Callable[[], Any] = lambda: None,
) -> dict[str, Any]:
    """The financial-year projection (with its daily near-term forecast) under each scenario.

    Parameters
    ----------
    daily : DataFrame
        ``hub, source, date, contacts``.
    until : Timestamp
        Last day to project.
    population, housing : DataFrame, optional
        Drivers.
    scenarios : sequence of str
        Scenario texts (:meth:`Scenario.parse`); the first is the principal projection.
    n_jobs : int
        Worker processes for the forecast.
    models : sequence of str, optional
        Override the forecast models.
    done : callable
        Called after each scenario (progress).

    Returns
    -------
    dict
        Scenario name -> :class:`~mashdemand.forecast.api.ForecastResult`, in the order given.

    Notes
    -----
    The models are fitted once: a scenario that only changes the population variant or the
    risk identification is applied to a fitted projection
    (:meth:`~mashdemand.forecast.api.ForecastResult.with_scenario`, the same numbers as
    fitting again); one that changes what the models see (housing delivery) is fitted anew.
    """
    out: dict[str, Any] = {}
    fitted: list[Any] = []
    for text in scenarios:
        sc = Scenario.parse(text)
        reuse = next((r for r in fitted if not refit_needed(r.scenario, sc, housing)), None)
        if reuse is not None:
            out[sc.name] = reuse.with_scenario(sc)
        else:
            out[sc.name] = fy_projection(
                daily, until, population, housing, sc, n_jobs, models, f"FMS projection ({sc.name})"
            )
            fitted.append(out[sc.name])
        done()
    return out


# --- workforce --------------------------------------------------------------------------------
def workforce_forecast(result: Any, fys: Sequence[pd.Timestamp]) -> tuple[pd.DataFrame, list[str]]:
    """A daily forecast of the same quarter in each projection year, for staffing.

    Staff must absorb busy days and the seasonal peak, which a financial-year total spread
    evenly over its days would hide. So the first whole calendar quarter of the daily
    near-term forecast is carried into each year 52-week steps at a time (weekdays kept),
    scaled by the financial-year projection's growth, and its 80% band widened by the growth
    in the projection's own relative uncertainty.

    Returns the hub rows (``hub, date, yhat, lo80, hi80``) and the quarter labels to plan.
    """
    near = result.near_term.frame
    near = near[near[schema.HUB] != schema.FORCE_TOTAL]
    first, last = near[schema.DATE].min(), near[schema.DATE].max()
    whole = whole_periods(first, last, "Q")
    if not whole:
        raise ReportError("the daily forecast covers no whole quarter to plan staff from")
    base_q = whole[0]
    rows = near[near[schema.DATE].dt.to_period("Q") == base_q]
    fy = result.frame.set_index([schema.HUB, schema.DATE])
    base_fy = fy_start(base_q.start_time)
    out, labels = [], []
    for d in fys:
        years = d.year - base_fy.year
        ratio = {}
        for hub in rows[schema.HUB].unique():
            b, t = fy.loc[(hub, base_fy)], fy.loc[(hub, d)]
            widen = max(0.0, (t["hi80"] / t[schema.YHAT]) - (b["hi80"] / b[schema.YHAT]))
            ratio[hub] = (t[schema.YHAT] / b[schema.YHAT], widen)
        g = rows.copy()
        f = g[schema.HUB].map({h: v[0] for h, v in ratio.items()})
        w = g[schema.HUB].map({h: v[1] for h, v in ratio.items()})
        g[schema.YHAT] = g[schema.YHAT] * f
        g["hi80"] = g["hi80"] * f + g[schema.YHAT] * w
        g["lo80"] = (g["lo80"] * f - g[schema.YHAT] * w).clip(lower=0)
        g[schema.DATE] = g[schema.DATE] + pd.Timedelta(days=364 * years)
        out.append(g[[schema.HUB, schema.DATE, schema.YHAT, "lo80", "hi80"]])
        labels.append(str(base_q + 4 * years))
    return pd.concat(out, ignore_index=True), labels


def plan_workforce(
    store: Store,
    principal: Any,
    fys: Sequence[pd.Timestamp],
    record_hubs: Sequence[str],
    cfg: Any,
    n_jobs: int,
) -> tuple[Any, list[str]]:
    """The staffing plan for the same quarter of each projection year
    (:func:`workforce_forecast` of the principal projection), with the arrival profile of the
    hubs with record-level logs. Returns the plan and the quarters planned."""
    from mashdemand.staffing import plan_staffing
    from mashdemand.staffing.plan import profile_contacts

    fc_hubs, quarters = workforce_forecast(principal, fys)
    recs = profile_contacts(store, hubs=list(record_hubs)) if record_hubs else None
    return plan_staffing(fc_hubs, recs, cfg, n_jobs=n_jobs, quarters=quarters), quarters


# --- the tables -------------------------------------------------------------------------------
def appendix_tables(
    frames: dict[str, pd.DataFrame],
    periods: FmsPeriods,
    scenarios: Sequence[str],
    standards: Any,
    rule: DisclosureRule,
) -> list[FmsTable]:
    """The tables with their titles, notes and counts, in section order.

    ``frames`` maps table key -> table (:mod:`~mashdemand.report.fms.tables`); an empty
    optional table (:data:`OPTIONAL_TABLES`) is left out.
    """
    cur, prev, fy_names = periods.current, periods.previous, periods.fy_names
    not_hub = lambda key: [c for c in frames[key].columns if c != schema.HUB]  # noqa: E731
    step = tb.PROJECTION_ROUNDING
    specs: dict[str, dict[str, Any]] = {
        "demand_now": {
            "title": f"Contacts received by hub, {prev} and {cur}",
            "counts": list(frames["demand_now"].columns[1:3]),
            "note": "Financial years April to March. Contacts are all referrals screened by the "
            "MASH.",
        },
        "demand_source": {
            "title": f"Contacts by hub and source, {cur}",
            "counts": not_hub("demand_source"),
        },
        "demand_priority": {
            "title": f"Contacts by hub and priority, {cur} (hubs with record-level logs)",
            "counts": not_hub("demand_priority"),
        },
        "projection": {
            "title": f"Projected contacts, force total, {fy_names[0]} to {fy_names[-1]} "
            "(principal)",
            "note": f"Central forecast and 80% interval, rounded to the nearest {step}.",
        },
        "scenarios": {
            "title": "Projected contacts under each scenario, force total",
            "note": "Scenarios: " + "; ".join(scenario_words(s) for s in scenarios),
        },
        "projection_hub": {"title": "Projected contacts by hub (principal, central forecast)"},
        "drivers": {"title": "Drivers: projected population and planned housing"},
        "workforce": {
            "title": "Workforce required (FTE) against establishment, by financial year",
            "note": "FTE required on the recommended operating hours, by role, for the same "
            "quarter of each year (the first whole quarter of the daily forecast), at the 80th "
            "percentile of daily demand.",
        },
        "workforce_hub": {"title": f"Workforce by hub, {fy_names[0]}"},
        "capability": {"title": "Capability: the roles in the hub and their share of the work"},
        "performance": {
            "title": f"Performance against the timeliness standards, {cur}",
            "counts": ["decided", "within_standard"],
            "shares": {"within_pct": "decided"},
            "note": "Measured from the decision times in the contact logs (hubs with "
            "record-level logs) against the same standards the plan is held to "
            f"({standards.summary()}). Planned: the lowest share any hub reaches on the "
            "recommended roster (simulation).",
        },
        "risk": {
            "title": "Gap and risk from demand that cannot be met",
            "note": "Contacts at risk: the share of P80 demand beyond the capacity of the "
            "establishment.",
        },
    }
    return [
        FmsTable(key, data=frames[key], rule=rule, **spec)
        for key, spec in specs.items()
        if key not in OPTIONAL_TABLES or len(frames[key])
    ]


# --- the build --------------------------------------------------------------------------------
def build_fms_appendix(
    store: Store,
    year: int,
    *,
    counts: str | Path | None = None,
    population: pd.DataFrame | None = None,
    housing: pd.DataFrame | None = None,
    establishment: pd.DataFrame | None = None,
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    staffing_config: Any = None,
    rule: DisclosureRule | None = None,
    n_jobs: int = 2,
    progress: bool = False,
    models: Sequence[str] | None = None,
) -> FmsAppendix:
    """Gather the FMS appendix for FMS year ``year`` (:class:`FmsPeriods`), once for both the
    published and the internal version.

    Parameters
    ----------
    store : Store
        Record-level contacts (and quarantine) from ``mashdemand ingest``.
    year : int
        FMS year: current demand is financial year ``year-1``-``year``; the projection covers
        the four financial years from April ``year``.
    counts : path, optional
        Daily counts for hubs without record-level logs.
    population, housing : DataFrame, optional
        Drivers for the projection and its scenarios.
    establishment : DataFrame, optional
        ``hub, role, fte`` funded posts (:func:`read_establishment`); without it the gap is
        shown as not available ``[x]``.
    scenarios : sequence of str
        Scenario texts (:meth:`Scenario.parse`); the first is the principal projection.
    staffing_config : StaffingConfig, optional
        The staffing config (default the shipped one).
    rule : DisclosureRule, optional
        Disclosure control for the published version (default counts 1-5 suppressed).
    n_jobs : int
        Worker processes.
    progress : bool
        Show a progress bar.
    models : sequence of str, optional
        Override the forecast models (tests use a fast set).

    Returns
    -------
    FmsAppendix
        True values and what disclosure control needs; ``facts["suppressed_cells"]`` counts
        the cells the published version suppresses.
    """
    from tqdm.auto import tqdm

    from mashdemand.staffing import load_config

    t0 = time.perf_counter()
    rule = rule or DisclosureRule()
    cfg = staffing_config or load_config()
    periods = FmsPeriods(year)
    fys, fy_names = periods.fys, periods.fy_names
    hist = fms_history(store, counts, periods)
    hubs = hist.hubs
    bar = tqdm(total=len(scenarios) + 2, desc="FMS appendix", disable=not progress, unit="step")

    frames = {
        "demand_now": tb.demand_now_table(
            complete_fy_totals(hist.daily), hubs, periods.prev0, periods.cur0
        ),
        "demand_source": tb.source_table(hist.daily, periods.cur0, periods.cur1),
        "demand_priority": tb.priority_table(
            store.counts_by(schema.PRIORITY, periods.cur0, periods.cur1, hubs)
        ),
    }
    decided = store.decisions(periods.cur0, periods.cur1, hubs)
    bar.update()

    results = scenario_projections(
        hist.daily, periods.until, population, housing, scenarios, n_jobs, models, bar.update
    )
    principal = results[principal_name(scenarios)]
    projections = {name: r.frame[r.frame[schema.DATE].isin(fys)] for name, r in results.items()}
    in_years = projections[principal_name(scenarios)]
    force = tb.force_total(in_years)
    current = frames["demand_now"].iloc[-1, 2]  # the force total's current year
    frames["projection"] = tb.projection_table(force, fys, current)
    frames["scenarios"] = tb.scenarios_table(projections, fys)
    frames["projection_hub"] = tb.projection_hub_table(in_years)
    frames["drivers"] = tb.drivers_table(population, housing, hubs, fys)

    plan, quarters = plan_workforce(store, principal, fys, hist.record_hubs, cfg, n_jobs)
    bar.update()
    bar.close()
    est_hub = establishment.groupby(schema.HUB)["fte"].sum() if establishment is not None else None
    fte = tb.fte_by_year(plan.recommended)
    frames["workforce"] = tb.workforce_table(fte, fy_names, hubs, est_hub)
    frames["workforce_hub"] = tb.workforce_hub_table(fte, fy_names[0], hubs, est_hub)
    frames["capability"] = tb.capability_table(cfg.roles)
    measured = (
        tb.timeliness(decided, cfg.standards)
        if len(decided)
        else pd.DataFrame(columns=[schema.HUB, schema.PRIORITY, "met"])
    )
    planned = plan.recommended[plan.recommended["quarter"] == quarters[0]]
    frames["performance"] = tb.performance_table(measured, planned)
    frames["risk"] = tb.risk_table(frames["workforce"], force, fys, est_hub is not None)

    tables = appendix_tables(frames, periods, scenarios, cfg.standards, rule)
    facts = {
        "year": year,
        "current_fy": periods.current,
        "fy_names": fy_names,
        "current_contacts": float(current),
        "projection": dict(zip(fy_names, frames["projection"]["forecast"], strict=True)),
        "fte_required": dict(zip(fy_names, frames["workforce"]["fte_required"], strict=True)),
        "suppressed_cells": sum(t.n_suppressed for t in tables),
        "left_out": hist.left_out.to_dict("records"),
    }
    return FmsAppendix(
        year=year,
        tables=tables,
        paragraphs=paragraphs(
            periods,
            len(hubs),
            frames["demand_now"],
            frames["projection"],
            frames["workforce"],
            cfg.standards,
            est_hub is not None,
        ),
        figures=appendix_figures(principal.frame, hist.totals, frames["workforce"]),
        assumptions=assumptions(
            periods, cfg.standards, rule, hist.count_hubs, hist.left_out, hist.last_day
        ),
        sources=list(SOURCES),
        facts=facts,
        seconds=time.perf_counter() - t0,
        labels={
            "option": {name: o.label for name, o in cfg.options.items()},
            "role": {name: role_label(name) for name in cfg.roles},
        },
    )


def principal_name(scenarios: Sequence[str]) -> str:
    """The name of the principal projection: the first scenario's."""
    return Scenario.parse(scenarios[0]).name

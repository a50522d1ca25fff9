"""The quarterly forecast report: what happened last quarter, what comes next, what it needs.

:func:`build_quarterly` gathers everything the report shows into a :class:`QuarterlyReport`
(tables as tidy frames, plain-English notes, and its sections' words, tables and charts from
:mod:`mashdemand.report.sections`); :mod:`mashdemand.report.render` turns it into HTML, PDF and
CSV. The same call works from a notebook.

Inputs are a store filled by ``mashdemand ingest`` (record-level contacts: the demand by
priority and subject, the hour-of-week profile, data quality, and the forecast archive) and,
optionally, an aggregated daily counts CSV for hubs that export only counts (CONTRACTS.md
section 2), plus the population and housing drivers.

The report is reproducible for any past quarter: the forecast is made only from the data up to
the end of the report quarter, so ``--quarter 2026Q2`` says what a report written on 1 July
2026 would have said.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.calendar import fy_label, fy_start
from mashdemand.errors import MashdemandError
from mashdemand.forecast.api import ForecastError, ForecastResult, Scenario, forecast
from mashdemand.hubs import display_name
from mashdemand.report.content import ReportDocument
from mashdemand.store import ArchiveRun, Store

__all__ = [
    "QuarterlyReport",
    "ReportError",
    "ReportHistory",
    "build_quarterly",
    "default_quarter",
    "forecast_stage",
    "left_out_text",
    "load_report_history",
    "parse_quarter",
    "prior_stage",
    "report_history",
    "split_forecastable",
    "staffing_stage",
    "whole_periods",
]

NEXT_FYS = 4
"""Financial years projected after the current one (the FMS asks for four)."""

STORE_WAIT_SECONDS = 60.0
"""How long a report waits for another process (an ingest) to let go of the store, for its
snapshot and for archiving at the end [s]: both are brief, and waiting beats losing the run."""

MIN_HISTORY_DAYS = 14
"""A hub is forecast only when its contacts span at least this many days (first to last,
inclusive: the daily models need two weeks) and number at least this many; a mistyped hub with a
handful of contacts is left out of the report, named in its notes, instead of stopping it."""


class ReportError(MashdemandError, ValueError):
    """The inputs cannot support the report asked for (one-line message)."""


@dataclass
class QuarterlyReport:
    """Everything the quarterly report shows.

    Attributes
    ----------
    quarter : pandas.Period
        The report quarter (the last complete quarter of data by default).
    tables : dict of str to DataFrame
        Named tables (also written as CSV): ``headline``, ``demand_by_source``,
        ``demand_by_priority``, ``demand_by_subject``, ``monthly``, ``forecast_daily``,
        ``forecast_months``, ``forecast_fy``, ``staffing``, ``staffing_options``,
        ``weekend_cover``, ``verification``, ``quarantine``, ``gaps``, ``backtest``,
        ``forecast_vs_actual``.
    figures : dict of str to Figure
        The charts by key (those of ``document``, kept here for notebooks).
    facts : dict
        Headline numbers quoted in the text (and checked by the tests).
    notes : list of str
        Fallbacks and caveats met in this run.
    pending_runs : list of ArchiveRun
        This run's forecasts for the store's archive (:meth:`Store.archive_runs`), kept only
        once the report is written: a failed report archives nothing.
    document : ReportDocument or None
        The report's sections (words, tables, figures) as the writer lays them out
        (:func:`mashdemand.report.sections.add_sections`).
    """

    quarter: pd.Period
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any]
    facts: dict[str, Any]
    notes: list[str]
    forecast: ForecastResult | None = None
    plan: Any = None
    pending_runs: list[ArchiveRun] = field(default_factory=list)
    document: ReportDocument | None = None
    created_at: str = field(
        default_factory=lambda: pd.Timestamp.now(tz="Europe/London").isoformat()
    )
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return str(self.quarter)


# --- quarters ---------------------------------------------------------------------------------
def parse_quarter(text: str) -> pd.Period:
    """``2026Q3``, ``2026-Q3`` or ``Q3 2026`` -> the calendar quarter.

    >>> str(parse_quarter("Q3 2026"))
    '2026Q3'
    """
    t = text.strip().upper()
    m = re.fullmatch(r"(\d{4})\s*-?\s*Q([1-4])", t) or re.fullmatch(r"Q([1-4])\s*(\d{4})", t)
    if not m:
        raise ReportError(f"--quarter {text!r}: use a calendar quarter such as 2026Q3")
    year, q = (m.group(1), m.group(2)) if t[0].isdigit() else (m.group(2), m.group(1))
    return pd.Period(year=int(year), quarter=int(q), freq="Q")


def complete_fy_totals(daily: pd.DataFrame) -> pd.DataFrame:
    """Contacts per hub in each financial year that hub's history covers completely:
    ``hub, date (1 April), contacts``, plus ``ALL`` for the years every hub covers."""
    from mashdemand.forecast.counts import aggregate

    tot = daily.groupby([schema.HUB, schema.DATE], as_index=False)[schema.CONTACTS].sum()
    per_hub = pd.concat([aggregate(g, "fy") for _, g in tot.groupby(schema.HUB)])
    n_hubs = tot[schema.HUB].nunique()
    every = per_hub.groupby(schema.DATE)[schema.HUB].transform("size") == n_hubs
    force = per_hub[every].groupby(schema.DATE, as_index=False)[schema.CONTACTS].sum()
    return pd.concat([per_hub, force.assign(hub=schema.FORCE_TOTAL)], ignore_index=True)


def whole_periods(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> list[pd.Period]:
    """The calendar periods (``"M"``, ``"Q"``) lying wholly inside ``first``..``last``.

    >>> [str(p) for p in whole_periods(pd.Timestamp("2026-10-01"), pd.Timestamp("2027-03-30"), "Q")]
    ['2026Q4']
    """
    return [
        p
        for p in pd.period_range(first, last, freq=freq)
        if p.start_time >= first and p.end_time.normalize() <= last
    ]


def quarter_words(q: pd.Period) -> str:
    """``July to September 2026``."""
    a, b = q.start_time, q.end_time
    return f"{a:%B} to {b:%B %Y}"


def default_quarter(last_day: pd.Timestamp) -> pd.Period:
    """The last calendar quarter that the data cover completely.

    >>> str(default_quarter(pd.Timestamp("2026-09-30")))
    '2026Q3'
    >>> str(default_quarter(pd.Timestamp("2026-09-29")))
    '2026Q2'
    """
    q = pd.Period(last_day, freq="Q")
    return q if last_day.normalize() >= q.end_time.normalize() else q - 1


# --- inputs -----------------------------------------------------------------------------------
def load_report_history(
    store: Store, counts: str | Path | None = None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Daily contacts by hub and source: the store's hubs, plus hubs only in ``counts``.

    Returns ``(daily, record_hubs, count_hubs)`` with ``daily`` = ``hub, source, date,
    contacts`` [contacts/day]. A hub in both keeps its record-level data (the counts are a
    summary of the same contacts).
    """
    daily = store.daily_counts(by=[schema.SOURCE]) if store.count() else pd.DataFrame()
    record_hubs = sorted(daily[schema.HUB].unique()) if len(daily) else []
    count_hubs: list[str] = []
    if counts is not None:
        from mashdemand.forecast.counts import read_counts

        extra, freq = read_counts(counts)
        if freq != "day":
            raise ReportError(f"{counts}: the report needs daily counts; this file is by {freq}")
        extra = extra[~extra[schema.HUB].isin(record_hubs)]
        if schema.SOURCE not in extra.columns:
            extra[schema.SOURCE] = "unknown"
        extra = extra.groupby([schema.HUB, schema.SOURCE, schema.DATE], as_index=False)[
            schema.CONTACTS
        ].sum()
        count_hubs = sorted(extra[schema.HUB].unique())
        daily = pd.concat([daily, extra[daily.columns if len(daily) else extra.columns]])
    if not len(daily):
        raise ReportError(
            f"{store.path}: no contacts in the store and no --counts; run mashdemand ingest first"
        )
    daily[schema.DATE] = pd.to_datetime(daily[schema.DATE])
    daily[schema.CONTACTS] = daily[schema.CONTACTS].astype("int64")
    return daily.reset_index(drop=True), record_hubs, count_hubs


def split_forecastable(daily: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a daily history into the hubs with enough of it to forecast and the others.

    Parameters
    ----------
    daily : DataFrame
        ``hub, [splits...], date, contacts`` [contacts/day], cut where the report's data end.

    Returns
    -------
    kept : DataFrame
        The rows of the hubs whose contacts span at least :data:`MIN_HISTORY_DAYS` days and
        number at least as many.
    left_out : DataFrame
        ``hub, contacts, days`` of the others [contacts], [days from first to last contact].

    Examples
    --------
    >>> days = pd.date_range("2026-01-01", periods=30)
    >>> daily = pd.concat([pd.DataFrame({"hub": "slough", "date": days, "contacts": 5}),
    ...                    pd.DataFrame({"hub": "sluogh", "date": days[:2], "contacts": [2, 1]})])
    >>> kept, left = split_forecastable(daily)
    >>> sorted(kept["hub"].unique()), left.to_dict("records")
    (['slough'], [{'hub': 'sluogh', 'contacts': 3, 'days': 2}])
    """
    seen = daily[daily[schema.CONTACTS] > 0]
    per_hub = seen.groupby(schema.HUB).agg(
        contacts=(schema.CONTACTS, "sum"), first=(schema.DATE, "min"), last=(schema.DATE, "max")
    )
    per_hub = per_hub.reindex(sorted(daily[schema.HUB].unique()))
    days = ((per_hub["last"] - per_hub["first"]).dt.days + 1).fillna(0).astype("int64")
    contacts = per_hub["contacts"].fillna(0).astype("int64")
    short = (days < MIN_HISTORY_DAYS) | (contacts < MIN_HISTORY_DAYS)
    left = pd.DataFrame(
        {schema.HUB: per_hub.index[short], "contacts": contacts[short], "days": days[short]}
    ).reset_index(drop=True)
    kept = daily[~daily[schema.HUB].isin(left[schema.HUB])].reset_index(drop=True)
    return kept, left


def left_out_text(left_out: pd.DataFrame | Sequence[dict[str, Any]]) -> str:
    """The one line naming the hubs :func:`split_forecastable` left out (its frame, or its
    records as a report's ``facts["left_out"]`` holds them).

    >>> left_out_text([{"hub": "sluogh", "contacts": 3, "days": 2}])
    'left out hub(s) sluogh (3 contacts, 2 days of history): too little history to forecast'
    """
    hubs = ", ".join(
        f"{r.hub} ({r.contacts:,} contacts, {r.days:,} days of history)"
        for r in pd.DataFrame(left_out).itertuples()
    )
    return f"left out hub(s) {hubs}: too little history to forecast"


def forecastable_history(
    daily: pd.DataFrame, until: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`split_forecastable`, with a one-line :class:`ReportError` when no hub of
    ``daily`` (data up to ``until``) has enough history."""
    if daily.empty:
        raise ReportError(f"no contacts up to {until:%d/%m/%Y} to forecast from")
    kept, left = split_forecastable(daily)
    if kept.empty:
        hubs = left_out_text(left).removeprefix("left out hub(s) ").split(": ")[0]
        raise ReportError(
            f"too little history to forecast any hub up to {until:%d/%m/%Y}: {hubs}; "
            f"{_HISTORY_RULE}"
        )
    return kept, left


def left_out_note(left_out: pd.DataFrame, until: pd.Timestamp) -> str:
    """The report's note on the hubs left out (what, why, and what to do)."""
    return (
        f"{left_out_text(left_out)} up to {until:%d/%m/%Y} ({_HISTORY_RULE}); a mistyped hub "
        "can be removed with mashdemand store remove-hub"
    )


_HISTORY_RULE = (
    f"a hub needs contacts spanning {MIN_HISTORY_DAYS} days or more, first to last, and "
    f"{MIN_HISTORY_DAYS} contacts or more"
)


# --- the build --------------------------------------------------------------------------------
def build_quarterly(
    store: Store,
    *,
    quarter: str | pd.Period | None = None,
    counts: str | Path | None = None,
    population: pd.DataFrame | None = None,
    housing: pd.DataFrame | None = None,
    scenario: Scenario | str | None = None,
    staffing_config: Any = None,
    archive: bool = True,
    reconstruct: bool = True,
    n_jobs: int = 2,
    progress: bool = False,
    models: Sequence[str] | None = None,
) -> QuarterlyReport:
    """Gather the quarterly report for ``quarter`` from a store (and optional counts).

    Parameters
    ----------
    store : Store
        Only read (:func:`run_quarterly` passes a :meth:`Store.snapshot`, so other processes
        can use the file meanwhile).
    quarter : str or Period, optional
        Calendar quarter reported on; default the last one the data cover completely. Only the
        data up to its last day are used.
    counts : path, optional
        Daily counts CSV for hubs without record-level logs.
    population, housing : DataFrame, optional
        Drivers (CONTRACTS.md section 3) for the financial-year projection.
    scenario : Scenario or str, optional
        Forecast assumptions; default principal.
    staffing_config : StaffingConfig, optional
        Default: the shipped, sourced defaults.
    archive : bool
        Collect this run's forecasts in ``pending_runs``, for the store's archive.
    reconstruct : bool
        When no forecast of the report quarter was archived before it began, make one now from
        the data up to the day before the quarter (labelled *reconstructed*; in
        ``pending_runs`` when ``archive``).
    n_jobs : int
        Parallel workers for the model fits and the staffing plan.
    progress : bool
        Show a progress bar over the stages.
    models : sequence of str, optional
        Override the daily models (tests use a fast set); default the package defaults.

    Hubs with too little history before the quarter ends (:func:`split_forecastable`) are left
    out of every table and named in the notes and ``facts["left_out"]``.

    The stages, each a function of its own: :func:`report_history` (the data, demand and
    data-quality tables), :func:`forecast_stage` (the projection and its daily near-term
    forecast), :func:`prior_stage` (last quarter's forecast against the actuals),
    :func:`staffing_stage` (plan and verification), then the sections
    (:func:`mashdemand.report.sections.add_sections`).
    """
    from tqdm.auto import tqdm

    from mashdemand.report.sections import add_sections
    from mashdemand.staffing import load_config

    t0 = time.perf_counter()
    stages = (
        "reading the store",
        "forecast",
        "last quarter's forecast",
        "staffing",
        "sections (charts, words)",
    )
    bar = tqdm(total=len(stages), desc="quarterly report", disable=not progress, unit="stage")
    cfg = staffing_config or load_config()

    bar.set_postfix_str(stages[0])
    hist = report_history(store, quarter, counts, cfg)
    bar.update()
    bar.set_postfix_str(stages[1])
    result, near, pending = forecast_stage(
        hist, population, housing, scenario, n_jobs, models, archive
    )
    bar.update()
    bar.set_postfix_str(stages[2])
    prior_stage(store, hist, near, n_jobs, models, pending if archive else [], reconstruct)
    bar.update()
    bar.set_postfix_str(stages[3])
    plan, checked = staffing_stage(store, hist, near, cfg, n_jobs)
    bar.update()
    bar.set_postfix_str(stages[4])
    hist.facts.update(_facts(hist.tables, result, near, plan, checked, hist.quarter))
    report = QuarterlyReport(
        quarter=hist.quarter,
        tables=hist.tables,
        figures={},
        facts=hist.facts,
        notes=hist.notes,
        forecast=result,
        plan=plan,
        pending_runs=pending,
    )
    add_sections(report, store, hist.daily)
    bar.update()
    bar.close()
    report.seconds = time.perf_counter() - t0
    return report


# --- the stages ---------------------------------------------------------------------------
@dataclass
class ReportHistory:
    """The report quarter's data (:func:`report_history`), and the tables, facts and notes
    the later stages add to.

    Attributes
    ----------
    quarter : pandas.Period
        The report quarter.
    daily : DataFrame
        ``hub, [source], date, contacts`` up to the quarter's last day, forecastable hubs only.
    totals : DataFrame
        ``hub, date, contacts`` (sources summed).
    record_hubs, count_hubs : list of str
        Hubs with record-level logs, and hubs with counts only.
    tables, facts, notes
        What the report shows, filled in stage by stage.
    """

    quarter: pd.Period
    daily: pd.DataFrame
    totals: pd.DataFrame
    record_hubs: list[str]
    count_hubs: list[str]
    tables: dict[str, pd.DataFrame]
    facts: dict[str, Any]
    notes: list[str]

    @property
    def last_day(self) -> pd.Timestamp:
        """The quarter's last day."""
        return self.quarter.end_time.normalize()


def report_history(
    store: Store, quarter: str | pd.Period | None, counts: str | Path | None, cfg: Any
) -> ReportHistory:
    """Stage 1: the data up to the end of ``quarter`` (default the last complete one), the
    demand and data-quality tables, and the facts that need no forecast."""
    notes: list[str] = []
    daily_all, record_hubs, count_hubs = load_report_history(store, counts)
    last_day = daily_all[schema.DATE].max()
    q = parse_quarter(quarter) if isinstance(quarter, str) else quarter
    q = q or default_quarter(last_day)
    q1 = q.end_time.normalize()
    if q1 > last_day:
        raise ReportError(
            f"quarter {q} runs to {q1:%d/%m/%Y} but the data end on "
            f"{last_day:%d/%m/%Y}; choose {default_quarter(last_day)} or earlier"
        )
    daily = daily_all[daily_all[schema.DATE] <= q1]
    no_data = sorted(set(daily_all[schema.HUB]) - set(daily[schema.HUB]))
    if no_data:
        notes.append(
            f"no history before the end of {q} for {', '.join(map(display_name, no_data))}"
        )
    daily, left_out = forecastable_history(daily, q1)
    if len(left_out):
        notes.append(left_out_note(left_out, q1))
    hubs = sorted(daily[schema.HUB].unique())
    record_hubs = [h for h in record_hubs if h in hubs]
    count_hubs = [h for h in count_hubs if h in hubs]
    totals = daily.groupby([schema.HUB, schema.DATE], as_index=False)[schema.CONTACTS].sum()
    facts: dict[str, Any] = {
        "quarter": str(q),
        "quarter_words": quarter_words(q),
        "store": store.path,
        "data_end": last_day,
        "record_hubs": record_hubs,
        "count_hubs": count_hubs,
        "left_out": left_out.to_dict("records"),
        # the words of the service standards, from their one definition (mashdemand.standards)
        "standards": cfg.standards.summary(),
        "urgent_standard": cfg.standards.deadlines["urgent"].describe(),
        # what readers call each operating option ("07:00-19:00 weekdays"); tables keep keys
        "option_labels": {name: o.label for name, o in cfg.options.items()},
    }
    tables = _demand_tables(store, daily, q, hubs)
    facts["quarter_contacts"] = int(tables["headline"].set_index(schema.HUB).loc["ALL", "contacts"])
    tables["quarantine"], tables["gaps"] = _data_quality(store, daily, q)
    return ReportHistory(q, daily, totals, record_hubs, count_hubs, tables, facts, notes)


def forecast_stage(
    hist: ReportHistory,
    population: pd.DataFrame | None,
    housing: pd.DataFrame | None,
    scenario: Scenario | str | None,
    n_jobs: int,
    models: Sequence[str] | None,
    archive: bool,
) -> tuple[ForecastResult, ForecastResult, list[ArchiveRun]]:
    """Stage 2: the financial-year projection embedding the daily near-term forecast, their
    tables, and (with ``archive``) both runs for the store's archive."""
    q, q1, notes = hist.quarter, hist.last_day, hist.notes
    hub_first = hist.daily.groupby(schema.HUB)[schema.DATE].min()
    short = hub_first[hub_first > q1 - pd.Timedelta(days=2 * 365)]
    if len(short):
        notes.append(
            "less than two years of history for "
            + ", ".join(f"{display_name(h)} (from {d:%d/%m/%Y})" for h, d in short.items())
            + ": their forecasts lean on the pooled models and have wide intervals"
        )
    first_day = hist.totals[schema.DATE].min()
    first_full_fy = fy_start(first_day) + pd.DateOffset(years=int(first_day != fy_start(first_day)))
    if first_full_fy + pd.DateOffset(years=1) - pd.Timedelta(days=1) > q1:
        raise ReportError(
            f"the financial-year projection needs at least one complete financial year (April "
            f"to March) of history; the data run from {first_day:%d/%m/%Y} to {q1:%d/%m/%Y}"
        )
    fy_until = fy_start(q1) + pd.DateOffset(years=NEXT_FYS + 1) - pd.Timedelta(days=1)
    result = fy_projection(
        hist.daily, fy_until, population, housing, scenario, n_jobs, models, str(q)
    )
    near = result.near_term
    if near is None:  # pragma: no cover - align_daily is on and the history is daily
        raise ReportError("the daily near-term forecast is missing")
    hist.tables.update(_forecast_tables(result, near, hist.totals, q))
    pending: list[ArchiveRun] = []
    if archive:
        for r in (near, result):
            run = ArchiveRun(
                r.frame,
                freq=r.freq,
                data_window=near.data_window,  # the daily data the run saw
                kind="archived",
                report_quarter=str(q),
                scenario=str(r.scenario.name),
                models=tuple(r.models),
            )
            _keep_if_complete(run, pending, notes)
    return result, near, pending


def prior_stage(
    store: Store,
    hist: ReportHistory,
    near: ForecastResult,
    n_jobs: int,
    models: Sequence[str] | None,
    pending: list[ArchiveRun],
    reconstruct: bool,
) -> None:
    """Stage 3: how last quarter's forecast did: the one archived before the quarter began,
    or (``reconstruct``) one made now from the data before it, added to ``pending``."""
    from mashdemand.report.archive import compare_with_actual, find_forecast_for

    q, tables = hist.quarter, hist.tables
    prior = find_forecast_for(store, q)
    if prior is None and reconstruct:
        prior = _reconstructed_prior(hist.totals, q, n_jobs, models, pending, hist.notes, near)
    if prior is not None:
        run, fc_prior = prior
        tables["forecast_vs_actual"] = compare_with_actual(fc_prior, hist.totals, q)
        tables["prior_forecast"] = fc_prior
        hist.facts["prior_run"] = run
    else:
        tables["forecast_vs_actual"] = pd.DataFrame()
        hist.facts["prior_run"] = None
    tables["headline"] = _headline_with_forecast(tables["headline"], tables["forecast_vs_actual"])


def staffing_stage(
    store: Store, hist: ReportHistory, near: ForecastResult, cfg: Any, n_jobs: int
) -> tuple[Any, pd.DataFrame]:
    """Stage 4: the staffing plan for the quarters the daily forecast covers completely, and
    its verification by simulation."""
    from mashdemand.staffing import plan_staffing
    from mashdemand.staffing.plan import profile_contacts

    nf = near.frame
    fc_hubs = nf[nf[schema.HUB] != schema.FORCE_TOTAL]
    first, last = fc_hubs[schema.DATE].min(), fc_hubs[schema.DATE].max()
    plan_quarters = [str(p) for p in whole_periods(first, last, "Q")]
    # Arrival profiles from the record-level contacts up to the end of the quarter.
    recs = (
        profile_contacts(store, until=hist.last_day, hubs=hist.record_hubs)
        if hist.record_hubs
        else None
    )
    plan = plan_staffing(fc_hubs, recs, cfg, n_jobs=n_jobs, quarters=plan_quarters)
    checked = plan.verify(n_jobs=n_jobs)
    hist.notes.extend(plan.notes)
    hist.tables.update(_staffing_tables(plan, checked, cfg))
    return plan, checked


def _keep_if_complete(run: ArchiveRun, pending: list[ArchiveRun], notes: list[str]) -> bool:
    """Add ``run`` to ``pending`` unless it has rows without a value (noted, never archived)."""
    holes = run.missing_values()
    if holes:
        notes.append(
            f"the {run.kind} {run.freq} forecast has {holes:,} row(s) without a value and was "
            "not archived"
        )
        return False
    pending.append(run)
    return True


def _reconstructed_prior(
    totals: pd.DataFrame,
    q: pd.Period,
    n_jobs: int,
    models: Sequence[str] | None,
    pending: list[ArchiveRun],
    notes: list[str],
    fitted: ForecastResult | None = None,
) -> tuple[dict, pd.DataFrame] | None:
    """Last quarter's forecast made now from the data before ``q`` (two years or more needed),
    as :func:`~mashdemand.report.archive.find_forecast_for` returns it; added to ``pending``.

    With ``fitted``, this quarter's daily forecast held in memory, it is that forecast as of
    the day before ``q`` (:meth:`~mashdemand.forecast.api.ForecastResult.as_of`: its models
    fitted again on the data before ``q``, weighted and calibrated from its backtest errors
    known then), under the principal scenario; otherwise, or where that cannot be made, a
    whole forecast of the data before ``q``."""
    from mashdemand.report.archive import forecast_from_run

    q0, q1 = q.start_time.normalize(), q.end_time.normalize()
    before = totals[totals[schema.DATE] < q0]
    if before[schema.DATE].nunique() < 2 * 365:
        return None
    rec = None
    if fitted is not None:
        try:
            rec = fitted.as_of(q0 - pd.Timedelta(days=1), q1)
            rec = rec if rec.scenario == Scenario() else rec.with_scenario(Scenario())
        except ForecastError:
            rec = None  # e.g. a housing scenario (refit) or a result without its models
    try:
        if rec is None:
            rec = forecast(
                before, until=q1, freq="day", history_freq="day", n_jobs=n_jobs, models=models
            )
    except ForecastError as exc:
        notes.append(f"could not reconstruct last quarter's forecast: {exc}")
        return None
    run = ArchiveRun(
        rec.frame,
        freq="day",
        data_window=rec.data_window,
        kind="reconstructed",
        report_quarter=str(q - 1),
        scenario=rec.scenario.name,
        models=tuple(rec.models),
    )
    if not _keep_if_complete(run, pending, notes):
        return None
    return forecast_from_run(run, q)


# --- tables -----------------------------------------------------------------------------------
CATEGORY_ORDER: dict[str, tuple[str, ...]] = {
    schema.SOURCE: schema.SOURCES,
    schema.PRIORITY: schema.PRIORITIES,
    schema.SUBJECT: schema.SUBJECTS,
}


def crosstab(long: pd.DataFrame, dim: str) -> pd.DataFrame:
    """A hub x ``dim`` table of counts from ``hub, <dim>, contacts`` rows: categories in the
    schema's order, a ``total`` column and a force-total ``ALL`` row.

    >>> long = pd.DataFrame({"hub": ["a", "a", "b"], "priority": ["high", "urgent", "high"],
    ...                      "contacts": [3, 1, 2]})
    >>> crosstab(long, "priority").to_dict("list")
    {'hub': ['a', 'b', 'ALL'], 'urgent': [1, 0, 1], 'high': [3, 2, 5], 'total': [4, 2, 6]}
    """
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot_table(
        index=schema.HUB, columns=dim, values=schema.CONTACTS, aggfunc="sum", fill_value=0
    )
    order = [c for c in CATEGORY_ORDER.get(dim, ()) if c in wide.columns]
    wide = wide[order + sorted(c for c in wide.columns if c not in order)]
    wide["total"] = wide.sum(axis=1)
    wide.loc[schema.FORCE_TOTAL] = wide.sum(axis=0)
    return wide.astype("int64").rename_axis(index=schema.HUB, columns=None).reset_index()


def window_sum(
    daily: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, by: Sequence[str]
) -> pd.DataFrame:
    """Contacts from ``start`` to ``end`` (inclusive) summed by ``by``."""
    d = daily[(daily[schema.DATE] >= start) & (daily[schema.DATE] <= end)]
    return d.groupby(list(by), as_index=False)[schema.CONTACTS].sum()


def _quarter_sum(daily: pd.DataFrame, q: pd.Period, by: Sequence[str]) -> pd.DataFrame:
    return window_sum(daily, q.start_time.normalize(), q.end_time.normalize(), by)


def store_crosstab(
    store: Store,
    dim: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    hubs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """hub x ``dim`` contacts received from ``start`` to ``end`` in the record-level contacts
    (:func:`crosstab`; missing values counted as ``unknown``), of ``hubs`` if given."""
    return crosstab(store.counts_by(dim, start, end, hubs), dim)


def _demand_tables(
    store: Store, daily: pd.DataFrame, q: pd.Period, hubs: Sequence[str]
) -> dict[str, pd.DataFrame]:
    this = _quarter_sum(daily, q, [schema.HUB]).set_index(schema.HUB)[schema.CONTACTS]
    last_year = _quarter_sum(daily, q - 4, [schema.HUB]).set_index(schema.HUB)[schema.CONTACTS]
    prev = _quarter_sum(daily, q - 1, [schema.HUB]).set_index(schema.HUB)[schema.CONTACTS]
    head = pd.DataFrame({"contacts": this}).fillna(0)
    head["previous_quarter"] = prev.reindex(head.index)
    head["same_quarter_last_year"] = last_year.reindex(head.index)
    head.loc[schema.FORCE_TOTAL] = head.sum(axis=0, min_count=1)
    head["change_on_year_pct"] = 100 * (head["contacts"] / head["same_quarter_last_year"] - 1)
    head = head.rename_axis(schema.HUB).reset_index()

    by_source = crosstab(_quarter_sum(daily, q, [schema.HUB, schema.SOURCE]), schema.SOURCE)

    q0, q1 = q.start_time.normalize(), q.end_time.normalize()
    start = (q - 7).start_time
    recent = daily[(daily[schema.DATE] >= start) & (daily[schema.DATE] <= q1)]
    month = recent[schema.DATE].dt.to_period("M")
    monthly = (
        recent.groupby([month.rename("month"), recent[schema.HUB]])[schema.CONTACTS]
        .sum()
        .unstack(schema.HUB)
        .fillna(0)
        .astype("int64")
    )
    monthly[schema.FORCE_TOTAL] = monthly.sum(axis=1)
    monthly.index = [p.start_time.strftime("%b %Y") for p in monthly.index]
    return {
        "headline": head,
        "demand_by_source": by_source,
        "demand_by_priority": store_crosstab(store, schema.PRIORITY, q0, q1, hubs),
        "demand_by_subject": store_crosstab(store, schema.SUBJECT, q0, q1, hubs),
        "monthly": monthly.rename_axis("month").reset_index(),
    }


def _data_quality(
    store: Store, daily: pd.DataFrame, q: pd.Period
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Quarantined rows by reason, and days in the last year with no or very few contacts."""
    qt = store.quarantine_by_reason()
    read = store.rows_read()
    qt["share_of_rows_read_pct"] = 100 * qt["rows"] / read if read else np.nan
    conflicts = store.count("conflicts")
    if conflicts:
        qt.loc[len(qt)] = ["conflict: contact_id stored with other content", conflicts, 0, np.nan]

    q1 = q.end_time.normalize()
    start = q1 - pd.Timedelta(days=364)
    tot = daily.groupby([schema.HUB, schema.DATE])[schema.CONTACTS].sum().reset_index()
    rows = []
    for hub, g in tot.groupby(schema.HUB):
        s = g.set_index(schema.DATE)[schema.CONTACTS]
        s = s.reindex(pd.date_range(max(start, s.index.min()), q1), fill_value=0)
        typical = s.groupby(s.index.day_of_week).transform("median")
        zero = s == 0
        low = (s > 0) & (s < 0.25 * typical)
        run = longest = 0
        longest_end = None
        for day, z in zero.items():
            run = run + 1 if z else 0
            if run > longest:
                longest, longest_end = run, day
        rows.append(
            {
                schema.HUB: hub,
                "days": len(s),
                "days_without_contacts": int(zero.sum()),
                "longest_gap_days": int(longest),
                "longest_gap_ends": longest_end.strftime("%d/%m/%Y") if longest_end else "",
                "days_under_quarter_of_usual": int(low.sum()),
                "expected_zero_days": int((typical == 0).sum()),
            }
        )
    return qt, pd.DataFrame(rows)


def _forecast_tables(
    result: ForecastResult, near: ForecastResult, totals: pd.DataFrame, q: pd.Period
) -> dict[str, pd.DataFrame]:
    cols = [schema.HUB, schema.DATE, schema.YHAT, "lo80", "hi80", "lo95", "hi95"]
    dly = near.frame[cols].copy()
    # Complete calendar months the daily forecast covers: central forecast [contacts/month].
    first, last = dly[schema.DATE].min(), dly[schema.DATE].max()
    months = whole_periods(first, last, "M")
    m = dly[dly[schema.DATE].dt.to_period("M").isin(months)]
    fm = m.groupby([m[schema.HUB], m[schema.DATE].dt.to_period("M").rename("month")])[
        schema.YHAT
    ].sum()
    fm = fm.unstack("month").round(0)
    fm.columns = [p.start_time.strftime("%b %Y") for p in fm.columns]
    fm = fm.loc[[h for h in fm.index if h != schema.FORCE_TOTAL] + [schema.FORCE_TOTAL]]

    fy = result.frame[cols].copy()
    fy.insert(1, "financial_year", fy[schema.DATE].map(fy_label))
    hist_fy = totals.assign(fy=totals[schema.DATE].map(fy_start))
    cur = fy_start(q.end_time)
    observed = (
        hist_fy[hist_fy["fy"] == cur].groupby(schema.HUB)[schema.CONTACTS].sum().to_dict()
        if cur in set(fy[schema.DATE])
        else {}
    )
    observed[schema.FORCE_TOTAL] = sum(observed.values())
    fy["observed_so_far"] = np.where(
        fy[schema.DATE] == cur, fy[schema.HUB].map(observed).fillna(0), 0
    ).astype("int64")
    fy = fy.drop(columns=[schema.DATE])
    last_full = hist_fy[hist_fy["fy"] == cur - pd.DateOffset(years=1)]
    base = last_full.groupby(schema.HUB)[schema.CONTACTS].sum()
    base[schema.FORCE_TOTAL] = base.sum()
    fy["change_on_last_full_year_pct"] = 100 * (fy[schema.YHAT] / fy[schema.HUB].map(base) - 1)

    bt = []
    for res, label in ((near, "daily"), (result, "financial year")):
        if res.backtest is None:
            continue
        ov = res.backtest.overall.set_index("model")
        snaive = ov["mase"].get("snaive", np.nan)
        for model, r in ov.iterrows():
            bt.append(
                {
                    "forecast": label,
                    "model": model,
                    "points": int(r["n"]),
                    "mase": r["mase"],
                    "vs_seasonal_naive_pct": 100 * (r["mase"] / snaive - 1),
                    "rel_bias_pct": 100 * r["rel_bias"],
                    "coverage80": r["coverage80"],
                    "coverage95": r["coverage95"],
                }
            )
    return {
        "forecast_daily": dly,
        "forecast_months": fm.rename_axis(schema.HUB).reset_index(),
        "forecast_fy": fy,
        "backtest": pd.DataFrame(bt),
    }


def _headline_with_forecast(head: pd.DataFrame, fva: pd.DataFrame) -> pd.DataFrame:
    if fva is None or fva.empty:
        return head.assign(forecast=np.nan, forecast_error_pct=np.nan)
    f = fva.set_index(schema.HUB)
    return head.assign(
        forecast=head[schema.HUB].map(f["forecast"]),
        forecast_error_pct=head[schema.HUB].map(f["error_pct"]),
    )


def _staffing_tables(plan: Any, checked: pd.DataFrame, cfg: Any) -> dict[str, pd.DataFrame]:
    s = plan.summary
    roles = [c for c in s.columns if c.startswith("fte_") and c != "fte_required"]
    within = [f"within_{p}" for p in schema.PRIORITIES]
    rec = plan.recommended[
        [schema.HUB, "quarter", "option", "fte_required", *roles, *within, "meets_targets"]
    ]
    base = s[s["option"] == cfg.baseline].set_index([schema.HUB, "quarter"])
    rec = rec.assign(
        baseline_fte=[
            base["fte_required"].get((h, qq), np.nan)
            for h, qq in zip(rec[schema.HUB], rec["quarter"], strict=True)
        ]
    )
    first_q = s["quarter"].min()
    opts = s[s["quarter"] == first_q][
        [
            schema.HUB,
            "option",
            "fte_required",
            "out_of_hours_share",
            "monday_backlog",
            "within_urgent",
            "within_high",
            "wait_hours_urgent",
            "meets_targets",
            "recommended",
        ]
    ]
    force = (
        s.groupby(["quarter", "option"])
        .agg(
            fte_required=("fte_required", "sum"),
            out_of_hours_arrivals=("out_of_hours_arrivals", "sum"),
            contacts=("contacts", "sum"),
            monday_backlog=("monday_backlog", "sum"),
        )
        .reset_index()
    )
    force["out_of_hours_share"] = force["out_of_hours_arrivals"] / force["contacts"]
    return {
        "staffing": rec.reset_index(drop=True),
        "staffing_options": opts.reset_index(drop=True),
        "staffing_force_options": force,
        "weekend_cover": plan.weekend_cover,
        "verification": checked,
    }


def _facts(
    tables: dict[str, pd.DataFrame],
    result: ForecastResult,
    near: ForecastResult,
    plan: Any,
    checked: pd.DataFrame,
    q: pd.Period,
) -> dict[str, Any]:
    head = tables["headline"].set_index(schema.HUB)
    fy = tables["forecast_fy"]
    fy_all = fy[fy[schema.HUB] == schema.FORCE_TOTAL].reset_index(drop=True)
    staff = tables["staffing"]
    first_q = staff["quarter"].min()
    rec_q = staff[staff["quarter"] == first_q]
    bt = tables["backtest"]
    ens = bt[(bt["model"] == "ensemble") & (bt["forecast"] == "daily")]
    fm = tables["forecast_months"].set_index(schema.HUB)
    return {
        "change_on_year_pct": float(head.loc[schema.FORCE_TOTAL, "change_on_year_pct"]),
        "fy_labels": fy_all["financial_year"].tolist(),
        "fy_yhat": fy_all[schema.YHAT].round(0).tolist(),
        "fy_first": fy_all.iloc[0].to_dict() if len(fy_all) else {},
        "fy_last": fy_all.iloc[-1].to_dict() if len(fy_all) else {},
        "months_ahead_total": float(fm.loc[schema.FORCE_TOTAL].sum()) if len(fm) else 0.0,
        "months_ahead": list(fm.columns),
        "first_plan_quarter": first_q,
        "plan_quarters": sorted(staff["quarter"].unique()),
        "force_fte": float(rec_q["fte_required"].sum()),
        "force_baseline_fte": float(rec_q["baseline_fte"].sum()),
        "recommended_options": rec_q["option"].value_counts().to_dict(),
        "met": int(checked["met"].sum()) if len(checked) else 0,
        "checked": len(checked),
        "min_within_urgent": float(checked["within_urgent"].min()) if len(checked) else np.nan,
        "ensemble_mase": float(ens["mase"].iloc[0]) if len(ens) else np.nan,
        "ensemble_vs_snaive_pct": float(ens["vs_seasonal_naive_pct"].iloc[0])
        if len(ens)
        else np.nan,
        "ensemble_cov80": float(ens["coverage80"].iloc[0]) if len(ens) else np.nan,
        "scenario": result.scenario,
        "models": list(near.models),
        "fy_models": list(result.models),
        "reconciliation": result.reconciliation,
        "history_window": near.data_window,
    }


def fy_projection(
    daily: pd.DataFrame,
    until: pd.Timestamp,
    population: pd.DataFrame | None,
    housing: pd.DataFrame | None,
    scenario: Scenario | str | None,
    n_jobs: int,
    models: Sequence[str] | None,
    what: str,
) -> ForecastResult:
    """The financial-year forecast of each hub (with the daily near-term forecast it embeds).

    ``daily`` is ``hub, [source], date, contacts``: with the source, the risk-identification
    scenario scales each hub by its police share, not in full. A forecast error becomes a
    one-line :class:`ReportError` saying ``what`` failed."""
    try:
        return forecast(
            daily,
            until=until,
            freq="fy",
            history_freq="day",
            population=population,
            housing=housing,
            scenario=scenario,
            n_jobs=n_jobs,
            models=models,
        )
    except ForecastError as exc:
        raise ReportError(f"{what}: {exc}") from None


# --- from files to a written report (the CLI's function) -------------------------------------
#: The source checkout's sample folder (absent in an installed wheel).
CHECKOUT_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def sample_dir() -> Path:
    """``data/sample`` of the working directory, else of the source checkout, else the sample
    made on first use in the cache folder (:func:`mashdemand.sample.ensure_sample`)."""
    from mashdemand.sample import ensure_sample

    for d in (Path("data/sample"), CHECKOUT_SAMPLE):
        if all((d / f).exists() for f in ("daily_counts.csv", "population.csv")):
            return d
    return ensure_sample(progress=True)


@dataclass(frozen=True)
class ReportInputs:
    """Where a report's data come from (paths; nothing read yet)."""

    store: Path
    contacts: tuple[Path, ...] = ()
    counts: Path | None = None
    population: Path | None = None
    housing: Path | None = None
    mapping: Path | None = None

    @classmethod
    def sample(cls, store: str | Path | None = None) -> ReportInputs:
        """The sample force: the record-level logs of three hubs, daily counts for all nine,
        and the population and housing drivers, with the store ``data/mashdemand.duckdb``."""
        d = sample_dir()
        return cls(
            store=Path(store) if store else Path("data/mashdemand.duckdb"),
            contacts=tuple(sorted(d.glob("contacts_*.parquet"))),
            counts=d / "daily_counts.csv",
            population=d / "population.csv",
            housing=d / "housing.csv",
        )


def run_quarterly(
    inputs: ReportInputs,
    out: str | Path = "reports",
    *,
    quarter: str | None = None,
    config: str | Path | None = None,
    scenario: str | None = None,
    pdf: bool = True,
    archive: bool = True,
    n_jobs: int = 2,
    progress: bool = False,
    models: Sequence[str] | None = None,
) -> tuple[QuarterlyReport, dict[str, Path]]:
    """Ingest any contact exports into the store, build the report and write it to ``out``.

    The store is held only briefly: the report is built from a :meth:`Store.snapshot`, so other
    processes can read it and ingest meanwhile, and this run's forecasts are archived in one
    short transaction once the report's files are written (a failed report archives nothing).
    Returns the report and the paths written (``html``, ``pdf``, ``json``, ``tables``).
    """
    from mashdemand.drivers import read_housing, read_population
    from mashdemand.report.render import write_report
    from mashdemand.staffing import load_config

    if quarter is not None:  # refuse a clash before minutes of work, not after
        check_report_outputs(
            quarterly_outputs(out, str(parse_quarter(quarter)), pdf), inputs, [config]
        )
    cfg = load_config(config)
    pop = read_population(inputs.population) if inputs.population else None
    hou = read_housing(inputs.housing) if inputs.housing else None
    with snapshot_inputs(inputs) as snap:
        report = build_quarterly(
            snap,
            quarter=quarter,
            counts=inputs.counts,
            population=pop,
            housing=hou,
            scenario=scenario,
            staffing_config=cfg,
            archive=archive,
            n_jobs=n_jobs,
            progress=progress,
            models=models,
        )
    check_report_outputs(quarterly_outputs(out, report.label, pdf, report.tables), inputs, [config])
    paths = write_report(report, out, pdf=pdf)
    ids = archive_pending(inputs.store, report.pending_runs)
    report.facts["archived_runs"] = ids
    prior = report.facts.get("prior_run")
    for run, run_id in zip(report.pending_runs, ids, strict=True):
        if prior and prior["run_id"] is None and run.kind == "reconstructed":
            prior["run_id"] = run_id  # the reconstructed forecast judged, now archived
    return report, paths


def quarterly_outputs(
    out: str | Path, label: str, pdf: bool, tables: Sequence[str] = ()
) -> list[Path]:
    """The files :func:`~mashdemand.report.render.write_report` writes for quarter ``label``
    (the CSV of each table named in ``tables``)."""
    stem = Path(out) / f"mash_quarterly_{label}"
    paths = [stem.with_suffix(".html"), stem.with_suffix(".json")]
    if pdf:
        paths.append(stem.with_suffix(".pdf"))
    tdir = Path(f"{stem}_tables")
    return paths + [tdir / f"{name}.csv" for name in tables]


def check_report_outputs(
    outputs: Sequence[Path], inputs: ReportInputs, also: Sequence[str | Path | None] = ()
) -> None:
    """A :class:`ReportError` if a file the report would write is the store or an input (those
    of ``inputs`` and ``also``; :func:`mashdemand.safety.check_outputs`)."""
    from mashdemand.safety import UnsafePathError, check_outputs

    read = [inputs.counts, inputs.population, inputs.housing, inputs.mapping, *inputs.contacts]
    read += list(also)
    try:
        check_outputs(outputs, store=inputs.store, inputs=[p for p in read if p is not None])
    except UnsafePathError as exc:
        raise ReportError(str(exc)) from None


def snapshot_inputs(inputs: ReportInputs) -> Store:
    """Ingest ``inputs.contacts`` (if any) into the store, then copy the store into memory in
    one read transaction and free the file (:meth:`Store.snapshot_of`): the report reads the
    copy for minutes while ``mashdemand summary`` and ``ingest`` can use the file. Close the
    copy when done."""
    if inputs.contacts:
        from mashdemand.ingest import ingest_contacts

        ingest_contacts(list(inputs.contacts), store=inputs.store, mapping=inputs.mapping)
    elif not inputs.store.exists():
        raise ReportError(f"{inputs.store}: store not found; give --contacts or run ingest")
    return Store.snapshot_of(inputs.store, wait=STORE_WAIT_SECONDS)


def archive_pending(store: str | Path, runs: Sequence[ArchiveRun]) -> list[int]:
    """Archive a report's forecasts in ``store`` in one short transaction; their run ids."""
    if not runs:
        return []
    with Store(store, wait=STORE_WAIT_SECONDS) as st:
        return st.archive_runs(runs)

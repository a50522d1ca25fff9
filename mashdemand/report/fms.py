"""The Force Management Statement (FMS) appendix for the MASH, as DOCX and XLSX.

An FMS sets out, for each area of demand, the demand now and over the next four years, the
workforce it needs against the workforce the force has, how well the service performs, and the
gap and risk. :func:`build_fms_appendix` gathers those for the MASH; :func:`write_docx` and
:func:`write_xlsx` lay them out. The published version applies statistical disclosure control
(:mod:`mashdemand.report.sdc`) to every table of counts; ``internal=True`` writes the
unsuppressed version, marked as such.

Periods: the FMS year ``Y`` reports the last complete financial year ``Y-1``-``Y`` as current
demand and projects ``Y``-``Y+1`` to ``Y+3``-``Y+4``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.calendar import fy_label, fy_start
from mashdemand.cells import neutralise
from mashdemand.forecast.api import Scenario
from mashdemand.hubs import display_name, validate_hubs
from mashdemand.report.quarterly import (
    ReportError,
    ReportInputs,
    check_report_outputs,
    complete_fy_totals,
    crosstab,
    forecastable_history,
    fy_projection,
    left_out_note,
    load_report_history,
    snapshot_inputs,
    store_crosstab,
    whole_periods,
    window_sum,
)
from mashdemand.report.render import fmt_int, fmt_pct
from mashdemand.report.sdc import (
    GSS_SYMBOLS,
    NOT_AVAILABLE,
    SUPPRESSED,
    DisclosureRule,
    protect,
)
from mashdemand.standards import ServiceStandards, deadline_met
from mashdemand.store import Store

__all__ = [
    "DEFAULT_SCENARIOS",
    "FmsAppendix",
    "FmsTable",
    "build_fms_appendix",
    "read_establishment",
    "run_fms_appendix",
    "timeliness",
]

DEFAULT_SCENARIOS: tuple[str, ...] = (
    "principal",
    "low",
    "high",
    "risk_growth:risk_identification=0.05",
)
"""Principal, ONS low and high population variants, and 5% more police risk identification."""

PROJECTION_ROUNDING = 10
"""Projections are rounded to the nearest 10 contacts: they are estimates, not counts."""


class FmsTable:
    """One numbered table: its title, the numbers, what is published, and notes.

    ``data`` holds the true values; ``published`` the same table after disclosure control
    (numbers or GSS symbols); ``counts`` names the columns that are counts of contacts (the ones
    disclosure control applies to).
    """

    def __init__(
        self,
        key: str,
        title: str,
        data: pd.DataFrame,
        counts: Sequence[str] = (),
        note: str = "",
        rule: DisclosureRule | None = None,
        internal: bool = False,
        shares: dict[str, str] | None = None,
    ) -> None:
        self.key, self.title, self.data, self.note = key, title, data.reset_index(drop=True), note
        self.counts = [c for c in counts if c in data.columns]
        self.published = self.data.astype(object).copy()
        self.n_suppressed = 0
        if self.counts and not internal:
            self._protect(rule or DisclosureRule(), shares or {})
        self.published = self.published.where(self.published.notna(), NOT_AVAILABLE)

    def _protect(self, rule: DisclosureRule, shares: dict[str, str]) -> None:
        """Suppress counts 1-5 (and what would reveal them): hub rows x count columns, with the
        ``ALL`` row and a ``total`` column as margins when present."""
        first = self.data.columns[0]
        body = self.data.set_index(first)[self.counts].astype(float)
        col_total = schema.FORCE_TOTAL if schema.FORCE_TOTAL in body.index else None
        row_total = "total" if "total" in body.columns else None
        res = protect(body, rule, row_total=row_total, col_total=col_total)
        pub = res.published.reset_index()
        for c in self.counts:
            self.published[c] = pub[c].to_numpy()
        # A share or rate computed from a suppressed count would reveal it: suppress it too.
        for share_col, count_col in shares.items():
            hidden = res.mask[count_col].to_numpy()
            self.published.loc[hidden, share_col] = SUPPRESSED
        self.n_suppressed = int(res.mask.to_numpy().sum())


@dataclass
class FmsAppendix:
    """The FMS appendix: numbered tables, narrative paragraphs, charts, assumptions."""

    year: int
    internal: bool
    tables: list[FmsTable]
    paragraphs: dict[str, list[str]]
    figures: dict[str, Any]
    assumptions: list[str]
    sources: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: Column -> key -> the name readers see (``option``: "07:00-19:00 weekdays", ``role``).
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def table(self, key: str) -> FmsTable:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)


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


def timeliness(contacts: pd.DataFrame, standards: ServiceStandards | None = None) -> pd.DataFrame:
    """Whether each decided contact met its timeliness standard.

    Measured against the one definition of the standards (:mod:`mashdemand.standards`), the same
    the staffing plan is held to.

    Parameters
    ----------
    contacts : DataFrame
        ``hub, priority, received_at_utc, decided_at_utc`` (naive UTC, as stored).
    standards : ServiceStandards, optional
        The standards (default: the shipped ones; the FMS passes the staffing config's).

    Returns
    -------
    DataFrame
        ``hub, priority, met`` for the contacts with a decision and a known priority. With the
        shipped standards: urgent within 4 working hours; high the same working day (the next
        when received in the last 1.5 working hours or on a non-working day); medium and
        standard within 3 and 7 working days.

    Examples
    --------
    >>> c = pd.DataFrame({"hub": "a", "priority": ["urgent", "medium"],
    ...     "received_at_utc": pd.to_datetime(["2024-03-01 09:00", "2024-03-01 09:00"]),
    ...     "decided_at_utc": pd.to_datetime(["2024-03-01 14:00", "2024-03-06 10:00"])})
    >>> timeliness(c)["met"].tolist()  # 5 working hours; Fri -> Wed is 3 working days
    [False, True]
    """
    c = contacts.dropna(subset=["decided_at_utc"])
    c = c[c[schema.PRIORITY].isin(schema.PRIORITIES)]
    met = deadline_met(
        pd.to_datetime(c["received_at_utc"]).dt.tz_localize("UTC"),
        pd.to_datetime(c["decided_at_utc"]).dt.tz_localize("UTC"),
        c[schema.PRIORITY].to_numpy(),
        standards,
    )
    return pd.DataFrame(
        {
            schema.HUB: c[schema.HUB].to_numpy(),
            schema.PRIORITY: c[schema.PRIORITY].to_numpy(),
            "met": met,
        }
    )


def decided_contacts(
    store: Store, start: pd.Timestamp, end: pd.Timestamp, hubs: Sequence[str]
) -> pd.DataFrame:
    """Contacts of ``hubs`` received from ``start`` to ``end`` with their decision times, for
    :func:`timeliness`: ``hub, priority, subject, received_at_utc, decided_at_utc,
    received_date, decided_date`` (local dates)."""
    return store.decisions(start, end, hubs)


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
    internal: bool = False,
    jobs: int = 2,
    progress: bool = False,
    models: Sequence[str] | None = None,
) -> FmsAppendix:
    """Gather the FMS appendix for FMS year ``year`` (see the module docstring for periods).

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
    rule : DisclosureRule, optional
        Disclosure control for published tables (default counts 1-5 suppressed).
    internal : bool
        Unsuppressed internal version.
    models : sequence of str, optional
        Override the forecast models (tests use a fast set).
    """
    from tqdm.auto import tqdm

    from mashdemand.staffing import load_config, plan_staffing
    from mashdemand.staffing.plan import profile_contacts

    t0 = time.perf_counter()
    rule = rule or DisclosureRule()
    cfg = staffing_config or load_config()
    daily, record_hubs, count_hubs = load_report_history(store, counts)
    last_day = daily[schema.DATE].max()
    # A stray hub (a mistyped name, a few contacts) is left out and named, not fatal.
    daily, left_out = forecastable_history(daily, last_day)
    kept = set(daily[schema.HUB])
    record_hubs = [h for h in record_hubs if h in kept]
    count_hubs = [h for h in count_hubs if h in kept]
    cur0 = pd.Timestamp(year=year - 1, month=4, day=1)
    cur1 = pd.Timestamp(year=year, month=3, day=31)
    if last_day < cur1:
        raise ReportError(
            f"FMS {year} reports financial year {fy_label(cur0)} as current demand, but the data "
            f"end on {last_day:%d/%m/%Y}; use --year {year - 1} or load data to {cur1:%d/%m/%Y}"
        )
    totals = daily.groupby([schema.HUB, schema.DATE], as_index=False)[schema.CONTACTS].sum()
    hubs = sorted(totals[schema.HUB].unique())
    fys = [pd.Timestamp(year=year + k, month=4, day=1) for k in range(4)]
    fy_names = [fy_label(d) for d in fys]
    until = fys[-1] + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    bar = tqdm(total=len(scenarios) + 2, desc="FMS appendix", disable=not progress, unit="step")

    # --- demand now -------------------------------------------------------------------------
    prev0 = cur0 - pd.DateOffset(years=1)
    fyh = complete_fy_totals(daily)
    now = fyh[fyh[schema.DATE] == cur0].set_index(schema.HUB)[schema.CONTACTS]
    before = fyh[fyh[schema.DATE] == prev0].set_index(schema.HUB)[schema.CONTACTS]
    t_now = pd.DataFrame(
        {
            schema.HUB: hubs + [schema.FORCE_TOTAL],
            f"contacts_{fy_label(prev0)}": [before.get(h, np.nan) for h in hubs]
            + [before.get(schema.FORCE_TOTAL, np.nan)],
            f"contacts_{fy_label(cur0)}": [now.get(h, np.nan) for h in hubs]
            + [now.get(schema.FORCE_TOTAL, np.nan)],
        }
    )
    c_prev, c_now = t_now.columns[1], t_now.columns[2]
    t_now["change_pct"] = (100 * (t_now[c_now] / t_now[c_prev] - 1)).round(1)
    t_src = crosstab(window_sum(daily, cur0, cur1, [schema.HUB, schema.SOURCE]), schema.SOURCE)
    t_pri = store_crosstab(store, schema.PRIORITY, cur0, cur1, hubs)
    rec = decided_contacts(store, cur0, cur1, hubs)
    bar.update()

    # --- demand ahead: the principal and scenarios --------------------------------------------
    proj: dict[str, pd.DataFrame] = {}
    principal = None
    for text in scenarios:
        sc = Scenario.parse(text)
        res = fy_projection(
            daily, until, population, housing, sc, jobs, models, f"FMS projection ({sc.name})"
        )
        if principal is None:
            principal = res
        proj[sc.name] = res.frame[res.frame[schema.DATE].isin(fys)]
        bar.update()
    assert principal is not None
    pf = proj[Scenario.parse(scenarios[0]).name]
    force = pf[pf[schema.HUB] == schema.FORCE_TOTAL].set_index(schema.DATE)
    r = PROJECTION_ROUNDING
    t_proj = pd.DataFrame(
        {
            "financial_year": fy_names,
            "forecast": [_round(force.loc[d, schema.YHAT], r) for d in fys],
            "lo80": [_round(force.loc[d, "lo80"], r) for d in fys],
            "hi80": [_round(force.loc[d, "hi80"], r) for d in fys],
            "change_on_current_pct": [
                round(
                    100 * (force.loc[d, schema.YHAT] / now.get(schema.FORCE_TOTAL, np.nan) - 1), 1
                )
                for d in fys
            ],
        }
    )
    scen_rows = []
    for name, f in proj.items():
        fa = f[f[schema.HUB] == schema.FORCE_TOTAL].set_index(schema.DATE)
        scen_rows.append(
            {
                "scenario": name,
                **{
                    n: _round(fa.loc[d, schema.YHAT], r) for n, d in zip(fy_names, fys, strict=True)
                },
            }
        )
    t_scen = pd.DataFrame(scen_rows)
    by_hub = pf[pf[schema.HUB] != schema.FORCE_TOTAL].pivot_table(
        index=schema.HUB, columns=schema.DATE, values=schema.YHAT
    )
    by_hub.columns = [fy_label(c) for c in by_hub.columns]
    by_hub.loc[schema.FORCE_TOTAL] = by_hub.sum()
    t_proj_hub = by_hub.map(lambda v: _round(v, r)).rename_axis(index=schema.HUB).reset_index()
    t_drivers = _drivers_table(population, housing, hubs, fys)

    # --- workforce: FTE required per projection year vs establishment ------------------------
    fc_hubs, quarters = workforce_forecast(principal, fys)
    recs = profile_contacts(store, hubs=record_hubs) if record_hubs else None
    plan = plan_staffing(fc_hubs, recs, cfg, jobs=jobs, quarters=quarters)
    bar.update()
    bar.close()
    rq = plan.recommended
    role_cols = [c for c in rq.columns if c.startswith("fte_") and c != "fte_required"]
    fte = rq.assign(
        financial_year=rq["quarter"].map(lambda q: fy_label(pd.Period(q, freq="Q").start_time))
    )
    est_hub = establishment.groupby(schema.HUB)["fte"].sum() if establishment is not None else None
    wf_rows = []
    for fy in fy_names:
        g = fte[fte["financial_year"] == fy]
        req = float(g["fte_required"].sum())
        est = float(est_hub.reindex(hubs).fillna(0).sum()) if est_hub is not None else np.nan
        wf_rows.append(
            {
                "financial_year": fy,
                "fte_required": round(req, 1),
                **{c.removeprefix("fte_"): round(float(g[c].sum()), 1) for c in role_cols},
                "establishment_fte": round(est, 1) if est_hub is not None else np.nan,
                "gap_fte": round(est - req, 1) if est_hub is not None else np.nan,
            }
        )
    t_wf = pd.DataFrame(wf_rows)
    first_fy = fte[fte["financial_year"] == fy_names[0]].set_index(schema.HUB)
    t_wf_hub = pd.DataFrame(
        {
            schema.HUB: hubs,
            "option": [first_fy["option"].get(h, "") for h in hubs],
            "fte_required": [
                round(float(first_fy["fte_required"].get(h, np.nan)), 1) for h in hubs
            ],
            "establishment_fte": [
                round(float(est_hub.get(h, 0.0)), 1) if est_hub is not None else np.nan
                for h in hubs
            ],
        }
    )
    t_wf_hub["gap_fte"] = (t_wf_hub["establishment_fte"] - t_wf_hub["fte_required"]).round(1)
    roles = cfg.roles
    t_cap = pd.DataFrame(
        {
            "role": list(roles),
            "share_of_work_pct": [round(100 * r_.share, 1) for r_ in roles.values()],
            "productive_hours_per_fte": [round(r_.productive_hours, 0) for r_ in roles.values()],
        }
    )

    # --- performance against the standards ----------------------------------------------------
    tl = (
        timeliness(rec, cfg.standards)
        if len(rec)
        else pd.DataFrame(columns=[schema.HUB, schema.PRIORITY, "met"])
    )
    perf_rows = []
    for p in schema.PRIORITIES:
        g = tl[tl[schema.PRIORITY] == p]
        n, m = len(g), int(g["met"].sum()) if len(g) else 0
        perf_rows.append(
            {
                "priority": p,
                "decided": n,
                "within_standard": m,
                "within_pct": round(100 * m / n, 1) if n else np.nan,
            }
        )
    t_perf = pd.DataFrame(perf_rows)
    sim = plan.recommended[plan.recommended["quarter"] == quarters[0]]
    t_perf["planned_within_pct"] = [
        round(100 * float(sim[f"within_{p}"].min()), 1) if len(sim) else np.nan
        for p in schema.PRIORITIES
    ]

    # --- gap and risk --------------------------------------------------------------------------
    risk_rows = []
    for row in t_wf.itertuples():
        d = fys[fy_names.index(row.financial_year)]
        demand = float(force.loc[d, "hi80"])
        if est_hub is None:
            short, unmet, level = np.nan, np.nan, "not assessed (no establishment supplied)"
        else:
            short = max(0.0, row.fte_required - row.establishment_fte)
            unmet = demand * short / row.fte_required if row.fte_required else 0.0
            share = short / row.fte_required if row.fte_required else 0.0
            level = "low" if share == 0 else ("medium" if share < 0.10 else "high")
        risk_rows.append(
            {
                "financial_year": row.financial_year,
                "demand_p80": _round(demand, r),
                "fte_shortfall": round(short, 1) if short == short else np.nan,
                "contacts_at_risk": _round(unmet, r) if unmet == unmet else np.nan,
                "risk": level,
            }
        )
    t_risk = pd.DataFrame(risk_rows)

    # --- assemble -------------------------------------------------------------------------------
    mk = lambda *a, **k: FmsTable(*a, rule=rule, internal=internal, **k)  # noqa: E731
    tables = [
        mk(
            "demand_now",
            f"Contacts received by hub, {fy_label(prev0)} and {fy_label(cur0)}",
            t_now,
            counts=[c_prev, c_now],
            note="Financial years April to March. Contacts are all referrals screened by the MASH.",
        ),
        mk(
            "demand_source",
            f"Contacts by hub and source, {fy_label(cur0)}",
            t_src,
            counts=[c for c in t_src.columns if c != schema.HUB],
        ),
    ]
    if len(t_pri):
        tables.append(
            mk(
                "demand_priority",
                (f"Contacts by hub and priority, {fy_label(cur0)} (hubs with record-level logs)"),
                t_pri,
                counts=[c for c in t_pri.columns if c != schema.HUB],
            )
        )
    tables += [
        mk(
            "projection",
            (f"Projected contacts, force total, {fy_names[0]} to {fy_names[-1]} (principal)"),
            t_proj,
            note=f"Central forecast and 80% interval, rounded to the nearest {r}.",
        ),
        mk(
            "scenarios",
            "Projected contacts under each scenario, force total",
            t_scen,
            note="Scenarios: " + "; ".join(_scenario_words(s) for s in scenarios),
        ),
        mk(
            "projection_hub",
            "Projected contacts by hub (principal, central forecast)",
            t_proj_hub,
        ),
    ]
    if len(t_drivers):
        tables.append(mk("drivers", "Drivers: projected population and planned housing", t_drivers))
    tables += [
        mk(
            "workforce",
            "Workforce required (FTE) against establishment, by financial year",
            t_wf,
            note="FTE required on the recommended operating hours, by role, for the same "
            "quarter of each year (the first whole quarter of the daily forecast), at the 80th "
            "percentile of daily demand.",
        ),
        mk("workforce_hub", f"Workforce by hub, {fy_names[0]}", t_wf_hub),
        mk(
            "capability",
            "Capability: the roles in the hub and their share of the work",
            t_cap,
        ),
        mk(
            "performance",
            f"Performance against the timeliness standards, {fy_label(cur0)}",
            t_perf,
            counts=["decided", "within_standard"],
            shares={"within_pct": "decided"},
            note="Measured from the decision times in the contact logs (hubs with record-level "
            f"logs) against the same standards the plan is held to ({cfg.standards.summary()}). "
            "Planned: the lowest share any hub reaches on the recommended roster "
            "(simulation).",
        ),
        mk(
            "risk",
            "Gap and risk from demand that cannot be met",
            t_risk,
            note="Contacts at risk: the share of P80 demand beyond the capacity of the "
            "establishment.",
        ),
    ]
    est_note = (
        "Establishment as supplied by the force."
        if est_hub is not None
        else "No establishment was supplied (--establishment), so the gap is not available [x]."
    )
    fa = t_proj.iloc[0]
    la = t_proj.iloc[-1]
    paragraphs = {
        "demand_now": [
            f"In {fy_label(cur0)} (1 April {cur0.year} to 31 March {cur1.year}) the MASH received "
            f"{_int(now.get(schema.FORCE_TOTAL))} contacts across {len(hubs)} hubs, "
            f"{_pct(t_now[c_now].iloc[-1] / t_now[c_prev].iloc[-1] - 1)} on {fy_label(prev0)}."
        ],
        "demand_ahead": [
            f"Demand is projected to reach {_int(fa['forecast'])} contacts in "
            f"{fa['financial_year']} (80% interval {_int(fa['lo80'])} to {_int(fa['hi80'])}) "
            f"and {_int(la['forecast'])} in {la['financial_year']} ({_int(la['lo80'])} to "
            f"{_int(la['hi80'])}), {_pct(la['change_on_current_pct'] / 100)} on "
            f"{fy_label(cur0)}.",
            "Drivers: population growth (ONS projections, with planned housing), the rate of "
            "contacts per 1,000 residents, school terms, and police identification of risk.",
        ],
        "workforce": [
            f"Meeting the timeliness standards needs {t_wf['fte_required'].iloc[0]:.1f} FTE in "
            f"{fy_names[0]}, rising to {t_wf['fte_required'].iloc[-1]:.1f} FTE in {fy_names[-1]}. "
            + est_note
        ],
        "performance": [
            f"Standards: {cfg.standards.summary()}. Working hours and working days are "
            f"{cfg.standards.working_time_text()}."
        ],
        "risk": [
            "Where the establishment is below the FTE required, the contacts beyond its "
            "capacity would miss their timeliness standard, and risk to children and adults "
            "would go unassessed for longer."
        ],
    }
    assumptions = [
        (
            f"Current demand is financial year {fy_label(cur0)}; projections cover "
            f"{fy_names[0]} to "
            f"{fy_names[-1]}."
        ),
        (
            "Projections come from an ensemble of models weighted by out-of-sample backtest "
            "accuracy, with calibrated 80% intervals; the population-driven rate model uses ONS "
            "projections."
        ),
        (
            "The low and high scenarios scale each hub's projection by the ratio of the ONS "
            "low or high variant population to the principal, so contacts per resident stay as "
            "projected; the risk scenario adds the stated share to police contacts."
        ),
        (
            "Workforce is planned at the 80th percentile of demand so the standards hold on "
            "busier-than-expected days; FTE are annual equivalents after leave, training and "
            "sickness"
            " (staffing.toml)."
        ),
        (
            f"Service standards (staffing.toml [deadlines], one definition for the measured and "
            f"the planned figures): {cfg.standards.summary()}; working time "
            f"{cfg.standards.working_time_text()}. Every high-priority contact is treated as "
            f"high-risk domestic abuse."
        ),
        (
            "Minutes per contact, role shares and abstraction rates are stated assumptions "
            "(staffing.toml) to be replaced with the force's own measures."
        ),
        (
            f"Published tables apply statistical disclosure control: counts from {rule.low} to "
            f"{rule.high} are shown as [c], with further cells suppressed so totals cannot reveal "
            f"them."
        ),
    ]
    if count_hubs:
        assumptions.append(
            "Hubs with daily counts only ("
            + ", ".join(display_name(h) for h in count_hubs)
            + ") use the pooled arrival profile of hubs with record-level logs."
        )
    if len(left_out):
        note = left_out_note(left_out, last_day)
        assumptions.append(note[0].upper() + note[1:] + ".")
    sources = [
        (
            "Contact logs: the force's MASH case system (Robotic Process Automation exports), "
            "loaded "
            "with mashdemand ingest."
        ),
        (
            "Population: ONS mid-year estimates and subnational population projections (principal, "
            "low and high variants)."
        ),
        "Housing: MHCLG net additional dwellings and local plan housing trajectories.",
        "Bank holidays: gov.uk; school terms: local authority term dates.",
        (
            "Timeliness standards and staffing assumptions: mashdemand/defaults/staffing.toml "
            "(sources given there)."
        ),
    ]
    from mashdemand.forecast.plots import plot_fy_projection

    figures = {
        "projection": plot_fy_projection(principal.frame, history=totals),
        "fte": _plot_workforce(t_wf),
    }
    facts = {
        "year": year,
        "current_fy": fy_label(cur0),
        "fy_names": fy_names,
        "current_contacts": float(now.get(schema.FORCE_TOTAL, np.nan)),
        "projection": dict(zip(fy_names, t_proj["forecast"], strict=True)),
        "fte_required": dict(zip(fy_names, t_wf["fte_required"], strict=True)),
        "suppressed_cells": sum(t.n_suppressed for t in tables),
        "left_out": left_out.to_dict("records"),
    }
    return FmsAppendix(
        year=year,
        internal=internal,
        tables=tables,
        paragraphs=paragraphs,
        figures=figures,
        assumptions=assumptions,
        sources=sources,
        facts=facts,
        seconds=time.perf_counter() - t0,
        labels={
            "option": {name: o.label for name, o in cfg.options.items()},
            "role": {name: role_label(name) for name in cfg.roles},
        },
    )


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


def _round(v: float, r: int) -> float:
    return float(r * np.round(float(v) / r)) if v == v else np.nan


def _int(v: Any) -> str:
    return fmt_int(v) or NOT_AVAILABLE


def _pct(share: float) -> str:
    return fmt_pct(100 * share, signed=True) or NOT_AVAILABLE


def _scenario_words(text: str) -> str:
    s = Scenario.parse(text)
    bits = [f"population {s.population_variant}"]
    if s.housing_delivery != 1.0:
        bits.append(f"housing delivery {s.housing_delivery:.0%}")
    if s.risk_identification:
        bits.append(f"police risk identification {s.risk_identification:+.0%}")
    return f"{s.name} ({', '.join(bits)})"


def _drivers_table(
    population: pd.DataFrame | None, housing: pd.DataFrame | None, hubs: list[str], fys: list
) -> pd.DataFrame:
    """Force population (all ages, principal) and planned dwellings for each projection year."""
    if population is None:
        return pd.DataFrame()
    pop = population[population[schema.HUB].isin(hubs)]
    if "variant" in pop.columns:
        pop = pop[pop["variant"].fillna("principal") == "principal"]
    pop = pop[pop["age_band"] == "all"] if (pop["age_band"] == "all").any() else pop
    years = [d.year for d in fys]
    p = pop[pop["year"].isin(years)].groupby("year")["population"].sum()
    out = pd.DataFrame(
        {
            "financial_year": [fy_label(d) for d in fys],
            "population": [p.get(y, np.nan) for y in years],
        }
    )
    if housing is not None:
        h = housing[housing[schema.HUB].isin(hubs) & housing["year"].isin(years)]
        hs = h.groupby("year")["net_additional_dwellings"].sum()
        out["net_additional_dwellings"] = [hs.get(y, np.nan) for y in years]
    return out


def _plot_workforce(t_wf: pd.DataFrame):
    import matplotlib.pyplot as plt

    from mashdemand.style import PALETTE, house_style

    with house_style():
        fig, ax = plt.subplots(figsize=(8, 3.4))
        x = np.arange(len(t_wf))
        ax.bar(x - 0.2, t_wf["fte_required"], width=0.4, color=PALETTE[0], label="FTE required")
        if t_wf["establishment_fte"].notna().any():
            ax.bar(
                x + 0.2,
                t_wf["establishment_fte"],
                width=0.4,
                color=PALETTE[3],
                hatch="//",
                label="establishment",
            )
        ax.set_xticks(x, t_wf["financial_year"])
        ax.set_xlabel("financial year (April to March)")
        ax.set_ylabel("FTE")
        ax.set_title("Workforce required against establishment")
        ax.legend(loc="upper left")
        fig.tight_layout()
    return fig


# --- writing ----------------------------------------------------------------------------------
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1. Current demand", "demand_now", ("demand_now", "demand_source", "demand_priority")),
    (
        "2. Demand over the next four years",
        "demand_ahead",
        ("projection", "scenarios", "projection_hub", "drivers"),
    ),
    (
        "3. Workforce capacity and capability",
        "workforce",
        ("workforce", "workforce_hub", "capability"),
    ),
    ("4. Performance against the timeliness standards", "performance", ("performance",)),
    ("5. The gap and the risk from demand that cannot be met", "risk", ("risk",)),
)
INTERNAL_BANNER = "INTERNAL: NOT DISCLOSURE-CONTROLLED. NOT FOR PUBLICATION."


def role_label(key: str) -> str:
    """A role key as readers see it: ``social_care`` -> ``Social care``."""
    return key.replace("_", " ").capitalize()


def numbered_tables(app: FmsAppendix) -> list[tuple[int, FmsTable]]:
    """The tables in the order they are written (by section), numbered from 1.

    Numbers are given here, when writing, so a table left out (no priority data, no drivers)
    leaves no gap, and the DOCX titles and the XLSX ``Table_n`` sheets always agree.
    """
    order = [k for _, _, keys in SECTIONS for k in keys]
    placed = sorted(app.tables, key=lambda t: order.index(t.key) if t.key in order else len(order))
    return list(enumerate(placed, start=1))


def reader_value(col: str, value: Any, labels: dict[str, dict[str, str]]) -> Any:
    """A published cell as readers see it: hub names, option and role labels, not keys."""
    if not isinstance(value, str):
        return value
    if col == schema.HUB or value == schema.FORCE_TOTAL:
        return display_name(value) if value else value
    return labels.get(col, {}).get(value, value)


def _header(col: str) -> str:
    return str(col).replace("_pct", " (%)").replace("_fte", " (FTE)").replace("_", " ")


def _cell_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return NOT_AVAILABLE
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()):
        return f"{int(v):,}"
    return f"{float(v):,.1f}"


def write_docx(app: FmsAppendix, path: str | Path) -> Path:
    """The appendix as a Word document (python-docx)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    from mashdemand.style import figure_to_png_bytes

    d = docx.Document()
    sec = d.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = Cm(1.8)
    d.styles["Normal"].font.name = "Arial"
    d.styles["Normal"].font.size = Pt(10)
    d.add_heading(f"Force Management Statement {app.year}: MASH appendix", level=0)
    if app.internal:
        p = d.add_paragraph()
        p.add_run(INTERNAL_BANNER).bold = True
    d.add_paragraph(
        "Multi-Agency Safeguarding Hub demand, workforce and performance. Produced by "
        f"mashdemand on {pd.Timestamp.now(tz='Europe/London'):%d/%m/%Y}."
    )
    numbered = numbered_tables(app)
    for heading, para_key, keys in SECTIONS:
        d.add_heading(heading, level=1)
        for text in app.paragraphs.get(para_key, []):
            d.add_paragraph(text)
        if para_key == "demand_ahead" and "projection" in app.figures:
            _docx_figure(d, app.figures["projection"], figure_to_png_bytes, Cm(17))
        if para_key == "workforce" and "fte" in app.figures:
            _docx_figure(d, app.figures["fte"], figure_to_png_bytes, Cm(15))
        for n, t in numbered:
            if t.key not in keys:
                continue
            d.add_heading(f"Table {n}: {t.title}", level=3)
            pub = t.published
            table = d.add_table(rows=1, cols=len(pub.columns))
            table.style = "Light Grid Accent 1"
            for i, c in enumerate(pub.columns):
                table.rows[0].cells[i].text = _header(c)
            for row in pub.itertuples(index=False):
                cells = table.add_row().cells
                for i, (c, v) in enumerate(zip(pub.columns, row, strict=True)):
                    cells[i].text = _cell_text(reader_value(c, v, app.labels))
                    if i > 0:
                        cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for r_ in table.rows:
                for c in r_.cells:
                    for p in c.paragraphs:
                        for run in p.runs:
                            run.font.size = Pt(8)
            if t.note:
                d.add_paragraph(t.note).runs[0].italic = True
    d.add_heading("6. Assumptions and data sources", level=1)
    d.add_heading("Assumptions", level=3)
    for a in app.assumptions:
        d.add_paragraph(a, style="List Bullet")
    d.add_heading("Data sources", level=3)
    for s in app.sources:
        d.add_paragraph(s, style="List Bullet")
    d.add_heading("Symbols", level=3)
    for sym, meaning in GSS_SYMBOLS.items():
        d.add_paragraph(f"{sym}: {meaning}", style="List Bullet")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


def _docx_figure(d: Any, fig: Any, to_png: Any, width: Any) -> None:
    import io

    d.add_picture(io.BytesIO(to_png(fig, dpi=150)), width=width)


def write_xlsx(app: FmsAppendix, path: str | Path) -> Path:
    """The appendix as a workbook (openpyxl): a cover sheet, notes, one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    lines = [
        f"Force Management Statement {app.year}: MASH appendix",
        INTERNAL_BANNER if app.internal else "Published version: disclosure control applied.",
        f"Produced by mashdemand on {pd.Timestamp.now(tz='Europe/London'):%d/%m/%Y}.",
        "",
        "Contents",
        *[f"Table {n}: {t.title}" for n, t in numbered_tables(app)],
    ]
    for text in lines:
        _append_text_row(cover, [text])
    cover["A1"].font = Font(bold=True, size=14)
    notes = wb.create_sheet("Notes")
    rows = [("Symbol", "Meaning"), *GSS_SYMBOLS.items(), ("", "")]
    rows += [("Assumption", a) for a in app.assumptions]
    rows += [("Source", s) for s in app.sources]
    for r_ in rows:
        _append_text_row(notes, list(r_))
    notes["A1"].font = notes["B1"].font = Font(bold=True)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 120
    head_fill = PatternFill("solid", fgColor="0B2545")
    for n, t in numbered_tables(app):
        ws = wb.create_sheet(f"Table_{n}")
        _append_text_row(ws, [f"Table {n}: {t.title}"])
        ws["A1"].font = Font(bold=True, size=12)
        if t.note:
            _append_text_row(ws, [t.note])
        _append_text_row(ws, [_header(c) for c in t.published.columns])
        hr = ws.max_row
        for cell in ws[hr]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        for row in t.published.itertuples(index=False):
            vals = []
            for c, v in zip(t.published.columns, row, strict=True):
                if isinstance(v, str):
                    vals.append(reader_value(c, v, app.labels))
                elif v is None or (isinstance(v, float) and np.isnan(v)):
                    vals.append(NOT_AVAILABLE)
                else:
                    vals.append(float(v) if isinstance(v, (float, np.floating)) else int(v))
            _append_text_row(ws, vals)
            for cell in ws[ws.max_row][1:]:
                cell.alignment = Alignment(horizontal="right")
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.0"
                elif isinstance(cell.value, int):
                    cell.number_format = "#,##0"
        for i, c in enumerate(t.published.columns, start=1):
            shown = (_cell_text(reader_value(c, v, app.labels)) for v in t.published[c])
            width = max(len(_header(c)), *(len(v) for v in shown)) + 2
            ws.column_dimensions[ws.cell(row=hr, column=i).column_letter].width = min(width, 40)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def _append_text_row(ws: Any, values: list[Any]) -> None:
    """Append a row to a worksheet with no live formula in it.

    openpyxl stores any string beginning with ``=`` as a formula; text from the data (hub
    names, categories, notes, option labels) could be one (``=HYPERLINK(...)``). Each string is
    neutralised (:func:`mashdemand.cells.neutralise`: a leading ``'``) and typed as a string.
    """
    ws.append([neutralise(v) for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def run_fms_appendix(
    inputs: ReportInputs,
    year: int,
    out: str | Path = "reports",
    *,
    establishment: str | Path | None = None,
    config: str | Path | None = None,
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    rule: DisclosureRule | None = None,
    internal: bool = False,
    jobs: int = 2,
    progress: bool = False,
    models: Sequence[str] | None = None,
) -> tuple[FmsAppendix, dict[str, Path]]:
    """Ingest any exports into the store, build the appendix and write
    ``<out>/fms_<year>_mash_appendix[_internal].docx`` and ``.xlsx``."""
    from mashdemand.drivers import read_housing, read_population
    from mashdemand.staffing import load_config

    stem = f"fms_{year}_mash_appendix" + ("_internal" if internal else "")
    out = Path(out)
    outputs = {"docx": out / f"{stem}.docx", "xlsx": out / f"{stem}.xlsx"}
    check_report_outputs(list(outputs.values()), inputs, also=[establishment, config])
    cfg = load_config(config)
    pop = read_population(inputs.population) if inputs.population else None
    hou = read_housing(inputs.housing) if inputs.housing else None
    est = read_establishment(establishment) if establishment else None
    # The appendix reads an in-memory copy: ingest and readers are not blocked meanwhile.
    with snapshot_inputs(inputs) as snap:
        app = build_fms_appendix(
            snap,
            year,
            counts=inputs.counts,
            population=pop,
            housing=hou,
            establishment=est,
            scenarios=scenarios,
            staffing_config=cfg,
            rule=rule,
            internal=internal,
            jobs=jobs,
            progress=progress,
            models=models,
        )
    paths = {
        "docx": write_docx(app, outputs["docx"]),
        "xlsx": write_xlsx(app, outputs["xlsx"]),
    }
    from mashdemand.report.render import close_figures

    close_figures(app.figures)
    return app, paths

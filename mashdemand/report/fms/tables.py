"""The FMS appendix's tables: one pure function per table, from plain frames and values.

No store, no forecast, no words: :mod:`mashdemand.report.fms.build` gathers the inputs and
gives each table its title; the writers number and lay them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.calendar import fy_label
from mashdemand.report.numbers import round_to
from mashdemand.report.quarterly import crosstab, window_sum
from mashdemand.standards import ServiceStandards, deadline_met

__all__ = [
    "PROJECTION_ROUNDING",
    "capability_table",
    "demand_now_table",
    "drivers_table",
    "force_total",
    "fte_by_year",
    "performance_table",
    "priority_table",
    "projection_hub_table",
    "projection_table",
    "risk_table",
    "scenarios_table",
    "source_table",
    "timeliness",
    "workforce_hub_table",
    "workforce_table",
]

PROJECTION_ROUNDING = 10
"""Projections are rounded to the nearest 10 contacts: they are estimates, not counts."""


def force_total(frame: pd.DataFrame) -> pd.DataFrame:
    """The force-total rows of a forecast frame (``hub, date, yhat, lo80, hi80``), indexed by
    date."""
    return frame[frame[schema.HUB] == schema.FORCE_TOTAL].set_index(schema.DATE)


# --- current demand ---------------------------------------------------------------------------
def demand_now_table(
    fy_totals: pd.DataFrame, hubs: Sequence[str], prev0: pd.Timestamp, cur0: pd.Timestamp
) -> pd.DataFrame:
    """Contacts by hub in the financial years from ``prev0`` and ``cur0``, and the change.

    Parameters
    ----------
    fy_totals : DataFrame
        ``hub, date (1 April), contacts`` for complete financial years, with the ``ALL`` rows
        (:func:`mashdemand.report.quarterly.complete_fy_totals`).
    hubs : sequence of str
        The hubs, in the order shown; the force total is added last.
    prev0, cur0 : Timestamp
        First days of the previous and the current financial year.

    Returns
    -------
    DataFrame
        ``hub, contacts_<previous>, contacts_<current>, change_pct`` (NaN where a hub's
        year is not complete).
    """
    rows = [*hubs, schema.FORCE_TOTAL]
    out = pd.DataFrame({schema.HUB: rows})
    for start in (prev0, cur0):
        year = fy_totals[fy_totals[schema.DATE] == start].set_index(schema.HUB)[schema.CONTACTS]
        out[f"contacts_{fy_label(start)}"] = [year.get(h, np.nan) for h in rows]
    c_prev, c_now = out.columns[1], out.columns[2]
    out["change_pct"] = (100 * (out[c_now] / out[c_prev] - 1)).round(1)
    return out


def source_table(daily: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Contacts by hub and source from ``start`` to ``end``, with totals (``daily`` is
    ``hub, source, date, contacts``)."""
    return crosstab(window_sum(daily, start, end, [schema.HUB, schema.SOURCE]), schema.SOURCE)


def priority_table(by_priority: pd.DataFrame) -> pd.DataFrame:
    """Contacts by hub and priority, with totals, from ``hub, priority, contacts`` rows (empty
    when no hub has record-level logs)."""
    return crosstab(by_priority, schema.PRIORITY)


# --- demand ahead -----------------------------------------------------------------------------
def projection_table(
    force: pd.DataFrame,
    fys: Sequence[pd.Timestamp],
    current: float,
    step: int = PROJECTION_ROUNDING,
) -> pd.DataFrame:
    """The force's projection for each financial year: central forecast and 80% interval
    rounded to ``step``, and the change on ``current`` (the current year's contacts).

    ``force`` holds the force-total rows of the financial-year forecast indexed by date
    (``yhat, lo80, hi80``).
    """
    return pd.DataFrame(
        {
            "financial_year": [fy_label(d) for d in fys],
            "forecast": [round_to(force.loc[d, schema.YHAT], step) for d in fys],
            "lo80": [round_to(force.loc[d, "lo80"], step) for d in fys],
            "hi80": [round_to(force.loc[d, "hi80"], step) for d in fys],
            "change_on_current_pct": [
                round(100 * (force.loc[d, schema.YHAT] / current - 1), 1) for d in fys
            ],
        }
    )


def scenarios_table(
    projections: Mapping[str, pd.DataFrame],
    fys: Sequence[pd.Timestamp],
    step: int = PROJECTION_ROUNDING,
) -> pd.DataFrame:
    """The force's central projection under each scenario (rows), by financial year (columns),
    rounded to ``step``. ``projections`` maps scenario name -> financial-year forecast frame."""
    rows = []
    for name, frame in projections.items():
        force = force_total(frame)
        rows.append(
            {
                "scenario": name,
                **{fy_label(d): round_to(force.loc[d, schema.YHAT], step) for d in fys},
            }
        )
    return pd.DataFrame(rows)


def projection_hub_table(frame: pd.DataFrame, step: int = PROJECTION_ROUNDING) -> pd.DataFrame:
    """The central projection of each hub (rows, force total last) by financial year (columns),
    rounded to ``step``, from the financial-year forecast frame of the projection years."""
    by_hub = frame[frame[schema.HUB] != schema.FORCE_TOTAL].pivot_table(
        index=schema.HUB, columns=schema.DATE, values=schema.YHAT
    )
    by_hub.columns = [fy_label(c) for c in by_hub.columns]
    by_hub.loc[schema.FORCE_TOTAL] = by_hub.sum()
    return by_hub.map(lambda v: round_to(v, step)).rename_axis(index=schema.HUB).reset_index()


def drivers_table(
    population: pd.DataFrame | None,
    housing: pd.DataFrame | None,
    hubs: Sequence[str],
    fys: Sequence[pd.Timestamp],
) -> pd.DataFrame:
    """Force population (all ages, principal) and planned dwellings for each projection year
    (empty without population)."""
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


# --- workforce --------------------------------------------------------------------------------
def fte_by_year(recommended: pd.DataFrame) -> pd.DataFrame:
    """The staffing plan's recommended rows (``hub, quarter, option, fte_*, ...``) with the
    ``financial_year`` of each quarter."""
    return recommended.assign(
        financial_year=recommended["quarter"].map(
            lambda q: fy_label(pd.Period(q, freq="Q").start_time)
        )
    )


def workforce_table(
    fte: pd.DataFrame,
    fy_names: Sequence[str],
    hubs: Sequence[str],
    establishment: pd.Series | None,
) -> pd.DataFrame:
    """FTE required (in all and by role) against the establishment, by financial year.

    Parameters
    ----------
    fte : DataFrame
        :func:`fte_by_year` of the recommended plan.
    fy_names : sequence of str
        The projection years.
    hubs : sequence of str
        The hubs whose establishment counts.
    establishment : Series, optional
        FTE by hub; without it establishment and gap are NaN.
    """
    role_cols = [c for c in fte.columns if c.startswith("fte_") and c != "fte_required"]
    est = (
        float(establishment.reindex(hubs).fillna(0).sum()) if establishment is not None else np.nan
    )
    rows = []
    for fy in fy_names:
        g = fte[fte["financial_year"] == fy]
        req = float(g["fte_required"].sum())
        rows.append(
            {
                "financial_year": fy,
                "fte_required": round(req, 1),
                **{c.removeprefix("fte_"): round(float(g[c].sum()), 1) for c in role_cols},
                "establishment_fte": round(est, 1) if establishment is not None else np.nan,
                "gap_fte": round(est - req, 1) if establishment is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)


def workforce_hub_table(
    fte: pd.DataFrame, fy_name: str, hubs: Sequence[str], establishment: pd.Series | None
) -> pd.DataFrame:
    """Each hub's recommended option, FTE required, establishment and gap in year ``fy_name``
    (``fte`` from :func:`fte_by_year`; establishment and gap NaN without ``establishment``)."""
    year = fte[fte["financial_year"] == fy_name].set_index(schema.HUB)
    out = pd.DataFrame(
        {
            schema.HUB: list(hubs),
            "option": [year["option"].get(h, "") for h in hubs],
            "fte_required": [round(float(year["fte_required"].get(h, np.nan)), 1) for h in hubs],
            "establishment_fte": [
                round(float(establishment.get(h, 0.0)), 1) if establishment is not None else np.nan
                for h in hubs
            ],
        }
    )
    out["gap_fte"] = (out["establishment_fte"] - out["fte_required"]).round(1)
    return out


def capability_table(roles: Mapping[str, Any]) -> pd.DataFrame:
    """The roles in the hub (the staffing config's ``roles``: ``share``, ``productive_hours``)
    and their share of the work."""
    return pd.DataFrame(
        {
            "role": list(roles),
            "share_of_work_pct": [round(100 * r.share, 1) for r in roles.values()],
            "productive_hours_per_fte": [round(r.productive_hours, 0) for r in roles.values()],
        }
    )


# --- performance ------------------------------------------------------------------------------
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


def performance_table(measured: pd.DataFrame, planned: pd.DataFrame) -> pd.DataFrame:
    """Contacts decided within their standard, by priority, against the plan.

    Parameters
    ----------
    measured : DataFrame
        ``hub, priority, met`` (:func:`timeliness`).
    planned : DataFrame
        The recommended plan's rows for one quarter, with ``within_<priority>`` shares.

    Returns
    -------
    DataFrame
        ``priority, decided, within_standard, within_pct, planned_within_pct`` (planned: the
        lowest share any hub reaches on the recommended roster).
    """
    rows = []
    for p in schema.PRIORITIES:
        g = measured[measured[schema.PRIORITY] == p]
        n, m = len(g), int(g["met"].sum()) if len(g) else 0
        rows.append(
            {
                "priority": p,
                "decided": n,
                "within_standard": m,
                "within_pct": round(100 * m / n, 1) if n else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    out["planned_within_pct"] = [
        round(100 * float(planned[f"within_{p}"].min()), 1) if len(planned) else np.nan
        for p in schema.PRIORITIES
    ]
    return out


# --- gap and risk -----------------------------------------------------------------------------
def risk_table(
    workforce: pd.DataFrame,
    force: pd.DataFrame,
    fys: Sequence[pd.Timestamp],
    assessed: bool,
    step: int = PROJECTION_ROUNDING,
) -> pd.DataFrame:
    """The gap and the demand at risk in each projection year.

    Parameters
    ----------
    workforce : DataFrame
        :func:`workforce_table`.
    force : DataFrame
        Force-total rows of the financial-year forecast indexed by date (``hi80``).
    fys : sequence of Timestamp
        First days of the projection years.
    assessed : bool
        Whether an establishment was supplied; without one the risk is not assessed.
    step : int
        Rounding of demand and contacts at risk.

    Returns
    -------
    DataFrame
        ``financial_year, demand_p80, fte_shortfall, contacts_at_risk, risk``: contacts at
        risk are the share of P80 demand beyond the establishment's capacity; risk is low (no
        shortfall), medium (under 10% of the FTE required) or high.
    """
    start = {fy_label(d): d for d in fys}
    rows = []
    for row in workforce.itertuples():
        demand = float(force.loc[start[row.financial_year], "hi80"])
        if not assessed:
            short, unmet, level = np.nan, np.nan, "not assessed (no establishment supplied)"
        else:
            short = max(0.0, row.fte_required - row.establishment_fte)
            unmet = demand * short / row.fte_required if row.fte_required else 0.0
            share = short / row.fte_required if row.fte_required else 0.0
            level = "low" if share == 0 else ("medium" if share < 0.10 else "high")
        rows.append(
            {
                "financial_year": row.financial_year,
                "demand_p80": round_to(demand, step),
                "fte_shortfall": round(short, 1) if short == short else np.nan,
                "contacts_at_risk": round_to(unmet, step) if unmet == unmet else np.nan,
                "risk": level,
            }
        )
    return pd.DataFrame(rows)

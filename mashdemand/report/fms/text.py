"""The FMS appendix's words: the paragraphs of each section, the assumptions and the sources,
written from the tables, the staffing config's standards and the disclosure rule."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mashdemand.forecast.api import Scenario
from mashdemand.hubs import display_name
from mashdemand.report.fms.appendix import FmsPeriods
from mashdemand.report.numbers import change_or_marker, int_or_marker
from mashdemand.report.quarterly import left_out_note
from mashdemand.report.sdc import DisclosureRule
from mashdemand.standards import ServiceStandards

__all__ = ["SOURCES", "assumptions", "paragraphs", "scenario_words"]

SOURCES: tuple[str, ...] = (
    "Contact logs: the force's MASH case system (Robotic Process Automation exports), loaded "
    "with mashdemand ingest.",
    "Population: ONS mid-year estimates and subnational population projections (principal, "
    "low and high variants).",
    "Housing: MHCLG net additional dwellings and local plan housing trajectories.",
    "Bank holidays: gov.uk; school terms: local authority term dates.",
    "Timeliness standards and staffing assumptions: mashdemand/defaults/staffing.toml "
    "(sources given there).",
)
"""Where the appendix's data come from."""


def scenario_words(text: str) -> str:
    """A scenario as readers see it.

    >>> scenario_words("risk_growth:risk_identification=0.05")
    'risk_growth (population principal, police risk identification +5%)'
    """
    s = Scenario.parse(text)
    bits = [f"population {s.population_variant}"]
    if s.housing_delivery != 1.0:
        bits.append(f"housing delivery {s.housing_delivery:.0%}")
    if s.risk_identification:
        bits.append(f"police risk identification {s.risk_identification:+.0%}")
    return f"{s.name} ({', '.join(bits)})"


def paragraphs(
    periods: FmsPeriods,
    n_hubs: int,
    demand_now: pd.DataFrame,
    projection: pd.DataFrame,
    workforce: pd.DataFrame,
    standards: ServiceStandards,
    establishment_supplied: bool,
) -> dict[str, list[str]]:
    """The paragraphs of each section (keyed as :data:`~mashdemand.report.fms.appendix.SECTIONS`).

    Parameters
    ----------
    periods : FmsPeriods
        The FMS year's periods.
    n_hubs : int
        How many hubs the appendix covers.
    demand_now, projection, workforce : DataFrame
        The tables of the same names (:mod:`mashdemand.report.fms.tables`); the force total
        is the last row of ``demand_now``.
    standards : ServiceStandards
        The timeliness standards (the staffing config's).
    establishment_supplied : bool
        Whether the force gave its establishment (else the gap is not available).
    """
    c_prev, c_now = demand_now.columns[1], demand_now.columns[2]
    now, before = demand_now[c_now].iloc[-1], demand_now[c_prev].iloc[-1]
    first, last = projection.iloc[0], projection.iloc[-1]
    change_by_last = change_or_marker(last["change_on_current_pct"] / 100)
    est_note = (
        "Establishment as supplied by the force."
        if establishment_supplied
        else "No establishment was supplied (--establishment), so the gap is not available [x]."
    )
    fy_names = periods.fy_names
    return {
        "demand_now": [
            f"In {periods.current} (1 April {periods.cur0.year} to 31 March {periods.cur1.year}) "
            f"the MASH received {int_or_marker(now)} contacts across {n_hubs} hubs, "
            f"{change_or_marker(now / before - 1)} on {periods.previous}."
        ],
        "demand_ahead": [
            f"Demand is projected to reach {int_or_marker(first['forecast'])} contacts in "
            f"{first['financial_year']} (80% interval {int_or_marker(first['lo80'])} to "
            f"{int_or_marker(first['hi80'])}) and {int_or_marker(last['forecast'])} in "
            f"{last['financial_year']} ({int_or_marker(last['lo80'])} to "
            f"{int_or_marker(last['hi80'])}), {change_by_last} on {periods.current}.",
            "Drivers: population growth (ONS projections, with planned housing), the rate of "
            "contacts per 1,000 residents, school terms, and police identification of risk.",
        ],
        "workforce": [
            f"Meeting the timeliness standards needs {workforce['fte_required'].iloc[0]:.1f} FTE "
            f"in {fy_names[0]}, rising to {workforce['fte_required'].iloc[-1]:.1f} FTE in "
            f"{fy_names[-1]}. " + est_note
        ],
        "performance": [
            f"Standards: {standards.summary()}. Working hours and working days are "
            f"{standards.working_time_text()}."
        ],
        "risk": [
            "Where the establishment is below the FTE required, the contacts beyond its "
            "capacity would miss their timeliness standard, and risk to children and adults "
            "would go unassessed for longer."
        ],
    }


def assumptions(
    periods: FmsPeriods,
    standards: ServiceStandards,
    rule: DisclosureRule,
    count_hubs: Sequence[str],
    left_out: pd.DataFrame,
    last_day: pd.Timestamp,
) -> list[str]:
    """The assumptions the appendix rests on.

    Parameters
    ----------
    periods : FmsPeriods
        The FMS year's periods.
    standards : ServiceStandards
        The timeliness standards (the staffing config's).
    rule : DisclosureRule
        Disclosure control of the published version.
    count_hubs : sequence of str
        Hubs with daily counts only (they borrow the pooled arrival profile).
    left_out : DataFrame
        Hubs left out for too little history
        (:func:`mashdemand.report.quarterly.forecastable_history`).
    last_day : Timestamp
        The last day of data.
    """
    fy_names = periods.fy_names
    out = [
        f"Current demand is financial year {periods.current}; projections cover "
        f"{fy_names[0]} to {fy_names[-1]}.",
        "Projections come from an ensemble of models weighted by out-of-sample backtest "
        "accuracy, with calibrated 80% intervals; the population-driven rate model uses ONS "
        "projections.",
        "The low and high scenarios scale each hub's projection by the ratio of the ONS "
        "low or high variant population to the principal, so contacts per resident stay as "
        "projected; the risk scenario adds the stated share to police contacts.",
        "Workforce is planned at the 80th percentile of demand so the standards hold on "
        "busier-than-expected days; FTE are annual equivalents after leave, training and "
        "sickness (staffing.toml).",
        f"Service standards (staffing.toml [deadlines], one definition for the measured and "
        f"the planned figures): {standards.summary()}; working time "
        f"{standards.working_time_text()}. Every high-priority contact is treated as "
        f"high-risk domestic abuse.",
        "Minutes per contact, role shares and abstraction rates are stated assumptions "
        "(staffing.toml) to be replaced with the force's own measures.",
        f"Published tables apply statistical disclosure control: counts from {rule.low} to "
        f"{rule.high} are shown as [c], with further cells suppressed so totals cannot reveal "
        f"them.",
    ]
    if count_hubs:
        out.append(
            "Hubs with daily counts only ("
            + ", ".join(display_name(h) for h in count_hubs)
            + ") use the pooled arrival profile of hubs with record-level logs."
        )
    if len(left_out):
        note = left_out_note(left_out, last_day)
        out.append(note[0].upper() + note[1:] + ".")
    return out

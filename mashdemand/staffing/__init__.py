"""Staffing: from a demand forecast to rosters, FTE and operating hours that meet the standards.

The public API a notebook imports::

    from mashdemand.staffing import load_config, plan_staffing
    plan = plan_staffing(forecast, contacts, load_config())
    plan.summary, plan.roster, plan.weekend_cover
    plan.verify()
    plan.rpa(0.10)

Modules, in the order the work flows: ``config`` (inputs from TOML), ``grid`` (time grid,
standards' clock, opening hours, deadlines), ``arrivals`` (forecast to hourly arrivals),
``sim`` (fluid backlog model and contact-level check), ``erlang`` (Erlang C, for the checks),
``model`` (one hub/quarter/option problem), ``optimise`` (smallest roster), ``plan`` (the whole
plan) and ``plots``.
"""

from __future__ import annotations

from mashdemand.staffing.config import (
    DAY_TYPES,
    PRIORITIES,
    OperatingOption,
    StaffingConfig,
    StaffingError,
    load_config,
)
from mashdemand.staffing.erlang import erlang_b, erlang_c, mean_wait, service_level
from mashdemand.staffing.plan import StaffingPlan, load_contacts, plan_staffing
from mashdemand.staffing.plots import (
    plot_fte_by_hub,
    plot_fte_by_quarter,
    plot_option_tradeoff,
    plot_roster_heatmap,
    plot_weekend_cover,
)

__all__ = [
    "DAY_TYPES",
    "PRIORITIES",
    "OperatingOption",
    "StaffingConfig",
    "StaffingError",
    "StaffingPlan",
    "erlang_b",
    "erlang_c",
    "load_config",
    "load_contacts",
    "mean_wait",
    "plan_staffing",
    "plot_fte_by_hub",
    "plot_fte_by_quarter",
    "plot_option_tradeoff",
    "plot_roster_heatmap",
    "plot_weekend_cover",
    "service_level",
]

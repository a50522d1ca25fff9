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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Where each public name is defined. They are imported on first use, so that importing the
#: package (or :mod:`~mashdemand.staffing.defaults`, as the command line does) is cheap and
#: matplotlib is loaded only for a plot.
EXPORTS: dict[str, str] = {
    "DAY_TYPES": "config",
    "PRIORITIES": "config",
    "OperatingOption": "config",
    "StaffingConfig": "config",
    "StaffingError": "config",
    "load_config": "config",
    "erlang_b": "erlang",
    "erlang_c": "erlang",
    "mean_wait": "erlang",
    "service_level": "erlang",
    "StaffingPlan": "plan",
    "load_contacts": "plan",
    "plan_staffing": "plan",
    "plot_fte_by_hub": "plots",
    "plot_fte_by_quarter": "plots",
    "plot_option_tradeoff": "plots",
    "plot_roster_heatmap": "plots",
    "plot_weekend_cover": "plots",
}

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


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    if name not in EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, with the public ones not imported yet."""
    return sorted(set(globals()) | set(EXPORTS))

"""The quarterly report's charts: the package's plot functions plus two of the report's own.

Every chart is a function returning a Figure (usable in a notebook); :func:`report_figures`
draws the set the report shows, all in the house style (:mod:`mashdemand.style`).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from mashdemand import schema
from mashdemand.style import PALETTE, styled, thousands, uk_date_axis

__all__ = ["plot_forecast_vs_actual", "plot_quarantine", "report_figures"]


@styled
def plot_forecast_vs_actual(
    archived: pd.DataFrame, actual: pd.DataFrame, hub: str = schema.FORCE_TOTAL, ax=None
) -> Figure:
    """Last quarter's archived daily forecast (line and 80% band) against the daily contacts
    that arrived [contacts per day]."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(10, 3.6))
    fc = archived[archived[schema.HUB] == hub].sort_values(schema.DATE)
    act = actual.groupby(schema.DATE)[schema.CONTACTS].sum()
    if hub != schema.FORCE_TOTAL:
        act = actual[actual[schema.HUB] == hub].groupby(schema.DATE)[schema.CONTACTS].sum()
    act = act[(act.index >= fc[schema.DATE].min()) & (act.index <= fc[schema.DATE].max())]
    ax.fill_between(
        fc[schema.DATE], fc["lo80"], fc["hi80"], color=PALETTE[3], alpha=0.45, label="80% interval"
    )
    ax.plot(fc[schema.DATE], fc[schema.YHAT], color=PALETTE[0], lw=1.6, label="forecast")
    ax.plot(act.index, act.to_numpy(), color=PALETTE[1], lw=0, marker="o", ms=2.5, label="actual")
    ax.set_ylabel("contacts per day")
    ax.set_xlabel("day")
    uk_date_axis(ax, "day")
    thousands(ax)
    ax.set_ylim(bottom=0)
    where = "Force total" if hub == schema.FORCE_TOTAL else hub
    ax.set_title(f"{where}: forecast made before the quarter against what happened")
    ax.legend(loc="upper left", ncol=3)
    fig.tight_layout()
    return fig


@styled
def plot_quarantine(quarantine: pd.DataFrame, ax=None) -> Figure:
    """Rows held in quarantine by reason [rows]."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(9, 2.8))
    q = quarantine.sort_values("rows")
    ax.barh(q["reason"].astype(str), q["rows"], color=PALETTE[0])
    for y, v in enumerate(q["rows"]):
        ax.text(v, y, f" {int(v):,}", va="center", fontsize=8)
    ax.set_xlabel("rows quarantined")
    ax.set_ylabel("reason")
    ax.set_title("Rows held back at ingest, by reason")
    thousands(ax, "x")
    fig.tight_layout()
    return fig


def _quarter_arrivals(store: Any, q: pd.Period, hubs: list[str]) -> pd.DataFrame:
    """Record-level arrivals of ``hubs`` in the quarter: ``hub, received_date, received_hour``
    (local)."""
    return store.arrivals(q.start_time, q.end_time.normalize(), hubs)


def report_figures(
    store: Any,
    daily: pd.DataFrame,
    result: Any,
    plan: Any,
    tables: dict[str, pd.DataFrame],
    q: pd.Period,
    record_hubs: list[str],
) -> dict[str, Figure]:
    """The charts of the quarterly report, by name."""
    from mashdemand import plots
    from mashdemand.forecast.plots import plot_fy_projection
    from mashdemand.staffing import plots as splots

    figs: dict[str, Figure] = {}
    q1 = q.end_time.normalize()
    recent = daily[daily[schema.DATE] > q1 - pd.DateOffset(years=3)]
    if "prior_forecast" in tables and len(tables["prior_forecast"]):
        figs["forecast_vs_actual"] = plot_forecast_vs_actual(tables["prior_forecast"], daily)
    figs["monthly_by_hub"] = plots.plot_monthly_by_hub(recent)
    figs["monthly_by_source"] = plots.plot_monthly_by_source(recent)
    if record_hubs:
        figs["hour_of_week"] = plots.plot_hour_of_week(_quarter_arrivals(store, q, record_hubs))
    near = result.near_term
    figs["fan_daily"] = near.plot(schema.FORCE_TOTAL, history_periods=365)
    figs["fy_projection"] = plot_fy_projection(result.frame, history=daily)
    s = plan.summary
    first_q = s["quarter"].min()
    labels = {name: o.label for name, o in plan.config.options.items()}
    figs["fte_by_hub"] = splots.plot_fte_by_hub(
        s, first_q, baseline=plan.config.baseline, labels=labels
    )
    big = s[s["quarter"] == first_q].groupby(schema.HUB)["contacts"].max().sort_values().index[-1]
    figs["option_tradeoff"] = splots.plot_option_tradeoff(s, big, first_q, labels=labels)
    figs["weekend_cover"] = splots.plot_weekend_cover(plan.weekend_cover, first_q)
    if len(tables["quarantine"]):
        figs["quarantine"] = plot_quarantine(tables["quarantine"])
    return figs

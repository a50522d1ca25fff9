"""The quarterly report's own two charts (the others are the package's plot functions).

Every chart is a function returning a Figure (usable in a notebook), in the house style
(:mod:`mashdemand.style`); each section of the report (:mod:`mashdemand.report.sections`)
draws the ones it shows.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from mashdemand import schema
from mashdemand.style import PALETTE, styled, thousands, uk_date_axis

__all__ = ["plot_forecast_vs_actual", "plot_quarantine"]


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

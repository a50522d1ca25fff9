"""Forecast charts (functions returning a Figure; they never call ``show()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from mashdemand import schema
from mashdemand.forecast.base import DS, UID, Y

if TYPE_CHECKING:
    from mashdemand.forecast.api import ForecastResult

PERIOD_LABEL = {
    "day": "contacts per day",
    "week": "contacts per week",
    "month": "contacts per month",
    "quarter": "contacts per quarter",
    "year": "contacts per year",
    "fy": "contacts per financial year",
}


def plot_fan(
    result: ForecastResult,
    hub: str = schema.FORCE_TOTAL,
    ax: plt.Axes | None = None,
    history_periods: int | None = None,
) -> Figure:
    """History and forecast with 80% and 95% intervals for one hub (or ``ALL``).

    Greyscale-safe: the history is a thin dark line, the forecast a thick line, the intervals
    two shades of the same colour. Dates day-first (UK).
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(10, 4))
    fc = result.frame[result.frame[schema.HUB] == hub]
    for c in result.by:
        fc = fc[fc[c] == schema.FORCE_TOTAL]
    hist = result.history[result.history[UID] == hub].sort_values(DS)
    if history_periods is None:
        history_periods = {"day": 365, "week": 104, "month": 48}.get(result.freq, 20)
    hist = hist.tail(history_periods)
    ax.plot(hist[DS], hist[Y], color="0.25", lw=0.8, label="history")
    ax.fill_between(fc[schema.DATE], fc["lo95"], fc["hi95"], color="#9ecae1", label="95% interval")
    ax.fill_between(fc[schema.DATE], fc["lo80"], fc["hi80"], color="#4292c6", label="80% interval")
    ax.plot(fc[schema.DATE], fc["yhat"], color="#08306b", lw=1.8, label="forecast")
    ax.set_ylabel(PERIOD_LABEL.get(result.freq, "contacts"))
    ax.set_xlabel("period start")
    ax.set_title(f"{'Force total' if hub == schema.FORCE_TOTAL else hub}: forecast")
    ax.xaxis.set_major_formatter(
        mdates.DateFormatter("%d/%m/%Y" if result.freq == "day" else "%m/%Y")
    )
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    return fig

"""Forecast charts (functions returning a Figure; they never call ``show()``), drawn in the
house style (:mod:`mashdemand.style`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mashdemand import schema
from mashdemand.forecast.base import DS, UID, Y
from mashdemand.style import (
    PALETTE,
    fill_style,
    fy_label,
    fy_start,
    styled,
    thousands,
    uk_date_axis,
)

if TYPE_CHECKING:
    from mashdemand.forecast.api import ForecastResult

__all__ = ["PERIOD_LABEL", "plot_fan", "plot_fy_projection"]

PERIOD_LABEL = {
    "day": "contacts per day",
    "week": "contacts per week",
    "month": "contacts per month",
    "quarter": "contacts per quarter",
    "year": "contacts per year",
    "fy": "contacts per financial year",
}
_DATE_LABEL = {
    "day": "date",
    "week": "week starting",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
    "fy": "financial year (April to March)",
}
_INTERVALS = list(schema.INTERVAL_COLUMNS)
_BAND95, _BAND80, _FORECAST, _HISTORY = "#c6dbef", "#6baed6", PALETTE[0], "#4d4d4d"


def _ax(ax: Axes | None, figsize: tuple[float, float] = (10, 4)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _hub_name(hub: str) -> str:
    return "Force total" if hub == schema.FORCE_TOTAL else hub


@styled
def plot_fan(
    result: ForecastResult,
    hub: str = schema.FORCE_TOTAL,
    ax: plt.Axes | None = None,
    history_periods: int | None = None,
) -> Figure:
    """History and forecast with 80% and 95% intervals for one hub (or ``ALL``).

    Greyscale-safe: the history is a thin dark grey line, the forecast a thick navy line, the
    intervals two light shades of one colour. Dates day-first (UK); y in contacts per period.
    """
    fig, ax = _ax(ax)
    fc = result.frame[result.frame[schema.HUB] == hub]
    for c in result.by:
        fc = fc[fc[c] == schema.FORCE_TOTAL]
    hist = result.history[result.history[UID] == hub].sort_values(DS)
    if history_periods is None:
        history_periods = {"day": 365, "week": 104, "month": 48}.get(result.freq, 20)
    hist = hist.tail(history_periods)
    ax.plot(hist[DS], hist[Y], color=_HISTORY, lw=0.8, ls="-", label="history")
    ax.fill_between(fc[schema.DATE], fc["lo95"], fc["hi95"], color=_BAND95, label="95% interval")
    ax.fill_between(fc[schema.DATE], fc["lo80"], fc["hi80"], color=_BAND80, label="80% interval")
    ax.plot(fc[schema.DATE], fc["yhat"], color=_FORECAST, lw=2.0, ls="-", label="forecast")
    ax.set_ylabel(PERIOD_LABEL.get(result.freq, "contacts"))
    ax.set_xlabel(_DATE_LABEL.get(result.freq, "period start"))
    ax.set_title(f"{_hub_name(hub)}: forecast")
    uk_date_axis(ax, result.freq if result.freq in _DATE_LABEL else "day")
    thousands(ax)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def _forecast_rows(frame: pd.DataFrame, hub: str) -> pd.DataFrame:
    """One hub's rows; for forecasts split ``by`` other columns, their ``ALL`` rows."""
    fc = frame[frame[schema.HUB] == hub]
    if fc.empty:
        raise ValueError(f"plot_fy_projection: no forecast rows for hub {hub!r}")
    fixed = {schema.HUB, schema.DATE, schema.YHAT, *_INTERVALS}
    for c in fc.columns:
        if c not in fixed and (fc[c].astype(str) == schema.FORCE_TOTAL).any():
            fc = fc[fc[c] == schema.FORCE_TOTAL]
    fc = fc.assign(fy=pd.to_datetime(fc[schema.DATE]).map(fy_start))
    if fc["fy"].duplicated().any():
        raise ValueError(
            "plot_fy_projection: expected one row per financial year (a freq='fy' forecast "
            "dated 1 April)"
        )
    return fc.set_index("fy").sort_index()


def _complete_fy_totals(history: pd.DataFrame, hub: str) -> pd.Series:
    """Contacts per complete financial year [contacts per financial year], by 1 April.

    Works on daily, weekly, monthly, quarterly or FY counts; partial years are dropped. For
    ``hub="ALL"`` without ``ALL`` rows, the hubs are summed.
    """
    h = history.assign(**{schema.DATE: pd.to_datetime(history[schema.DATE])})
    if (h[schema.HUB] == hub).any():
        h = h[h[schema.HUB] == hub]
    elif hub == schema.FORCE_TOTAL:
        h = h[h[schema.HUB] != schema.FORCE_TOTAL]
    else:
        raise ValueError(f"plot_fy_projection: no history rows for hub {hub!r}")
    per = h.groupby(schema.DATE)[schema.CONTACTS].sum().sort_index()
    if per.empty:
        return per
    dates = per.index
    first, last = dates.min(), dates.max()
    if (dates.day == 1).all():
        if (dates.month == 4).all():
            step = pd.DateOffset(years=1)
        elif (
            dates.month.isin([1, 4, 7, 10]).all()
            and len(dates) > 1
            and (np.diff(dates.month) % 3 == 0).all()
        ):
            step = pd.DateOffset(months=3)
        else:
            step = pd.DateOffset(months=1)
    else:
        gaps = np.diff(dates.to_numpy()).astype("timedelta64[D]")
        step = pd.Timedelta(int(gaps.min().astype(int)) if len(gaps) else 1, "D")
    covered_to = last + step - pd.Timedelta(1, "D")
    totals = per.groupby(dates.map(fy_start)).sum()
    ends = totals.index + pd.DateOffset(years=1) - pd.Timedelta(1, "D")
    return totals[(totals.index >= first) & (ends <= covered_to)]


@styled
def plot_fy_projection(
    frame: pd.DataFrame | Any,
    history: pd.DataFrame | None = None,
    hub: str = schema.FORCE_TOTAL,
    ax: Axes | None = None,
) -> Figure:
    """Contacts per financial year: recorded years as solid bars, forecast years as hatched
    bars with 80% (thick) and 95% (thin, capped) error bars [contacts per financial year].

    Parameters
    ----------
    frame : pandas.DataFrame or ForecastResult
        A financial-year forecast ``hub, date (1 April), yhat, lo80, hi80, lo95, hi95``
        [contacts per financial year] (a result's ``frame`` is used). Extra split columns
        (e.g. ``source``) are read at their ``ALL`` rows.
    history : pandas.DataFrame, optional
        Recorded counts ``hub, date, contacts`` at any period (daily to yearly); only complete
        financial years are shown. For ``hub="ALL"`` without ``ALL`` rows the hubs are summed.
    hub : str
        The hub, or ``"ALL"`` for the force total.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 10 x 4 inch figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        x tick labels are financial years (``2026-27``).
    """
    fc = _forecast_rows(getattr(frame, "frame", frame), hub)
    hist = _complete_fy_totals(history, hub) if history is not None else pd.Series(dtype=float)
    years = sorted(set(fc.index) | set(hist.index))
    pos = {y: i for i, y in enumerate(years)}
    both = set(fc.index) & set(hist.index)
    fig, ax = _ax(ax)
    if len(hist):
        x = np.array([pos[y] - (0.2 if y in both else 0.0) for y in hist.index])
        w = np.array([0.4 if y in both else 0.65 for y in hist.index])
        ax.bar(x, hist.to_numpy(), width=w, label="recorded (complete years)", **fill_style(0))
    x = np.array([pos[y] + (0.2 if y in both else 0.0) for y in fc.index])
    w = np.array([0.4 if y in both else 0.65 for y in fc.index])
    st = fill_style(1, PALETTE[3])
    ax.bar(x, fc[schema.YHAT].to_numpy(), width=w, label="forecast", **st)
    yhat = fc[schema.YHAT].to_numpy(dtype=float)
    for lo, hi, lw, cap, label in (
        ("lo95", "hi95", 1.0, 5, "95% interval"),
        ("lo80", "hi80", 4.0, 0, "80% interval"),
    ):
        if lo in fc.columns and hi in fc.columns and fc[[lo, hi]].notna().any().all():
            err = np.vstack(
                [yhat - fc[lo].to_numpy(dtype=float), fc[hi].to_numpy(dtype=float) - yhat]
            ).clip(min=0)
            ax.errorbar(
                x,
                yhat,
                yerr=err,
                fmt="none",
                ecolor=_FORECAST,
                elinewidth=lw,
                capsize=cap,
                capthick=1.0,
                label=label,
            )
    ax.set_xticks(range(len(years)), [fy_label(y) for y in years])
    if len(years) > 8:  # keep the labels apart on a narrow chart
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.grid(False, axis="x")
    ax.set_xlim(-0.6, len(years) - 0.4)
    ax.set_xlabel(_DATE_LABEL["fy"])
    ax.set_ylabel(PERIOD_LABEL["fy"])
    ax.set_title(f"{_hub_name(hub)}: contacts per financial year")
    thousands(ax)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig

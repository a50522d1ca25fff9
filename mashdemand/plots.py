"""Exploratory plots of contact demand. Each ``plot_x(..., ax=None)`` returns a Figure and never
calls ``show()``.

Inputs are tidy frames: a canonical contact log (CONTRACTS.md section 1) or daily counts
``hub, date, [source], contacts`` as :func:`mashdemand.sample.daily_counts` returns.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from mashdemand import schema

__all__ = [
    "plot_day_of_week",
    "plot_hour_of_day",
    "plot_monthly_by_hub",
    "plot_monthly_by_source",
    "plot_monthly_total",
    "plot_sample_force",
]

SOURCE_COLOURS = {
    "police": "#1f3b73",
    "education": "#e07b00",
    "health": "#2a9d8f",
    "local_authority": "#8e44ad",
    "public": "#c0392b",
    "other": "#7f8c8d",
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _ax(ax: Axes | None, figsize: tuple[float, float] = (9, 4)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _monthly(daily: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    month = daily[schema.DATE].dt.to_period("M").dt.start_time.rename(schema.DATE)
    keys = [daily[d] for d in dims] + [month]
    out = daily.groupby(keys, observed=True)[schema.CONTACTS].sum()
    if dims:
        return out.unstack(dims).fillna(0)
    return out.to_frame()


def _date_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=(4, 7, 10)))
    ax.grid(True, which="major", alpha=0.3)
    ax.set_xlabel("month")


def _thousands(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def plot_monthly_total(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Force total contacts per calendar month [contacts per month]."""
    fig, ax = _ax(ax)
    m = _monthly(daily, [])
    ax.plot(m.index, m[schema.CONTACTS], color="black", lw=1.5)
    ax.set_title("Force total")
    ax.set_ylabel("contacts per month")
    _date_axis(ax)
    _thousands(ax)
    return fig


def plot_monthly_by_hub(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Contacts per calendar month, one line per hub [contacts per month]."""
    fig, ax = _ax(ax)
    m = _monthly(daily, [schema.HUB])
    order = m.mean().sort_values(ascending=False).index
    for hub in order:
        ax.plot(m.index, m[hub], lw=1.1, label=hub)
    ax.set_title("By hub")
    ax.set_ylabel("contacts per month")
    ax.legend(fontsize=7, ncol=3, loc="upper left", frameon=False)
    _date_axis(ax)
    _thousands(ax)
    return fig


def plot_monthly_by_source(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Contacts per calendar month by source, force-wide [contacts per month]."""
    fig, ax = _ax(ax)
    m = _monthly(daily, [schema.SOURCE])
    for src in [s for s in schema.SOURCES if s in m.columns]:
        ax.plot(m.index, m[src], lw=1.2, color=SOURCE_COLOURS.get(src), label=src)
    ax.set_title("By source (education: August low, September surge, lockdowns)")
    ax.set_ylabel("contacts per month")
    ax.legend(fontsize=7, ncol=3, loc="upper left", frameon=False)
    _date_axis(ax)
    _thousands(ax)
    return fig


def plot_day_of_week(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Mean force-wide contacts per day by day of week and source [contacts per day]."""
    fig, ax = _ax(ax)
    force = daily.groupby([schema.DATE, schema.SOURCE], observed=True)[schema.CONTACTS].sum()
    force = force.reset_index()
    force["dow"] = force[schema.DATE].dt.day_of_week
    mean = force.groupby(["dow", schema.SOURCE], observed=True)[schema.CONTACTS].mean()
    mean = mean.unstack(schema.SOURCE)
    sources = [s for s in schema.SOURCES if s in mean.columns]
    width = 0.8 / len(sources)
    for i, src in enumerate(sources):
        x = mean.index.to_numpy() + (i - (len(sources) - 1) / 2) * width
        ax.bar(x, mean[src], width=width, color=SOURCE_COLOURS.get(src), label=src)
    ax.set_xticks(range(7), _DAYS)
    ax.set_title("Day of week by source")
    ax.set_ylabel("mean contacts per day")
    ax.set_xlabel("day of week")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    return fig


def plot_hour_of_day(contacts: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Share of each source's contacts by local hour of arrival [% of the source's contacts].

    ``contacts`` is a contact log (local ``received_at``) or the store's ``contacts`` table
    (local ``received_hour``).
    """
    fig, ax = _ax(ax)
    if schema.RECEIVED_HOUR in contacts.columns:
        hour = contacts[schema.RECEIVED_HOUR].astype(int)
    else:
        hour = contacts[schema.RECEIVED_AT].dt.hour
    share = hour.groupby(contacts[schema.SOURCE], observed=True).value_counts(normalize=True)
    share = share.unstack(0).reindex(range(24)).fillna(0) * 100
    for src in [s for s in schema.SOURCES if s in share.columns]:
        ax.plot(
            share.index,
            share[src],
            color=SOURCE_COLOURS.get(src),
            lw=1.4,
            label=src,
            marker="o",
            ms=2.5,
        )
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)], fontsize=7)
    ax.set_title("Hour of arrival (UK local time)")
    ax.set_ylabel("% of the source's contacts")
    ax.set_xlabel("hour of day")
    ax.legend(fontsize=7, ncol=2, frameon=False)
    ax.grid(True, alpha=0.3)
    return fig


def plot_sample_force(contacts: pd.DataFrame, daily: pd.DataFrame | None = None) -> Figure:
    """One six-panel figure: force total, hubs, sources by month, day of week, hour of day.

    Parameters
    ----------
    contacts : pandas.DataFrame
        A canonical contact log (for the hour-of-day panel and, if ``daily`` is not given,
        the daily counts).
    daily : pandas.DataFrame, optional
        Daily counts by ``hub, source``.
    """
    if daily is None:
        from mashdemand.sample import daily_counts

        daily = daily_counts(contacts, by=(schema.HUB, schema.SOURCE))
    fig = plt.figure(figsize=(14, 13), layout="constrained")
    grid = fig.add_gridspec(4, 2)
    plot_monthly_total(daily, ax=fig.add_subplot(grid[0, :]))
    plot_monthly_by_hub(daily, ax=fig.add_subplot(grid[1, :]))
    plot_monthly_by_source(daily, ax=fig.add_subplot(grid[2, :]))
    plot_day_of_week(daily, ax=fig.add_subplot(grid[3, 0]))
    plot_hour_of_day(contacts, ax=fig.add_subplot(grid[3, 1]))
    first, last = daily[schema.DATE].min(), daily[schema.DATE].max()
    fig.suptitle(f"Sample force (synthetic): {first:%d/%m/%Y} to {last:%d/%m/%Y}", fontsize=13)
    return fig

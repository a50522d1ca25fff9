"""Exploratory plots of contact demand. Each ``plot_x(..., ax=None)`` returns a Figure and never
calls ``show()``; all are drawn in the house style (:mod:`mashdemand.style`).

Inputs are tidy frames: a canonical contact log (CONTRACTS.md section 1) or daily counts
``hub, date, [source], contacts`` as :func:`mashdemand.sample.daily_counts` returns.
"""

from __future__ import annotations

from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mashdemand import schema
from mashdemand.style import (
    PALETTE,
    PRIORITY_COLOURS,
    SOURCE_COLOURS,
    fill_style,
    series_style,
    styled,
    thousands,
    uk_date_axis,
)

__all__ = [
    "SOURCE_COLOURS",
    "hour_of_week_means",
    "plot_day_of_week",
    "plot_hour_of_day",
    "plot_hour_of_week",
    "plot_monthly_by",
    "plot_monthly_by_hub",
    "plot_monthly_by_source",
    "plot_monthly_total",
    "plot_sample_force",
]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_VOCAB = {
    schema.SOURCE: schema.SOURCES,
    schema.PRIORITY: schema.PRIORITIES,
    schema.SUBJECT: schema.SUBJECTS,
}
_COLOURS = {schema.SOURCE: SOURCE_COLOURS, schema.PRIORITY: PRIORITY_COLOURS}


def _ax(ax: Axes | None, figsize: tuple[float, float] = (10, 4)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _monthly(daily: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Contacts per calendar month [contacts per month], one column per ``dims`` value.

    Partial first and last months of daily input are dropped (they would read as a fall in
    demand) unless that leaves nothing.
    """
    date = pd.to_datetime(daily[schema.DATE])
    month = date.dt.to_period("M").dt.start_time.rename(schema.DATE)
    keys = [daily[d] for d in dims] + [month]
    out = daily.groupby(keys, observed=True)[schema.CONTACTS].sum()
    out = out.unstack(dims).fillna(0) if dims else out.to_frame()
    days = date.drop_duplicates()
    if len(days) > days.dt.to_period("M").nunique():  # daily (not already monthly) input
        seen = days.groupby(days.dt.to_period("M").dt.start_time).size()
        whole = seen.index[seen.to_numpy() == seen.index.days_in_month.to_numpy()]
        if len(whole):
            out = out.loc[(out.index >= whole.min()) & (out.index <= whole.max())]
    return out


def _order(dim: str, values: pd.Index, means: pd.Series) -> list:
    """Known vocabularies in their own order; anything else by mean, largest first."""
    if dim in _VOCAB:
        known = [v for v in _VOCAB[dim] if v in values]
        return known + sorted(v for v in values if v not in known)
    return list(means.sort_values(ascending=False).index)


def _colour(dim: str, value: object, i: int) -> str:
    return _COLOURS.get(dim, {}).get(str(value), PALETTE[i % len(PALETTE)])


def _monthly_axes(ax: Axes) -> None:
    uk_date_axis(ax, "month")
    ax.set_xlabel("month")
    ax.set_ylabel("contacts per month")
    thousands(ax)


@styled
def plot_monthly_total(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Force total contacts per calendar month [contacts per month]."""
    fig, ax = _ax(ax)
    m = _monthly(daily, [])
    ax.plot(m.index, m[schema.CONTACTS], color=PALETTE[0], lw=1.8, label="force total")
    ax.set_title("Force total")
    _monthly_axes(ax)
    ax.set_ylim(bottom=0)
    return fig


@styled
def plot_monthly_by(
    daily: pd.DataFrame,
    dim: str,
    ax: Axes | None = None,
    kind: Literal["line", "stacked"] = "line",
    hub: str | None = None,
    title: str | None = None,
) -> Figure:
    """Contacts per calendar month split by any dimension [contacts per month].

    Parameters
    ----------
    daily : pandas.DataFrame
        Tidy counts ``hub, date, <dim>, contacts`` [contacts/day] (monthly counts also work).
    dim : str
        Column to split by: ``priority``, ``source``, ``subject``, ``hub``...
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new 10 x 4 inch figure by default.
    kind : {"line", "stacked"}
        One line per value, or stacked areas (hatched, so they read in greyscale).
    hub : str, optional
        Only this hub's rows; the whole force by default.
    title : str, optional
        Defaults to ``"Contacts per month by <dim>"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if dim not in daily.columns:
        raise schema.SchemaError(f"plot_monthly_by: no column {dim!r} in {list(daily.columns)}")
    if hub is not None and hub != schema.FORCE_TOTAL:
        daily = daily[daily[schema.HUB] == hub]
    fig, ax = _ax(ax)
    m = _monthly(daily, [dim])
    order = _order(dim, m.columns, m.mean())
    if kind == "stacked":
        polys = ax.stackplot(
            m.index,
            *[m[v].to_numpy() for v in order],
            labels=[str(v) for v in order],
            colors=[_colour(dim, v, i) for i, v in enumerate(order)],
        )
        for i, (poly, v) in enumerate(zip(polys, order, strict=True)):
            st = fill_style(i, _colour(dim, v, i))
            poly.set_hatch(st["hatch"])
            poly.set_edgecolor(st["edgecolor"])
            poly.set_linewidth(st["linewidth"])
    elif kind == "line":
        for i, v in enumerate(order):
            ax.plot(m.index, m[v], lw=1.4, label=str(v), **series_style(i, _colour(dim, v, i)))
    else:
        raise ValueError(f"kind must be 'line' or 'stacked'; got {kind!r}")
    where = "" if hub in (None, schema.FORCE_TOTAL) else f"{hub}: "
    ax.set_title(title or f"{where}contacts per month by {dim}")
    handles, labels = ax.get_legend_handles_labels()
    if kind == "stacked":  # legend top to bottom as the layers are
        handles, labels = handles[::-1], labels[::-1]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title=dim)
    _monthly_axes(ax)
    ax.set_ylim(bottom=0)
    return fig


@styled
def plot_monthly_by_hub(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Contacts per calendar month, one line per hub [contacts per month]."""
    return plot_monthly_by(daily, schema.HUB, ax=ax, title="By hub")


@styled
def plot_monthly_by_source(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Contacts per calendar month by source, force-wide [contacts per month]."""
    return plot_monthly_by(
        daily,
        schema.SOURCE,
        ax=ax,
        title="By source (education: August low, September surge, lockdowns)",
    )


@styled
def plot_day_of_week(daily: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Mean force-wide contacts per day by day of week and source [contacts per day].

    Without a ``source`` column, one bar per day for all contacts.
    """
    fig, ax = _ax(ax)
    frame = daily.assign(**{schema.DATE: pd.to_datetime(daily[schema.DATE])})
    if schema.SOURCE not in frame.columns:
        frame = frame.assign(**{schema.SOURCE: "all contacts"})
    force = frame.groupby([schema.DATE, schema.SOURCE], observed=True)[schema.CONTACTS].sum()
    force = force.reset_index()
    force["dow"] = force[schema.DATE].dt.day_of_week
    mean = force.groupby(["dow", schema.SOURCE], observed=True)[schema.CONTACTS].mean()
    mean = mean.unstack(schema.SOURCE).reindex(range(7))
    sources = _order(schema.SOURCE, mean.columns, mean.mean())
    width = 0.8 / len(sources)
    for i, src in enumerate(sources):
        x = mean.index.to_numpy() + (i - (len(sources) - 1) / 2) * width
        st = fill_style(i, _colour(schema.SOURCE, src, i))
        ax.bar(x, mean[src], width=width, label=str(src), **st)
    ax.set_xticks(range(7), _DAYS)
    ax.grid(False, axis="x")
    ax.set_title("Day of week by source")
    ax.set_ylabel("mean contacts per day")
    ax.set_xlabel("day of week")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="source")
    thousands(ax)
    return fig


def _local_hour(contacts: pd.DataFrame) -> pd.Series:
    """Local (UK) hour of arrival, 0-23, of each contact."""
    if schema.RECEIVED_HOUR in contacts.columns:
        return contacts[schema.RECEIVED_HOUR].astype(int)
    return _local_time(contacts).dt.hour


def _local_time(contacts: pd.DataFrame) -> pd.Series:
    """``received_at`` as naive UK local time (tz-aware values are converted to UK time)."""
    if schema.RECEIVED_AT not in contacts.columns:
        raise schema.SchemaError(
            "contact log: need received_at (or the store's received_date and received_hour)"
        )
    t = contacts[schema.RECEIVED_AT]
    if not pd.api.types.is_datetime64_any_dtype(t):  # text: ISO 8601, else UK day-first
        try:
            t = pd.to_datetime(t, format="ISO8601")
        except (ValueError, TypeError):
            t = pd.to_datetime(t, format="mixed", dayfirst=True)
    if t.dt.tz is not None:
        t = t.dt.tz_convert(schema.UK_TZ).dt.tz_localize(None)
    return t


def _local_day_hour(contacts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Local (UK) calendar day (midnight timestamps) and hour of each contact."""
    if {schema.RECEIVED_DATE, schema.RECEIVED_HOUR} <= set(contacts.columns):
        day = pd.to_datetime(contacts[schema.RECEIVED_DATE]).dt.normalize()
        return day, contacts[schema.RECEIVED_HOUR].astype(int)
    t = _local_time(contacts)
    return t.dt.normalize(), t.dt.hour


@styled
def plot_hour_of_day(contacts: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Share of each source's contacts by local hour of arrival [% of the source's contacts].

    ``contacts`` is a contact log (local ``received_at``; tz-aware values are converted to UK
    time) or the store's ``contacts`` table (local ``received_hour``).
    """
    fig, ax = _ax(ax)
    hour = _local_hour(contacts)
    source = (
        contacts[schema.SOURCE]
        if schema.SOURCE in contacts.columns
        else pd.Series("all contacts", index=contacts.index)
    )
    share = hour.groupby(source, observed=True).value_counts(normalize=True)
    share = share.unstack(0).reindex(range(24)).fillna(0) * 100
    for i, src in enumerate(_order(schema.SOURCE, share.columns, share.mean())):
        ax.plot(
            share.index,
            share[src],
            lw=1.4,
            label=str(src),
            marker="o",
            ms=2.5,
            **series_style(i, _colour(schema.SOURCE, src, i)),
        )
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)])
    ax.set_xlim(-0.5, 23.5)
    ax.set_title("Hour of arrival (UK local time)")
    ax.set_ylabel("% of the source's contacts")
    ax.set_xlabel("hour of day (UK time)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="source")
    return fig


def hour_of_week_means(
    contacts: pd.DataFrame,
    hub: str | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Mean contacts per hour of the week [contacts/hour], in UK local time.

    Each cell is the contacts that arrived in that weekday and local hour, divided by the
    number of such weekdays from ``start`` to ``end`` (local dates, inclusive; the first and
    last day in the log by default). Over whole weeks the cells sum to contacts per week.

    Parameters
    ----------
    contacts : pandas.DataFrame
        A canonical contact log (``received_at``: naive UK local, or tz-aware) or the store's
        ``contacts`` table (``received_date``, ``received_hour``).
    hub : str, optional
        Only this hub's contacts (``None`` or ``"ALL"``: the whole force).
    start, end : date-like, optional
        The window (local days, inclusive) the means are taken over.

    Returns
    -------
    pandas.DataFrame
        Index ``Mon`` ... ``Sun`` (7 rows), columns hours 0-23 (24 columns).

    Examples
    --------
    >>> at = pd.to_datetime(["2025-01-06 09:10", "2025-01-13 09:50"])
    >>> log = pd.DataFrame({"received_at": at})
    >>> means = hour_of_week_means(log, start="2025-01-06", end="2025-01-19")
    >>> float(means.loc["Mon", 9]), float(means.to_numpy().sum())
    (1.0, 1.0)
    """
    if hub is not None and hub != schema.FORCE_TOTAL:
        contacts = contacts[contacts[schema.HUB] == hub]
    day, hour = _local_day_hour(contacts)
    if start is None and end is None and day.empty:
        raise ValueError(f"no contacts{'' if hub is None else f' for hub {hub!r}'} to plot")
    lo = pd.Timestamp(start).normalize() if start is not None else day.min()
    hi = pd.Timestamp(end).normalize() if end is not None else day.max()
    keep = ((day >= lo) & (day <= hi)).to_numpy()
    grid = np.zeros((7, 24))
    np.add.at(grid, (day[keep].dt.day_of_week.to_numpy(), hour[keep].to_numpy()), 1)
    n_days = np.bincount(pd.date_range(lo, hi, freq="D").day_of_week, minlength=7)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = grid / n_days[:, None]
    return pd.DataFrame(means, index=pd.Index(_DAYS, name="day"), columns=range(24))


@styled
def plot_hour_of_week(
    contacts: pd.DataFrame,
    hub: str | None = None,
    ax: Axes | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> Figure:
    """Heatmap of mean contacts per hour by weekday and local hour [contacts/hour].

    Rows Mon to Sun, columns hours 0-23 (UK local time); values from
    :func:`hour_of_week_means` (same arguments). Sequential greys-to-blues, so darker is busier
    in colour and in greyscale.
    """
    means = hour_of_week_means(contacts, hub=hub, start=start, end=end)
    fig, ax = _ax(ax, (10, 3.8))
    im = ax.imshow(means.to_numpy(), aspect="auto", cmap="Blues", interpolation="nearest", vmin=0)
    ax.grid(False)
    ax.set_yticks(range(7), _DAYS)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}:00" for h in range(0, 24, 2)])
    ax.set_xlabel("hour of day (UK time)")
    ax.set_ylabel("day of week")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    name = "Force total" if hub in (None, schema.FORCE_TOTAL) else hub
    ax.set_title(f"{name}: mean contacts by hour of the week")
    fig.colorbar(im, ax=ax, label="mean contacts per hour", pad=0.01)
    return fig


@styled
def plot_sample_force(contacts: pd.DataFrame, daily: pd.DataFrame | None = None) -> Figure:
    """One five-panel figure: force total, hubs, sources by month, day of week, hour of day.

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
    first, last = pd.to_datetime(daily[schema.DATE]).agg(["min", "max"])
    fig.suptitle(f"Sample force (synthetic): {first:%d/%m/%Y} to {last:%d/%m/%Y}")
    return fig

"""Staffing charts. Each ``plot_x(..., ax=None)`` returns a Figure and never calls ``show()``.

Inputs are the frames of a :class:`~mashdemand.staffing.plan.StaffingPlan` (``summary``,
``roster``, ``weekend_cover``), so saved CSVs can be plotted too. All charts are drawn in the
house style (:mod:`mashdemand.style`).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from mashdemand.hubs import display_name
from mashdemand.staffing.config import DAY_TYPES
from mashdemand.style import PALETTE, fill_style, series_style, styled

__all__ = [
    "plot_fte_by_hub",
    "plot_fte_by_quarter",
    "plot_option_tradeoff",
    "plot_roster_heatmap",
    "plot_weekend_cover",
]

_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Bank hol")


def _ax(ax: Axes | None, figsize: tuple[float, float] = (10, 4)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _roster_frame(plan_or_roster: Any) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if isinstance(plan_or_roster, pd.DataFrame):
        return plan_or_roster, None
    return plan_or_roster.roster, plan_or_roster.summary


@styled
def plot_roster_heatmap(
    plan_or_roster: Any,
    hub: str,
    quarter: str,
    option: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Staff on duty by day type and hour for one hub, quarter and option [staff].

    ``plan_or_roster`` is a :class:`StaffingPlan` (``option`` defaults to the recommended one)
    or a roster frame ``hub, quarter, option, day_type, hour, staff`` (``option`` required).
    """
    roster, summary = _roster_frame(plan_or_roster)
    if option is None:
        if summary is None:
            raise ValueError("option is required when plotting a roster frame")
        rec = summary[(summary["hub"] == hub) & (summary["quarter"] == quarter)]
        rec = rec[rec["recommended"]]
        option = str(rec["option"].iloc[0]) if len(rec) else str(summary["option"].iloc[0])
    sel = roster[
        (roster["hub"] == hub) & (roster["quarter"] == quarter) & (roster["option"] == option)
    ]
    grid = np.zeros((len(DAY_TYPES), 24))
    grid[sel["day_type"].map(DAY_TYPES.index).to_numpy(), sel["hour"].to_numpy()] = sel["staff"]
    fig, ax = _ax(ax, (10, 3.8))
    shown = np.ma.masked_equal(grid, 0)
    top = max(float(grid.max()), 1.0)
    im = ax.imshow(shown, aspect="auto", cmap="Blues", interpolation="nearest", vmin=0, vmax=top)
    for (i, j), v in np.ndenumerate(grid):
        if v > 0:
            colour = "white" if v >= 0.6 * top else "black"
            ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=7, color=colour)
    ax.grid(False)
    ax.set_yticks(range(len(DAY_TYPES)), _DAY_LABELS)
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)], fontsize=8)
    ax.set_xlabel("hour starting (UK time)")
    ax.set_ylabel("day type")
    ax.set_title(f"{hub} {quarter}: staff on duty, option {option}")
    fig.colorbar(im, ax=ax, label="staff on duty (people)", pad=0.01)
    return fig


@styled
def plot_fte_by_quarter(
    summary: pd.DataFrame, option: str = "recommended", ax: Axes | None = None
) -> Figure:
    """FTE required by quarter, one line per hub, for an option or the recommended one [FTE]."""
    s = (
        summary[summary["recommended"]]
        if option == "recommended"
        else summary[summary["option"] == option]
    )
    fig, ax = _ax(ax)
    quarters = sorted(s["quarter"].unique())
    x = np.arange(len(quarters))
    for i, (hub, g) in enumerate(s.groupby("hub", sort=True)):
        g = g.set_index("quarter").reindex(quarters)
        ax.plot(x, g["fte_required"], marker="o", ms=4, lw=1.5, label=hub, **series_style(i))
    ax.set_xticks(x, quarters)
    ax.set_xlabel("quarter")
    ax.set_ylabel("FTE required")
    ax.set_title(f"FTE by quarter ({option} option)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="hub")
    return fig


def _namer(labels: dict[str, str] | None):
    """Option key -> readers' name (the key itself when no label is given)."""
    labels = labels or {}
    return lambda key: labels.get(key, key)


@styled
def plot_fte_by_hub(
    summary: pd.DataFrame,
    quarter: str,
    baseline: str = "today",
    ax: Axes | None = None,
    labels: dict[str, str] | None = None,
) -> Figure:
    """FTE by hub in one quarter: today's hours against the recommended option [FTE].

    ``labels`` maps option keys to the names readers see (``OperatingOption.label``).
    """
    name = _namer(labels)
    s = summary[summary["quarter"] == quarter]
    base = s[s["option"] == baseline].set_index("hub")["fte_required"]
    rec = s[s["recommended"]].set_index("hub")
    hubs = list(base.sort_values(ascending=False).index)
    fig, ax = _ax(ax, (10, 4.2))
    x = np.arange(len(hubs))
    ax.bar(
        x - 0.2,
        base.reindex(hubs),
        width=0.4,
        label=f"today's hours ({name(baseline)})",
        **fill_style(1, PALETTE[6]),
    )
    chosen = sorted(set(rec["option"].reindex(hubs).dropna()))
    one = len(chosen) == 1
    ax.bar(
        x + 0.2,
        rec["fte_required"].reindex(hubs),
        width=0.4,
        label=f"recommended: {name(chosen[0])}" if one else "recommended (option named on the bar)",
        **fill_style(0),
    )
    if not one:  # name each hub's option inside the bar, clear of the title
        for i, h in enumerate(hubs):
            if h in rec.index:
                ax.text(
                    x[i] + 0.2,
                    rec.loc[h, "fte_required"] * 0.04,
                    name(str(rec.loc[h, "option"])).split(";")[0],
                    rotation=90,
                    va="bottom",
                    ha="center",
                    fontsize=7,
                    color="white",
                )
    top = float(np.nanmax([base.max(), rec["fte_required"].max()]))
    ax.set_ylim(0, top * 1.25)
    ax.set_xticks(x, [display_name(h) for h in hubs], rotation=30, ha="right")
    ax.grid(False, axis="x")
    ax.set_xlabel("hub")
    ax.set_ylabel("FTE required")
    ax.set_title(f"FTE by hub, {quarter}: today's hours vs recommended option")
    ax.legend()
    return fig


@styled
def plot_option_tradeoff(
    summary: pd.DataFrame,
    hub: str,
    quarter: str,
    ax: Axes | None = None,
    labels: dict[str, str] | None = None,
) -> Figure:
    """FTE against timeliness for each option of one hub and quarter.

    x: FTE required; y: contacts arriving while the hub is closed to them (out of hours);
    marker size: Monday backlog; filled: meets every target; star: recommended.
    """
    name = _namer(labels)
    s = summary[(summary["hub"] == hub) & (summary["quarter"] == quarter)]
    fig, ax = _ax(ax, (9, 4))
    size = 40 + 200 * s["monday_backlog"].fillna(0) / max(s["monday_backlog"].max(), 1e-9)
    for (_, r), sz in zip(s.iterrows(), size, strict=True):
        marker = "*" if r["recommended"] else "o"
        face = PALETTE[0] if r["meets_targets"] else "none"
        ax.scatter(
            r["fte_required"],
            r["out_of_hours_share"] * 100,
            s=sz * (2 if marker == "*" else 1),
            marker=marker,
            facecolors=face,
            edgecolors=PALETTE[0],
        )
        ax.annotate(
            f"{name(r['option'])}\nMonday backlog {r['monday_backlog']:.0f}",
            (r["fte_required"], r["out_of_hours_share"] * 100),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=7,
        )
    lo, hi = s["fte_required"].min(), s["fte_required"].max()
    pad = max(0.05 * s["fte_required"].mean(), 0.5)
    ax.set_xlim(lo - pad, hi + 2 * pad)
    ax.margins(y=0.18)  # room for the labels above the top point
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.1f}"))
    ax.set_xlabel("FTE required")
    ax.set_ylabel("contacts arriving while closed to them (%)")
    ax.set_title(f"{display_name(hub)} {quarter}: operating options (star = recommended)")
    return fig


@styled
def plot_weekend_cover(cover: pd.DataFrame, quarter: str, ax: Axes | None = None) -> Figure:
    """Weekend and bank-holiday cover by hub: FTE for the minimum cover against the delay
    urgent and high contacts face when left to the next working day."""
    s = cover[cover["quarter"] == quarter].sort_values("urgent_high_weekend", ascending=False)
    fig, ax = _ax(ax, (10, 4.2))
    x = np.arange(len(s))
    ax.bar(x, s["cover_fte"], label="FTE for minimum cover", **fill_style(0, PALETTE[3]))
    for i, (_, r) in enumerate(s.iterrows()):
        ax.text(
            x[i],
            r["cover_fte"],
            f"{int(r['min_cover_staff'])} on duty",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xticks(x, [display_name(h) for h in s["hub"]], rotation=30, ha="right")
    ax.grid(False, axis="x")
    ax.set_xlabel("hub")
    ax.set_ylabel("FTE (weekend and bank-holiday cover)")
    ax2 = ax.twinx()
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    no_cover, with_cover = series_style(0, PALETTE[4]), series_style(1, PALETTE[0])
    ax2.plot(x, s["delay_hours_no_cover"], marker="o", label="delay if left (h)", **no_cover)
    ax2.plot(x, s["delay_hours_with_cover"], marker="s", label="delay with cover (h)", **with_cover)
    ax2.set_ylabel("mean hours until next open, urgent + high (hours)")
    ax.set_ylim(0, 1.3 * max(float(s["cover_fte"].max()), 1e-9))
    ax2.set_ylim(0, 1.3 * max(float(s["delay_hours_no_cover"].max()), 1e-9))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper center", ncol=3)
    ax.set_title(f"Weekend and bank-holiday cover for urgent and high work, {quarter}")
    return fig

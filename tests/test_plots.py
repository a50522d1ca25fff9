"""The house chart style and every public plot function, on small synthetic inputs.

Each chart is checked for concrete things a reader relies on: axis labels with units, UK
day-first dates, financial-year labels, the numbers drawn, and series that stay distinct
without colour (greyscale print).
"""

from __future__ import annotations

import io
import itertools
import re
import types
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mashdemand import plots, schema, style  # noqa: E402
from mashdemand.forecast import plots as fplots  # noqa: E402
from mashdemand.sample import daily_counts, generate_contacts  # noqa: E402
from mashdemand.staffing import plots as splots  # noqa: E402
from mashdemand.staffing.config import DAY_TYPES  # noqa: E402

DAY_FIRST = re.compile(r"^\d{2}/\d{2}/\d{4}$")
MONTH = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$")
FY = re.compile(r"^\d{4}-\d{2}$")
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKS_START, WEEKS_END, N_WEEKS = "2025-01-06", "2025-03-30", 12  # Monday to Sunday


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- inputs -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return generate_contacts(start="2025-01-01", end="2025-03-31", hubs=["slough", "reading"])


@pytest.fixture(scope="module")
def daily(log) -> pd.DataFrame:
    return daily_counts(log, by=(schema.HUB, schema.SOURCE))


@pytest.fixture(scope="module")
def daily_priority(log) -> pd.DataFrame:
    return daily_counts(log, by=(schema.HUB, schema.PRIORITY))


@pytest.fixture(scope="module")
def nine_hubs() -> pd.DataFrame:
    """Daily counts for nine hubs: more series than palette colours."""
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", "2024-12-31")
    return pd.DataFrame(
        {
            schema.HUB: np.repeat([f"hub{i}" for i in range(9)], len(days)),
            schema.DATE: np.tile(days, 9),
            schema.CONTACTS: rng.poisson(np.repeat(np.arange(9, 0, -1) * 10, len(days))),
        }
    )


@pytest.fixture(scope="module")
def staffing_frames():
    hubs, quarters = ["slough", "reading", "newtown"], ["2026Q4", "2027Q1"]
    options = ["today", "long_day_0719", "extended"]
    rows = []
    for (h, hub), (q, quarter), (o, option) in itertools.product(
        enumerate(hubs), enumerate(quarters), enumerate(options)
    ):
        rows.append(
            {
                "hub": hub,
                "quarter": quarter,
                "option": option,
                "fte_required": 10.0 + 3 * h + q + 0.5 * o,
                "recommended": o == 1,
                "meets_targets": o > 0,
                "out_of_hours_share": 0.2 - 0.05 * o,
                "monday_backlog": 30.0 - 10 * o,
            }
        )
    summary = pd.DataFrame(rows)
    roster = pd.DataFrame(
        [
            {"hub": "slough", "quarter": "2026Q4", "option": opt, "day_type": d, "hour": hr,
             "staff": (3 if d in DAY_TYPES[:5] else 1)}
            for opt in options
            for d in DAY_TYPES
            for hr in range(8, 18)
        ]
    )  # fmt: skip
    cover = pd.DataFrame(
        {
            "quarter": "2026Q4",
            "hub": hubs,
            "urgent_high_weekend": [40.0, 25.0, 10.0],
            "cover_fte": [1.2, 0.8, 0.4],
            "min_cover_staff": [2, 1, 1],
            "delay_hours_no_cover": [40.0, 38.0, 36.0],
            "delay_hours_with_cover": [4.0, 5.0, 6.0],
        }
    )
    return types.SimpleNamespace(summary=summary, roster=roster, weekend_cover=cover)


def fy_forecast(hub: str = schema.FORCE_TOTAL) -> pd.DataFrame:
    yhat = np.array([60000.0, 63000.0, 66000.0])
    return pd.DataFrame(
        {
            schema.HUB: hub,
            schema.DATE: pd.to_datetime(["2026-04-01", "2027-04-01", "2028-04-01"]),
            "yhat": yhat,
            "lo80": yhat - [2000, 4000, 6000],
            "hi80": yhat + [2000, 4000, 6000],
            "lo95": yhat - [3000, 6000, 9000],
            "hi95": yhat + [3000, 6000, 9000],
        }
    )


def fan_result(freq: str = "day"):
    """A ForecastResult stand-in with what ``plot_fan`` reads."""
    if freq == "day":
        hist_ds, fc_ds = (
            pd.date_range("2026-06-01", "2026-09-30"),
            pd.date_range("2026-10-01", "2026-12-31"),
        )
    else:
        hist_ds = pd.date_range("2023-01-01", "2026-09-01", freq="MS")
        fc_ds = pd.date_range("2026-10-01", "2027-09-01", freq="MS")
    hist = pd.DataFrame({"unique_id": "ALL", "ds": hist_ds, "y": 100.0})
    fc = pd.DataFrame(
        {
            "hub": "ALL",
            "date": fc_ds,
            "yhat": 100.0,
            "lo80": 90.0,
            "hi80": 110.0,
            "lo95": 80.0,
            "hi95": 120.0,
        }
    )
    return types.SimpleNamespace(frame=fc, freq=freq, by=(), history=hist)


# --- helpers ------------------------------------------------------------------------------
def lum(colour) -> float:
    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def tick_texts(ax, axis: str = "x") -> list[str]:
    ax.figure.canvas.draw()
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels if t.get_text()]


def line_pairs(ax) -> list[tuple[str, str]]:
    return [(to_hex(ln.get_color()), ln.get_linestyle()) for ln in ax.get_lines()]


def assert_labelled(fig: Figure) -> None:
    """Every axes has a y label, and an x label (itself or a twin); colour bars a label."""
    for ax in fig.axes:
        assert ax.get_ylabel().strip(), f"no y label on {ax.get_title()!r}"
        if ax.get_label() == "<colorbar>":
            continue
        siblings = ax.get_shared_x_axes().get_siblings(ax)
        assert any(a.get_xlabel().strip() for a in siblings), f"no x label on {ax.get_title()!r}"


def monthly_totals(daily: pd.DataFrame, col: str | None = None) -> pd.DataFrame:
    month = daily[schema.DATE].dt.to_period("M").dt.start_time
    keys = [month] + ([daily[col]] if col else [])
    return daily.groupby(keys, observed=True)[schema.CONTACTS].sum()


# --- palette and style --------------------------------------------------------------------
def test_palette_distinct_in_greyscale():
    assert 6 <= len(style.PALETTE) <= 8
    assert len({to_hex(c) for c in style.PALETTE}) == len(style.PALETTE)
    lums = [lum(c) for c in style.PALETTE]
    for a, b in itertools.combinations(lums, 2):
        assert abs(a - b) >= 0.08, (a, b)
    assert min(lums) < 0.2 and max(lums) > 0.65  # spans dark to light
    assert [style.luminance(c) for c in style.PALETTE] == pytest.approx(lums)


def test_source_and_priority_colours():
    assert list(style.SOURCE_COLOURS) == list(schema.SOURCES)
    for a, b in itertools.combinations(style.SOURCE_COLOURS.values(), 2):
        assert abs(lum(a) - lum(b)) >= 0.08
    assert list(style.PRIORITY_COLOURS) == list(schema.PRIORITIES)
    lums = [lum(style.PRIORITY_COLOURS[p]) for p in schema.PRIORITIES]
    assert lums == sorted(lums) and np.diff(lums).min() >= 0.1  # urgent darkest
    assert plots.SOURCE_COLOURS is style.SOURCE_COLOURS  # still importable from plots


def test_linestyles_and_hatches_distinct():
    assert len(set(style.LINESTYLES)) == len(style.LINESTYLES) >= 4
    assert len(set(style.HATCHES)) == len(style.HATCHES) >= 6
    pairs = [tuple(style.series_style(i).values()) for i in range(28)]
    assert len(set(pairs)) == 28


@pytest.mark.parametrize(
    "date, label",
    [
        ("2026-04-01", "2026-27"),
        ("2027-03-31", "2026-27"),
        ("2026-03-31", "2025-26"),
        ("2026-12-25 13:00", "2026-27"),
        ("1999-04-01", "1999-00"),
        ("2009-06-30", "2009-10"),
    ],
)
def test_fy_label(date, label):
    assert style.fy_label(pd.Timestamp(date)) == label
    assert style.fy_start(date) == pd.Timestamp(f"{label[:4]}-04-01")


def test_house_style_rcparams_and_restore():
    before = dict(matplotlib.rcParams)
    with style.house_style():
        rc = matplotlib.rcParams
        assert rc["font.sans-serif"][0] == "DejaVu Sans"
        assert (rc["axes.titlesize"], rc["axes.labelsize"], rc["xtick.labelsize"]) == (12, 10, 9)
        assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
        assert rc["axes.grid"] and rc["savefig.dpi"] == 150
        assert to_hex(rc["figure.facecolor"]) == "#ffffff"
        cycle = list(rc["axes.prop_cycle"])
        assert cycle[0] == {"color": style.PALETTE[0], "linestyle": "-"}
        assert len({(c["color"], c["linestyle"]) for c in cycle}) == len(cycle) == 28
        fig, ax = plt.subplots()
        a, b = ax.plot([0, 1]), ax.plot([1, 0])
        assert (a[0].get_color(), a[0].get_linestyle()) != (b[0].get_color(), b[0].get_linestyle())
    assert matplotlib.rcParams["savefig.dpi"] == before["savefig.dpi"]
    assert matplotlib.rcParams["axes.spines.top"] == before["axes.spines.top"]


def test_styled_ticks_keep_style_when_drawn_outside(daily):
    fig = plots.plot_monthly_total(daily)
    ax = fig.axes[0]
    assert matplotlib.rcParams["xtick.labelsize"] != 9  # outside the style now
    fig.canvas.draw()
    assert {t.get_fontsize() for t in ax.get_xticklabels()} == {9.0}
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.title.get_fontsize() == 12 and ax.yaxis.label.get_fontsize() == 10


def test_styled_restyles_callers_axes(daily):
    fig, ax = plt.subplots()  # made outside the house style
    assert ax.spines["top"].get_visible()
    assert plots.plot_monthly_total(daily, ax=ax) is fig
    assert not ax.spines["top"].get_visible()
    assert ax.yaxis.label.get_fontsize() == 10


@pytest.mark.parametrize("module", [plots, fplots, splots])
def test_every_public_plot_function_is_styled(module):
    names = [n for n in module.__all__ if n.startswith("plot_")]
    assert names
    for name in names:
        assert hasattr(getattr(module, name), "__wrapped__"), name


# --- date axes ----------------------------------------------------------------------------
def _date_axis_labels(freq: str, start: str, end: str) -> list[str]:
    fig, ax = plt.subplots(figsize=(10, 4))
    days = pd.date_range(start, end)
    ax.plot(days, np.arange(len(days)))
    ax.margins(x=0)
    style.uk_date_axis(ax, freq)
    return tick_texts(ax)


def test_uk_date_axis_day_first():
    labels = _date_axis_labels("day", "2026-10-01", "2026-10-31")
    assert labels and all(DAY_FIRST.match(t) for t in labels)
    # every tick is in October: read day-first, the month is 10 (month-first would not be)
    assert {datetime.strptime(t, "%d/%m/%Y").month for t in labels} == {10}
    assert "01/10/2026" in labels


@pytest.mark.parametrize(
    "freq, pattern, expected",
    [
        ("month", MONTH, "Oct 2026"),
        ("quarter", re.compile(r"^\d{4}Q[1-4]$"), "2026Q3"),
        ("year", re.compile(r"^\d{4}$"), "2026"),
        ("fy", FY, "2026-27"),
    ],
)
def test_uk_date_axis_formats(freq, pattern, expected):
    labels = _date_axis_labels(freq, "2025-01-15", "2027-12-20")
    assert labels and all(pattern.match(t) for t in labels), labels
    assert len(labels) <= 10
    if freq != "month":
        assert expected in labels
    else:
        short = _date_axis_labels(freq, "2026-08-15", "2026-12-20")
        assert short == ["Sep 2026", "Oct 2026", "Nov 2026", "Dec 2026"]


def test_uk_date_axis_rejects_unknown_freq():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="freq"):
        style.uk_date_axis(ax, "fortnight")


def test_thousands():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 25000])
    style.thousands(ax)
    labels = tick_texts(ax, "y")
    assert "10,000" in labels and "20,000" in labels


# --- output helpers -----------------------------------------------------------------------
def test_figure_output_helpers(tmp_path, daily):
    fig = plots.plot_monthly_total(daily)
    svg = style.figure_to_svg(fig)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    # reproducible: no date stamp, ids from a fixed salt
    assert svg == style.figure_to_svg(plots.plot_monthly_total(daily))
    assert "<dc:date>" not in svg
    assert style.figure_to_svg(fig, inline=False).startswith("<?xml")
    png = style.figure_to_png_bytes(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = plt.imread(io.BytesIO(png)).shape[1]
    half = plt.imread(io.BytesIO(style.figure_to_png_bytes(fig, dpi=75))).shape[1]
    assert width == pytest.approx(2 * half, rel=0.02)
    assert 0.9 * 10 * 150 < width < 1.05 * 10 * 150  # a 10 inch figure at 150 dpi
    for suffix in ("png", "svg", "pdf"):
        path = style.save_figure(fig, tmp_path / "out" / f"chart.{suffix}")
        assert path.exists() and path.stat().st_size > 1000
    style.save_figure(fig, tmp_path / "closed.png", close=True)
    assert not plt.fignum_exists(fig.number)


def _tight_savefig_rgb(fig: Figure, dpi: float) -> np.ndarray:
    """The figure as ``savefig(bbox_inches="tight")`` draws it (twice), as RGB pixels 0-255."""
    buf = io.BytesIO()
    with style.house_style():
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return np.round(255 * plt.imread(io.BytesIO(buf.getvalue()))[..., :3]).astype(int)


def _near_share(a: np.ndarray, b: np.ndarray, tol: int = 64) -> float:
    """Share of the pixels of ``a`` that ``b`` matches (every channel within ``tol``) at the same
    place or one pixel away (anti-aliasing differs by sub-pixel offsets)."""
    best = np.full(a.shape[:2], 255)
    for dy, dx in itertools.product((-1, 0, 1), repeat=2):
        shifted = np.roll(b, (dy, dx), axis=(0, 1))
        best = np.minimum(best, np.abs(a - shifted).max(axis=2))
    return float(np.mean(best[1:-1, 1:-1] <= tol))


@pytest.mark.parametrize("overflow", [False, True])
def test_png_bytes_match_tight_savefig(daily, overflow):
    """One draw, cropped, gives savefig(bbox_inches="tight")'s picture: same size, same pixels
    to within one pixel, stored as opaque RGB; a label reaching above the figure (overflow)
    widens the picture just as savefig does."""
    fig = plots.plot_monthly_by_source(daily)
    if overflow:
        fig.axes[0].set_ylabel("a long axis label " * 8)
    expected = _tight_savefig_rgb(fig, 100)
    png = style.figure_to_png_bytes(fig, dpi=100)
    assert png[25] == 2  # PNG colour type 2: RGB, no alpha channel
    got = np.round(255 * plt.imread(io.BytesIO(png))).astype(int)
    assert got.shape == expected.shape
    assert (got.shape[0] > 4 * 100 + 20) == overflow  # taller than the 4 inch figure
    assert _near_share(expected, got) > 0.995
    assert fig.dpi == 100 and fig.get_facecolor() == (1.0, 1.0, 1.0, 1.0)  # figure left as found


# --- demand plots -------------------------------------------------------------------------
def test_plot_monthly_total(daily):
    fig = plots.plot_monthly_total(daily)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "contacts per month" and ax.get_xlabel() == "month"
    labels = tick_texts(ax)
    assert labels and all(MONTH.match(t) for t in labels)
    assert labels == ["Jan 2025", "Feb 2025", "Mar 2025"]
    expected = monthly_totals(daily)
    assert ax.get_lines()[0].get_ydata().tolist() == expected.tolist()
    assert_labelled(fig)


def test_monthly_drops_partial_months(daily):
    part = daily[daily[schema.DATE] >= "2025-01-15"]
    ax = plots.plot_monthly_total(part).axes[0]
    x = [pd.Timestamp(d) for d in ax.get_lines()[0].get_xdata()]
    assert x == [pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01")]


def test_plot_monthly_by_hub_distinct_series(nine_hubs):
    fig = plots.plot_monthly_by_hub(nine_hubs)
    ax = fig.axes[0]
    pairs = line_pairs(ax)
    assert len(pairs) == 9 and len(set(pairs)) == 9
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"hub{i}" for i in range(9)]
    assert ax.get_ylabel() == "contacts per month"
    assert all(MONTH.match(t) for t in tick_texts(ax))
    assert_labelled(fig)


def test_plot_monthly_by_source(daily):
    fig = plots.plot_monthly_by_source(daily)
    ax = fig.axes[0]
    lines = ax.get_lines()
    sources = [ln.get_label() for ln in lines]
    assert sources == [s for s in schema.SOURCES if s in set(daily[schema.SOURCE])]
    assert [to_hex(ln.get_color()) for ln in lines] == [style.SOURCE_COLOURS[s] for s in sources]
    assert len(set(line_pairs(ax))) == len(lines)
    police = monthly_totals(daily, schema.SOURCE).xs("police", level=1)
    assert lines[0].get_ydata().tolist() == police.tolist()
    assert_labelled(fig)


def test_plot_monthly_by_priority_line_and_stacked(daily_priority):
    expected = monthly_totals(daily_priority, schema.PRIORITY).unstack()
    ax = plots.plot_monthly_by(daily_priority, schema.PRIORITY).axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == list(schema.PRIORITIES)
    for ln in ax.get_lines():
        assert ln.get_ydata().tolist() == expected[ln.get_label()].tolist()
        assert to_hex(ln.get_color()) == style.PRIORITY_COLOURS[ln.get_label()]
    assert len(set(line_pairs(ax))) == 4
    assert ax.get_ylabel() == "contacts per month"

    fig = plots.plot_monthly_by(daily_priority, schema.PRIORITY, kind="stacked")
    ax = fig.axes[0]
    layers = ax.collections
    assert len(layers) == 4
    assert len({c.get_hatch() for c in layers}) == 4  # distinct without colour
    assert [to_hex(c.get_facecolor()[0]) for c in layers] == list(style.PRIORITY_COLOURS.values())
    top = layers[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(expected.sum(axis=1).max())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == list(reversed(schema.PRIORITIES))  # top layer first
    assert all(MONTH.match(t) for t in tick_texts(ax))
    assert_labelled(fig)


def test_plot_monthly_by_hub_filter_and_errors(log, daily):
    subject = daily_counts(log, by=(schema.HUB, schema.SUBJECT))
    ax = plots.plot_monthly_by(subject, schema.SUBJECT, hub="slough").axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["child", "adult"]
    slough = subject[subject[schema.HUB] == "slough"]
    total = sum(ln.get_ydata().sum() for ln in ax.get_lines())
    assert total == slough[schema.CONTACTS].sum()
    assert ax.get_title().startswith("slough")
    with pytest.raises(schema.SchemaError):
        plots.plot_monthly_by(daily, schema.PRIORITY)
    with pytest.raises(ValueError, match="kind"):
        plots.plot_monthly_by(daily, schema.SOURCE, kind="pie")


def test_plot_day_of_week(daily):
    fig = plots.plot_day_of_week(daily)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "mean contacts per day" and ax.get_xlabel() == "day of week"
    assert tick_texts(ax) == DAYS
    sources = [s for s in schema.SOURCES if s in set(daily[schema.SOURCE])]
    bars = ax.patches
    assert len(bars) == 7 * len(sources)
    looks = {(to_hex(b.get_facecolor()), b.get_hatch()) for b in bars}
    assert len(looks) == len(sources) and len({h for _, h in looks}) == len(sources)
    force = daily.groupby([schema.DATE, schema.SOURCE], observed=True)[schema.CONTACTS].sum()
    police = force.xs("police", level=1)
    monday = police[police.index.day_of_week == 0].mean()
    assert bars[0].get_height() == pytest.approx(monday)
    assert_labelled(fig)


def test_plot_hour_of_day(log):
    fig = plots.plot_hour_of_day(log)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "hour of day (UK time)"
    assert "%" in ax.get_ylabel()
    lines = ax.get_lines()
    assert len(set(line_pairs(ax))) == len(lines) == log[schema.SOURCE].nunique()
    for ln in lines:
        assert ln.get_ydata().sum() == pytest.approx(100)
    assert tick_texts(ax)[:3] == ["00:00", "02:00", "04:00"]
    store_like = pd.DataFrame(
        {
            schema.SOURCE: log[schema.SOURCE],
            schema.RECEIVED_HOUR: log[schema.RECEIVED_AT].dt.hour.astype("int8"),
        }
    )
    again = plots.plot_hour_of_day(store_like).axes[0].get_lines()
    assert [ln.get_ydata().tolist() for ln in again] == [ln.get_ydata().tolist() for ln in lines]
    assert_labelled(fig)


def _expected_hour_of_week(log: pd.DataFrame, start: str, end: str) -> np.ndarray:
    t = log[schema.RECEIVED_AT]
    t = t[(t >= start) & (t < pd.Timestamp(end) + pd.Timedelta(days=1))]
    grid = pd.crosstab(t.dt.day_of_week, t.dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0
    )
    weekdays = pd.Series(pd.date_range(start, end).day_of_week).value_counts()
    return (grid.div(weekdays.sort_index(), axis=0)).to_numpy()


def test_plot_hour_of_week_numbers(log):
    fig = plots.plot_hour_of_week(log, start=WEEKS_START, end=WEEKS_END)
    ax = fig.axes[0]
    data = np.asarray(ax.images[0].get_array())
    assert data.shape == (7, 24)
    in_window = log[
        (log[schema.RECEIVED_AT] >= WEEKS_START) & (log[schema.RECEIVED_AT] < "2025-03-31")
    ]
    # whole weeks: the cells sum to contacts per week
    assert data.sum() == pytest.approx(len(in_window) / N_WEEKS)
    mondays = in_window[in_window[schema.RECEIVED_AT].dt.day_of_week == 0]
    assert data[0].sum() == pytest.approx(len(mondays) / N_WEEKS)
    nine = mondays[mondays[schema.RECEIVED_AT].dt.hour == 9]
    assert data[0, 9] == pytest.approx(len(nine) / N_WEEKS)
    assert np.allclose(data, _expected_hour_of_week(log, WEEKS_START, WEEKS_END))
    assert tick_texts(ax, "y") == DAYS
    assert ax.get_xlabel() == "hour of day (UK time)" and ax.get_ylabel() == "day of week"
    colorbar = fig.axes[1]
    assert colorbar.get_ylabel() == "mean contacts per hour"
    assert ax.images[0].get_cmap().name in ("Blues", "Greys")
    assert_labelled(fig)


def test_hour_of_week_default_window_and_hub(log):
    # default window: first to last day in the log, Wed 01/01/2025 to Mon 31/03/2025
    means = plots.hour_of_week_means(log)
    assert list(means.index) == DAYS and list(means.columns) == list(range(24))
    assert np.allclose(means.to_numpy(), _expected_hour_of_week(log, "2025-01-01", "2025-03-31"))
    slough = log[log[schema.HUB] == "slough"]
    data = plots.plot_hour_of_week(log, hub="slough").axes[0].images[0].get_array()
    assert np.allclose(data, _expected_hour_of_week(slough, "2025-01-01", "2025-03-31"))
    assert plots.plot_hour_of_week(log, hub="slough").axes[0].get_title().startswith("slough")
    both = plots.hour_of_week_means(log, hub="ALL").to_numpy()
    parts = sum(plots.hour_of_week_means(log, hub=h).to_numpy() for h in ("slough", "reading"))
    assert np.allclose(both, parts)
    with pytest.raises(ValueError, match="no contacts"):
        plots.hour_of_week_means(log, hub="nowhere")


def test_hour_of_week_tz_aware_and_store_frames(log):
    """UTC timestamps are read in UK local time; the store's local date and hour agree."""
    local = log[[schema.HUB, schema.RECEIVED_AT]].copy()
    aware = local[schema.RECEIVED_AT].dt.tz_localize(
        schema.UK_TZ, nonexistent="NaT", ambiguous="NaT"
    )
    keep = aware.notna()
    local = local[keep]
    utc = local.assign(**{schema.RECEIVED_AT: aware[keep].dt.tz_convert("UTC")})
    expected = plots.hour_of_week_means(local, start=WEEKS_START, end=WEEKS_END)
    got = plots.hour_of_week_means(utc, start=WEEKS_START, end=WEEKS_END)
    assert np.allclose(got.to_numpy(), expected.to_numpy())
    store = pd.DataFrame(
        {
            schema.HUB: local[schema.HUB],
            schema.RECEIVED_DATE: local[schema.RECEIVED_AT].dt.date,
            schema.RECEIVED_HOUR: local[schema.RECEIVED_AT].dt.hour,
        }
    )
    from_store = plots.hour_of_week_means(store, start=WEEKS_START, end=WEEKS_END)
    assert np.allclose(from_store.to_numpy(), expected.to_numpy())
    text = local.assign(
        **{schema.RECEIVED_AT: local[schema.RECEIVED_AT].dt.strftime("%d/%m/%Y %H:%M")}
    )
    from_text = plots.hour_of_week_means(text, start=WEEKS_START, end=WEEKS_END)
    assert np.allclose(from_text.to_numpy(), expected.to_numpy())


def test_plot_sample_force(log, daily):
    fig = plots.plot_sample_force(log, daily)
    assert len(fig.axes) == 5
    assert_labelled(fig)
    assert re.search(r"\d{2}/\d{2}/\d{4} to \d{2}/\d{2}/\d{4}", fig.get_suptitle())
    assert "01/01/2025 to 31/03/2025" in fig.get_suptitle()
    for ax in fig.axes[:3]:
        assert all(MONTH.match(t) for t in tick_texts(ax))


# --- forecast plots -----------------------------------------------------------------------
def test_plot_fan_daily():
    fig = fplots.plot_fan(fan_result("day"))
    ax = fig.axes[0]
    assert ax.get_ylabel() == "contacts per day" and ax.get_xlabel() == "date"
    labels = tick_texts(ax)
    assert labels and all(DAY_FIRST.match(t) for t in labels)
    assert {datetime.strptime(t, "%d/%m/%Y").day for t in labels} == {1}  # month starts
    history, forecast = ax.get_lines()
    assert to_hex(history.get_color()) != to_hex(forecast.get_color())
    assert forecast.get_linewidth() > history.get_linewidth()
    bands = [to_hex(c.get_facecolor()[0]) for c in ax.collections]
    assert abs(lum(bands[0]) - lum(bands[1])) >= 0.1  # 95% vs 80% in greyscale
    assert_labelled(fig)


def test_plot_fan_monthly():
    ax = fplots.plot_fan(fan_result("month")).axes[0]
    assert ax.get_ylabel() == "contacts per month"
    labels = tick_texts(ax)
    assert labels and all(MONTH.match(t) for t in labels)


def test_plot_fy_projection():
    days = pd.date_range("2023-01-01", "2026-05-31")
    history = pd.DataFrame(
        {
            schema.HUB: np.repeat(["slough", "reading"], len(days)),
            schema.DATE: np.tile(days, 2),
            schema.CONTACTS: np.tile(np.arange(len(days)) % 7 + 10, 2),
        }
    )
    fig = fplots.plot_fy_projection(fy_forecast(), history)
    ax = fig.axes[0]
    labels = tick_texts(ax)
    # 2022-23 and the partial 2026-27 history are dropped; 2026-27 is forecast
    assert labels == ["2023-24", "2024-25", "2025-26", "2026-27", "2027-28", "2028-29"]
    assert all(FY.match(t) for t in labels)
    assert ax.get_ylabel() == "contacts per financial year"
    assert "financial year" in ax.get_xlabel()
    bars = ax.containers[0]
    fy = history[(history[schema.DATE] >= "2023-04-01") & (history[schema.DATE] <= "2026-03-31")]
    expected = fy.groupby(fy[schema.DATE].map(style.fy_label))[schema.CONTACTS].sum()
    assert [b.get_height() for b in bars] == expected.tolist()
    forecast_bars = ax.containers[1]
    assert [b.get_height() for b in forecast_bars] == fy_forecast()["yhat"].tolist()
    assert forecast_bars[0].get_hatch() and not bars[0].get_hatch()  # greyscale: hatch vs solid
    err95 = ax.containers[2].lines[2][0].get_segments()
    assert [(s[0][1], s[1][1]) for s in err95] == list(
        zip(fy_forecast()["lo95"], fy_forecast()["hi95"], strict=True)
    )
    err80 = ax.containers[3].lines[2][0].get_segments()
    assert [(s[0][1], s[1][1]) for s in err80] == list(
        zip(fy_forecast()["lo80"], fy_forecast()["hi80"], strict=True)
    )
    assert_labelled(fig)


def test_plot_fy_projection_inputs():
    # monthly history for one hub, forecast as a ForecastResult-like object
    months = pd.date_range("2024-01-01", "2026-03-01", freq="MS")
    history = pd.DataFrame({schema.HUB: "slough", schema.DATE: months, schema.CONTACTS: 100})
    fc = fy_forecast("slough")
    ax = fplots.plot_fy_projection(types.SimpleNamespace(frame=fc), history, hub="slough").axes[0]
    assert tick_texts(ax) == ["2024-25", "2025-26", "2026-27", "2027-28", "2028-29"]
    assert [b.get_height() for b in ax.containers[0]] == [1200, 1200]
    assert ax.get_title().startswith("slough")
    # without history; FY-level history is taken as complete
    assert len(tick_texts(fplots.plot_fy_projection(fc, hub="slough").axes[0])) == 3
    fy_hist = pd.DataFrame(
        {schema.HUB: "ALL", schema.DATE: pd.to_datetime(["2025-04-01"]), schema.CONTACTS: [5e4]}
    )
    ax = fplots.plot_fy_projection(fy_forecast(), fy_hist).axes[0]
    assert tick_texts(ax)[0] == "2025-26"
    with pytest.raises(ValueError, match="no forecast rows"):
        fplots.plot_fy_projection(fc, hub="reading")
    daily = pd.concat([fc, fc.assign(date=fc["date"] + pd.Timedelta(days=1))])
    with pytest.raises(ValueError, match="one row per financial year"):
        fplots.plot_fy_projection(daily, hub="slough")


# --- staffing plots -----------------------------------------------------------------------
def test_plot_roster_heatmap(staffing_frames):
    fig = splots.plot_roster_heatmap(staffing_frames, "slough", "2026Q4")
    ax = fig.axes[0]
    assert "long_day_0719" in ax.get_title()  # the recommended option
    data = ax.images[0].get_array()
    assert data.shape == (len(DAY_TYPES), 24)
    assert data.sum() == 10 * (5 * 3 + 3 * 1)
    assert "UK time" in ax.get_xlabel() and ax.get_ylabel() == "day type"
    assert fig.axes[1].get_ylabel().startswith("staff on duty")
    assert_labelled(fig)
    roster = splots.plot_roster_heatmap(staffing_frames.roster, "slough", "2026Q4", "today")
    assert roster.axes[0].images[0].get_array().sum() == data.sum()


def test_plot_fte_by_quarter(staffing_frames):
    fig = splots.plot_fte_by_quarter(staffing_frames.summary)
    ax = fig.axes[0]
    assert "FTE" in ax.get_ylabel() and ax.get_xlabel() == "quarter"
    assert tick_texts(ax) == ["2026Q4", "2027Q1"]
    pairs = line_pairs(ax)
    assert len(pairs) == 3 and len(set(pairs)) == 3
    assert_labelled(fig)


def test_plot_fte_by_hub(staffing_frames):
    fig = splots.plot_fte_by_hub(staffing_frames.summary, "2026Q4")
    ax = fig.axes[0]
    assert "FTE" in ax.get_ylabel() and ax.get_xlabel() == "hub"
    today, recommended = ax.containers
    assert abs(lum(today[0].get_facecolor()) - lum(recommended[0].get_facecolor())) >= 0.3
    assert today[0].get_hatch() != recommended[0].get_hatch()
    assert_labelled(fig)


def test_plot_option_tradeoff(staffing_frames):
    fig = splots.plot_option_tradeoff(staffing_frames.summary, "slough", "2026Q4")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "FTE required" and "%" in ax.get_ylabel()
    assert len(ax.collections) == 3
    assert_labelled(fig)


def test_staffing_charts_name_hubs_and_options_for_readers(staffing_frames):
    """Before: tick labels were slugs (slough) and annotations option keys (long_day_0719)."""
    s = staffing_frames.summary
    labels = {k: f"label of {k}" for k in s["option"].unique()}
    fig = splots.plot_fte_by_hub(s, "2026Q4", labels=labels)
    ax = fig.axes[0]
    ticks = tick_texts(ax)
    assert "Slough" in ticks and "slough" not in ticks
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "today's hours (label of today)"
    fig = splots.plot_option_tradeoff(s, "slough", "2026Q4", labels=labels)
    ax = fig.axes[0]
    notes = [t.get_text() for t in ax.texts]
    assert notes and all(t.startswith("label of ") for t in notes)
    assert ax.get_title().startswith("Slough ")


def test_plot_weekend_cover(staffing_frames):
    fig = splots.plot_weekend_cover(staffing_frames.weekend_cover, "2026Q4")
    ax, ax2 = fig.axes
    assert "FTE" in ax.get_ylabel() and "hours" in ax2.get_ylabel()
    assert ax2.spines["right"].get_visible()
    assert len(set(line_pairs(ax2))) == 2
    assert_labelled(fig)

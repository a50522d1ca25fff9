"""The house chart style: one look for every chart the package draws.

Charts go into the quarterly report (HTML and PDF, possibly printed in greyscale) and into
notebooks, so the style is built to survive both:

* :data:`PALETTE` colours differ strongly in lightness (greyscale luminance at least ~0.09
  apart), and series are told apart by line style (:data:`LINESTYLES`) and hatching
  (:data:`HATCHES`) as well as colour;
* text sizes stay readable when a 10 x 4 inch figure is shrunk to A4 width;
* dates are day-first (UK) and financial years run April to March (``2026-27``).

Use :func:`house_style` as a context manager around your own plotting, or decorate a plot
function with :func:`styled`. :func:`save_figure`, :func:`figure_to_svg` and
:func:`figure_to_png_bytes` write figures for the report at :data:`SAVE_DPI`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import struct
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator, NullLocator, StrMethodFormatter

from mashdemand.calendar import fy_label, fy_start  # re-exported: charts label years with them

if TYPE_CHECKING:
    from matplotlib.transforms import Bbox

__all__ = [
    "HATCHES",
    "LINESTYLES",
    "PALETTE",
    "PRIORITY_COLOURS",
    "SAVE_DPI",
    "SOURCE_COLOURS",
    "fill_style",
    "figure_to_png_bytes",
    "figure_to_svg",
    "fy_label",
    "fy_start",
    "house_style",
    "luminance",
    "png_bytes",
    "rc_params",
    "save_figure",
    "series_style",
    "style_axes",
    "styled",
    "thousands",
    "uk_date_axis",
]

# Ordered so the first few series differ most. Greyscale luminance (0.299R + 0.587G + 0.114B)
# in brackets: every pair is at least 0.09 apart.
PALETTE: list[str] = [
    "#14213d",  # dark navy   (0.13)
    "#d97700",  # orange      (0.53)
    "#1f8f8a",  # teal        (0.43)
    "#74acdf",  # grey-blue   (0.63)
    "#a50f15",  # dark red    (0.24)
    "#6a3d9a",  # purple      (0.33)
    "#bbbbbb",  # light grey  (0.73)
]
# Named styles only (so ``Line2D.get_linestyle`` tells them apart). 4 styles and 7 colours are
# coprime, so series i and j share (colour, line style) only when i = j mod 28.
LINESTYLES: list[str] = ["-", "--", ":", "-."]
HATCHES: list[str] = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]

SOURCE_COLOURS: dict[str, str] = {
    "police": PALETTE[0],
    "education": PALETTE[1],
    "health": PALETTE[2],
    "local_authority": PALETTE[5],
    "public": PALETTE[4],
    "other": PALETTE[6],
}
# Dark (most urgent) to light; one hue so the order reads in colour and in greyscale.
PRIORITY_COLOURS: dict[str, str] = {
    "urgent": "#7f0000",
    "high": "#d7301f",
    "medium": "#fc8d59",
    "standard": "#fdbb84",
}

SAVE_DPI = 150
FONT_SIZES = {"title": 12.0, "label": 10.0, "tick": 9.0, "legend": 9.0}
_FIGSIZE = (10.0, 4.0)

P = ParamSpec("P")
R = TypeVar("R")


def luminance(colour: Any) -> float:
    """Greyscale luminance of a matplotlib colour, 0 (black) to 1 (white).

    >>> round(luminance("white"), 3), round(luminance("#808080"), 3)
    (1.0, 0.502)
    """
    r, g, b = to_rgb(colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def series_style(i: int, colour: str | None = None) -> dict[str, str]:
    """Colour and line style of the ``i``-th line series (``colour`` overrides the palette).

    Pairs are distinct for the first 28 series, and the same as the property cycle of
    :func:`house_style`.

    >>> series_style(0), series_style(8)
    ({'color': '#14213d', 'linestyle': '-'}, {'color': '#d97700', 'linestyle': '-'})
    """
    return {
        "color": to_hex(colour) if colour is not None else PALETTE[i % len(PALETTE)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
    }


def fill_style(i: int, colour: str | None = None) -> dict[str, Any]:
    """Face colour, hatch and edge colour of the ``i``-th bar or area series.

    The hatch is drawn in the edge colour: white on dark fills, dark grey on light ones.
    """
    face = to_hex(colour) if colour is not None else PALETTE[i % len(PALETTE)]
    return {
        "color": face,
        "hatch": HATCHES[i % len(HATCHES)],
        "edgecolor": "white" if luminance(face) < 0.5 else "#404040",
        "linewidth": 0.4,
    }


def _prop_cycle() -> Any:
    n, m = len(PALETTE), len(LINESTYLES)
    return cycler(color=PALETTE * m) + cycler(linestyle=LINESTYLES * n)


def rc_params() -> dict[str, Any]:
    """The matplotlib rcParams of the house style (a fresh dict)."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
        "font.size": FONT_SIZES["label"],
        "axes.titlesize": FONT_SIZES["title"],
        "axes.titleweight": "bold",
        "axes.labelsize": FONT_SIZES["label"],
        "axes.labelcolor": "#222222",
        "xtick.labelsize": FONT_SIZES["tick"],
        "ytick.labelsize": FONT_SIZES["tick"],
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "legend.fontsize": FONT_SIZES["legend"],
        "legend.frameon": False,
        "figure.titlesize": 13.0,
        "figure.titleweight": "bold",
        "figure.figsize": _FIGSIZE,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.dpi": SAVE_DPI,
        "axes.edgecolor": "#555555",
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.6,
        "grid.alpha": 1.0,
        "axes.prop_cycle": _prop_cycle(),
        "lines.linewidth": 1.5,
        "patch.linewidth": 0.4,
        "image.cmap": "Blues",
        "date.autoformatter.year": "%Y",
        "date.autoformatter.month": "%b %Y",
        "date.autoformatter.day": "%d/%m/%Y",
        "svg.hashsalt": "mashdemand",  # reproducible SVG ids
    }


def house_style(rc: dict[str, Any] | None = None) -> contextlib.AbstractContextManager:
    """Context manager applying the house rcParams (plus any ``rc`` overrides).

    Create the figure inside the context: most settings are read when artists are made.

    >>> import matplotlib.pyplot as plt
    >>> with house_style():
    ...     fig, ax = plt.subplots()
    >>> ax.spines["top"].get_visible(), ax.spines["left"].get_visible()
    (False, True)
    >>> plt.close(fig)
    """
    return mpl.rc_context({**rc_params(), **(rc or {})})


def style_axes(ax: Axes) -> None:
    """Bring axes made outside :func:`house_style` to the house look (spines, text sizes)."""
    for side in ("top", "right"):
        if side in ax.spines and ax.get_label() != "<colorbar>":
            ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=FONT_SIZES["tick"])
    ax.xaxis.label.set_fontsize(FONT_SIZES["label"])
    ax.yaxis.label.set_fontsize(FONT_SIZES["label"])
    ax.title.set_fontsize(FONT_SIZES["title"])


def _settle(fig: Figure) -> None:
    """Make each axis's first tick now, inside the style: later ticks copy its properties."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks(1)
            axis.get_minor_ticks(1)


def styled(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run a plot function inside :func:`house_style`.

    The figure is created inside the style. If the caller passes its own ``ax`` (made outside
    the style), :func:`style_axes` is applied to it.
    """
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            given = sig.bind_partial(*args, **kwargs).arguments.get("ax")
        except TypeError:
            given = None
        with house_style():
            out = fn(*args, **kwargs)
            if isinstance(given, Axes):
                style_axes(given)
            if isinstance(out, Figure):
                _settle(out)
        return out

    return wrapper


# --- Dates --------------------------------------------------------------------------------
class _MonthStepLocator(Locator):
    """Ticks on the first day of months, every ``step`` months, counted from ``anchor`` month.

    ``step`` is the smallest of ``steps`` giving at most ``maxticks`` ticks in view.
    """

    def __init__(self, steps: Sequence[int], anchor: int = 1, maxticks: int = 10) -> None:
        self.steps = tuple(steps)
        self.anchor = anchor
        self.maxticks = maxticks

    def __call__(self) -> list[float]:
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        vmin, vmax = sorted((vmin, vmax))
        try:
            lo, hi = mdates.num2date(vmin), mdates.num2date(vmax)
        except (ValueError, OverflowError):
            return []
        first = lo.year * 12 + lo.month - 1
        if (lo.day, lo.hour, lo.minute, lo.second, lo.microsecond) != (1, 0, 0, 0, 0):
            first += 1  # the first month start inside the view
        last = hi.year * 12 + hi.month - 1
        n = last - first + 1
        if n <= 0:
            return []
        step = next((s for s in self.steps if n / s <= self.maxticks), self.steps[-1])
        start = first + (self.anchor - 1 - first) % step
        months = range(start, last + 1, step)
        return [mdates.date2num(datetime(m // 12, m % 12 + 1, 1)) for m in months]


def _date_fmt(fn: Callable[[datetime], str]) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos: fn(mdates.num2date(x)))


DateFreq = Literal["day", "week", "month", "quarter", "year", "fy"]


def uk_date_axis(ax: Axes, freq: DateFreq = "month", axis: Literal["x", "y"] = "x") -> None:
    """Day-first UK date ticks on a date axis.

    ``day`` (and ``week``): ``01/10/2026``; ``month``: ``Oct 2026``; ``quarter``: ``2026Q4``
    (calendar quarters, as the staffing tables name them); ``year``: ``2026``; ``fy``:
    ``2026-27`` on 1 April (financial year April to March).
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    if freq in ("day", "week"):
        locator: Locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        formatter: Any = mdates.DateFormatter("%d/%m/%Y")
    elif freq == "month":
        locator = _MonthStepLocator((1, 2, 3, 6, 12, 24, 36, 60, 120, 240))
        formatter = mdates.DateFormatter("%b %Y")
    elif freq == "quarter":
        locator = _MonthStepLocator((3, 6, 12, 24, 36, 60, 120, 240))
        formatter = _date_fmt(lambda d: f"{d.year}Q{(d.month - 1) // 3 + 1}")
    elif freq == "year":
        locator = _MonthStepLocator((12, 24, 36, 60, 120, 240, 600))
        formatter = mdates.DateFormatter("%Y")
    elif freq == "fy":
        locator = _MonthStepLocator((12, 24, 36, 60, 120, 240, 600), anchor=4)
        formatter = _date_fmt(fy_label)
    else:
        raise ValueError(f"freq must be day, week, month, quarter, year or fy; got {freq!r}")
    target.set_major_locator(locator)
    target.set_major_formatter(formatter)
    target.set_minor_locator(NullLocator())


def thousands(ax: Axes, axis: Literal["x", "y", "both"] = "y") -> None:
    """Comma thousands separators on an axis's tick labels (``12,345``)."""
    targets = {"x": [ax.xaxis], "y": [ax.yaxis], "both": [ax.xaxis, ax.yaxis]}[axis]
    for a in targets:
        a.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


# --- Output -------------------------------------------------------------------------------
def _save_kwargs(fmt: str, dpi: float) -> dict[str, Any]:
    kw: dict[str, Any] = {"format": fmt, "dpi": dpi, "bbox_inches": "tight", "facecolor": "white"}
    if fmt in ("svg", "pdf"):
        kw["metadata"] = {"Date": None}  # reproducible output
    return kw


def save_figure(fig: Figure, path: str | Path, dpi: float = SAVE_DPI, close: bool = False) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: png, svg, pdf...) at ``dpi``.

    Parent folders are created; SVG and PDF carry no timestamp, so reruns are identical.
    PNG is written by :func:`figure_to_png_bytes` (drawn once). ``close=True`` closes the
    figure afterwards. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt == "png":
        path.write_bytes(figure_to_png_bytes(fig, dpi=dpi))
    else:
        with house_style():
            fig.savefig(path, **_save_kwargs(fmt, dpi))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def figure_to_svg(fig: Figure, inline: bool = True) -> str:
    """The figure as SVG text; ``inline=True`` drops the XML prolog for embedding in HTML."""
    buf = io.StringIO()
    with house_style():
        fig.savefig(buf, **_save_kwargs("svg", SAVE_DPI))
    text = buf.getvalue()
    if inline:
        text = text[text.index("<svg") :]
    return text


def figure_to_png_bytes(fig: Figure, dpi: float = SAVE_DPI, compress_level: int = 1) -> bytes:
    """The figure as PNG bytes at ``dpi`` (e.g. for a base64 ``data:`` URI in HTML).

    The picture ``savefig(bbox_inches="tight", facecolor="white")`` makes, but drawn once
    instead of twice: the whole figure is drawn, then cut to its tight bounding box plus
    ``savefig.pad_inches`` of white (:func:`_pixel_box`). A figure drawing beyond its own
    edges (a long axis label) goes through ``savefig``, which widens the canvas to fit. The
    picture is opaque, so it is stored as RGB (:func:`png_bytes`): no alpha channel for
    WeasyPrint to split off and compress again.
    """
    with house_style():
        rgb, tight = _draw_rgb(fig, dpi)
        height, width = rgb.shape[:2]
        left, top, right, bottom = _pixel_box(tight, dpi, height)
        if left < 0 or top < 0 or right > width or bottom > height:
            pixels = _savefig_rgb(fig, dpi)
        else:
            pad = mpl.rcParams["savefig.pad_inches"]
            pixels = _white_padded_crop(rgb, _pixel_box(tight.padded(pad), dpi, height))
    return png_bytes(pixels, dpi, compress_level)


def png_bytes(rgb: np.ndarray, dpi: float, compress_level: int = 1) -> bytes:
    """An 8-bit RGB image ``(height, width, 3)`` as PNG, marked ``dpi`` dots per inch.

    Rows are stored unfiltered: charts are mostly flat colour, which zlib packs as well
    unfiltered as after Pillow's per-row filter search, at a fraction of its cost.
    ``compress_level`` is zlib's 1 (fast) to 9 (small); the pixels come back exactly.

    >>> import io
    >>> from PIL import Image
    >>> rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    >>> back = Image.open(io.BytesIO(png_bytes(rgb, 150)))
    >>> back.mode, back.size, bool((np.asarray(back) == rgb).all()), round(back.info["dpi"][0])
    ('RGB', (4, 2), True, 150)
    """
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # first byte: filter 0, none
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    per_metre = round(dpi / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), compress_level)),
            _png_chunk(b"IEND", b""),
        ]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _draw_rgb(fig: Figure, dpi: float) -> tuple[np.ndarray, Bbox]:
    """Draw ``fig`` once at ``dpi`` on a white background, as ``savefig`` would.

    Returns the pixels (RGB; the drawing is opaque) and the figure's tight bounding box in
    inches. The figure keeps its dpi, face colour and canvas (a plain Agg canvas is drawn
    on; any other, e.g. a GUI one, is swapped for a temporary Agg canvas and put back).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas, old_dpi, old_face = fig.canvas, fig.dpi, fig.get_facecolor()
    agg = canvas if type(canvas) is FigureCanvasAgg else FigureCanvasAgg(fig)
    try:
        fig.set_dpi(dpi)
        fig.set_facecolor("white")
        agg.draw()
        tight = fig.get_tightbbox(agg.get_renderer())
        rgb = np.asarray(agg.buffer_rgba())[..., :3].copy()  # the next draw reuses the buffer
    finally:
        fig.set_dpi(old_dpi)
        fig.set_facecolor(old_face)
        if agg is not canvas:
            fig.set_canvas(canvas)
    return rgb, tight


def _savefig_rgb(fig: Figure, dpi: float) -> np.ndarray:
    """The figure through ``savefig(bbox_inches="tight")`` (which draws it twice), as RGB."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, **_save_kwargs("png", dpi))
    return np.asarray(Image.open(buf).convert("RGB"))


def _white_padded_crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels of ``rgb`` inside ``box`` (left, top, right, bottom), white where the box
    reaches beyond the image.

    >>> _white_padded_crop(np.zeros((2, 2, 3), np.uint8), (-1, 0, 2, 1))[..., 0].tolist()
    [[255, 0, 0]]
    """
    left, top, right, bottom = box
    out = np.full((bottom - top, right - left, 3), 255, dtype=np.uint8)
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    out[y0 - top : y1 - top, x0 - left : x1 - left] = rgb[y0:y1, x0:x1]
    return out


def _pixel_box(box: Bbox, dpi: float, height: int) -> tuple[int, int, int, int]:
    """Pixel box ``(left, top, right, bottom)`` of the inch bounding box ``box`` (y upwards)
    on a canvas ``height`` pixels high drawn at ``dpi``, sized as
    ``savefig(bbox_inches="tight")`` sizes its output (truncated to whole pixels, as
    :meth:`~matplotlib.backend_bases.FigureCanvasBase.get_width_height`).

    >>> from matplotlib.transforms import Bbox
    >>> _pixel_box(Bbox.from_extents(0.1, 0.2, 9.9, 3.9), 100, 400)
    (10, 10, 990, 380)
    """
    left, bottom = round(box.x0 * dpi), round(height - box.y0 * dpi)
    return left, bottom - int(box.height * dpi + 1e-8), left + int(box.width * dpi + 1e-8), bottom

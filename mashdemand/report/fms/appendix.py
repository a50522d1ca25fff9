"""What the FMS appendix is: its periods, its tables (true values and what disclosure control
needs), its sections, and the numbering and labels the writers give it.

One appendix serves both versions: :meth:`FmsTable.frame` gives a table as published
(disclosure control applied) or as internal (true values), and the writers choose which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from mashdemand import schema
from mashdemand.calendar import fy_label
from mashdemand.hubs import display_name
from mashdemand.report.sdc import NOT_AVAILABLE, SUPPRESSED, DisclosureRule, protect

__all__ = [
    "INTERNAL_BANNER",
    "SECTIONS",
    "FmsAppendix",
    "FmsPeriods",
    "FmsTable",
    "column_header",
    "numbered_tables",
    "reader_value",
    "role_label",
]

SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1. Current demand", "demand_now", ("demand_now", "demand_source", "demand_priority")),
    (
        "2. Demand over the next four years",
        "demand_ahead",
        ("projection", "scenarios", "projection_hub", "drivers"),
    ),
    (
        "3. Workforce capacity and capability",
        "workforce",
        ("workforce", "workforce_hub", "capability"),
    ),
    ("4. Performance against the timeliness standards", "performance", ("performance",)),
    ("5. The gap and the risk from demand that cannot be met", "risk", ("risk",)),
)
"""The sections in order: heading, paragraph key, and the keys of the tables they hold."""

INTERNAL_BANNER = "INTERNAL: NOT DISCLOSURE-CONTROLLED. NOT FOR PUBLICATION."


@dataclass(frozen=True)
class FmsPeriods:
    """The periods of FMS year ``year``: current demand is financial year ``year-1``-``year``
    (after the one before it), the projection the four financial years from April ``year``.

    >>> p = FmsPeriods(2026)
    >>> p.current, p.previous, p.fy_names
    ('2025-26', '2024-25', ['2026-27', '2027-28', '2028-29', '2029-30'])
    """

    year: int

    @property
    def cur0(self) -> pd.Timestamp:
        """First day of the current financial year."""
        return pd.Timestamp(year=self.year - 1, month=4, day=1)

    @property
    def cur1(self) -> pd.Timestamp:
        """Last day of the current financial year."""
        return pd.Timestamp(year=self.year, month=3, day=31)

    @property
    def prev0(self) -> pd.Timestamp:
        """First day of the financial year before the current one."""
        return self.cur0 - pd.DateOffset(years=1)

    @property
    def fys(self) -> list[pd.Timestamp]:
        """First days of the four projection years."""
        return [pd.Timestamp(year=self.year + k, month=4, day=1) for k in range(4)]

    @property
    def fy_names(self) -> list[str]:
        """The projection years as labels (``2026-27``)."""
        return [fy_label(d) for d in self.fys]

    @property
    def until(self) -> pd.Timestamp:
        """Last day of the last projection year."""
        return self.fys[-1] + pd.DateOffset(years=1) - pd.Timedelta(days=1)

    @property
    def current(self) -> str:
        """The current financial year as a label."""
        return fy_label(self.cur0)

    @property
    def previous(self) -> str:
        """The financial year before the current one as a label."""
        return fy_label(self.prev0)


class FmsTable:
    """One table of the appendix: its key, title, true values, and what disclosure control needs.

    Parameters
    ----------
    key : str
        Which table (``demand_now``, ``projection``, ...); places it in its section.
    title : str
        The title, without its number (numbers are given when writing).
    data : DataFrame
        The true values; the first column names the rows (``hub``, ``financial_year``, ...).
    counts : sequence of str
        Columns that are counts of contacts: disclosure control applies to them.
    note : str
        A note written under the title.
    rule : DisclosureRule, optional
        Disclosure control for the published version (default counts 1-5 suppressed).
    shares : dict, optional
        Share column -> the count column it is computed from: suppressed with its count.
    """

    def __init__(
        self,
        key: str,
        title: str,
        data: pd.DataFrame,
        counts: Sequence[str] = (),
        note: str = "",
        rule: DisclosureRule | None = None,
        shares: dict[str, str] | None = None,
    ) -> None:
        self.key, self.title, self.data, self.note = key, title, data.reset_index(drop=True), note
        self.counts = [c for c in counts if c in data.columns]
        self.rule = rule or DisclosureRule()
        self.shares = dict(shares or {})

    def frame(self, internal: bool = False) -> pd.DataFrame:
        """The table as written: published (disclosure control applied) or, with
        ``internal=True``, the true values; missing values as ``[x]`` in both."""
        return self._internal if internal else self._published

    @property
    def published(self) -> pd.DataFrame:
        """The table as published: counts 1-5, and what would reveal them, as ``[c]``."""
        return self._published

    @property
    def n_suppressed(self) -> int:
        """How many cells the published version suppresses."""
        return self._protection[1]

    @cached_property
    def _internal(self) -> pd.DataFrame:
        return _with_not_available(self.data.astype(object).copy())

    @cached_property
    def _published(self) -> pd.DataFrame:
        return _with_not_available(self._protection[0])

    @cached_property
    def _protection(self) -> tuple[pd.DataFrame, int]:
        """Counts 1-5 suppressed (and what would reveal them): hub rows x count columns, with
        the ``ALL`` row and a ``total`` column as margins when present. Returns the table with
        ``[c]`` in place and the number of cells suppressed."""
        out = self.data.astype(object).copy()
        if not self.counts:
            return out, 0
        first = self.data.columns[0]
        body = self.data.set_index(first)[self.counts].astype(float)
        col_total = schema.FORCE_TOTAL if schema.FORCE_TOTAL in body.index else None
        row_total = "total" if "total" in body.columns else None
        res = protect(body, self.rule, row_total=row_total, col_total=col_total)
        pub = res.published.reset_index()
        for c in self.counts:
            out[c] = pub[c].to_numpy()
        # A share or rate computed from a suppressed count would reveal it: suppress it too.
        for share_col, count_col in self.shares.items():
            hidden = res.mask[count_col].to_numpy()
            out.loc[hidden, share_col] = SUPPRESSED
        return out, int(res.mask.to_numpy().sum())


def _with_not_available(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values shown as ``[x]``."""
    return frame.where(frame.notna(), NOT_AVAILABLE)


@dataclass
class FmsAppendix:
    """The FMS appendix: tables, narrative paragraphs, charts, assumptions.

    Built once; the writers make the published or the internal version from it.
    """

    year: int
    tables: list[FmsTable]
    paragraphs: dict[str, list[str]]
    figures: dict[str, Any]
    assumptions: list[str]
    sources: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: Column -> key -> the name readers see (``option``: "07:00-19:00 weekdays", ``role``).
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    _png: dict[tuple[str, int], bytes] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def figure_png(self, name: str, dpi: int = 150) -> bytes:
        """Chart ``name`` as PNG at ``dpi``, drawn once however many documents show it
        (matplotlib drawing a figure a second time can shift its anti-aliasing, so the
        published and the internal version would differ by a few pixels)."""
        from mashdemand.style import figure_to_png_bytes

        if (name, dpi) not in self._png:
            self._png[name, dpi] = figure_to_png_bytes(self.figures[name], dpi=dpi)
        return self._png[name, dpi]

    def table(self, key: str) -> FmsTable:
        """The table ``key``."""
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    @property
    def suppressed_cells(self) -> int:
        """How many cells the published version suppresses, over all tables."""
        return sum(t.n_suppressed for t in self.tables)


def numbered_tables(app: FmsAppendix) -> list[tuple[int, FmsTable]]:
    """The tables in the order they are written (by section), numbered from 1.

    Numbers are given here, when writing, so a table left out (no priority data, no drivers)
    leaves no gap, and the DOCX titles and the XLSX ``Table_n`` sheets always agree.
    """
    order = [k for _, _, keys in SECTIONS for k in keys]
    placed = sorted(app.tables, key=lambda t: order.index(t.key) if t.key in order else len(order))
    return list(enumerate(placed, start=1))


def role_label(key: str) -> str:
    """A role key as readers see it: ``social_care`` -> ``Social care``."""
    return key.replace("_", " ").capitalize()


def reader_value(col: str, value: Any, labels: dict[str, dict[str, str]]) -> Any:
    """A written cell as readers see it: hub names, option and role labels, not keys."""
    if not isinstance(value, str):
        return value
    if col == schema.HUB or value == schema.FORCE_TOTAL:
        return display_name(value) if value else value
    return labels.get(col, {}).get(value, value)


def column_header(col: str) -> str:
    """A column name as readers see it: ``within_pct`` -> ``within (%)``."""
    return str(col).replace("_pct", " (%)").replace("_fte", " (FTE)").replace("_", " ")

"""What a report says, as data: its sections, each with its words, tables and figures.

Sections (:mod:`mashdemand.report.sections`) build :class:`SectionContent`; the writer
(:mod:`mashdemand.report.render`) lays a :class:`ReportDocument` out with one template partial
per section. Nothing here formats or writes anything, and tables and figures carry no numbers
until :func:`number_sections` gives them, when writing, in reading order: a table or section
left out (no record-level logs, nothing quarantined) leaves no gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from mashdemand import schema

__all__ = [
    "ReportDocument",
    "ReportFigure",
    "ReportTable",
    "SectionContent",
    "number_sections",
]


@dataclass(frozen=True)
class ReportTable:
    """One table as the report shows it.

    Attributes
    ----------
    key : str
        Unique in the document (the HTML element is ``table-<key>``).
    title : str
        What the table shows; the writer captions it ``Table <number>: <title>``.
    frame : DataFrame
        The rows shown, in the order shown.
    formats : mapping of str to callable
        Column -> value formatter for this table; other columns are formatted by their type.
    headers : mapping of str to str
        Column -> the header readers see (default: the name with spaces for underscores).
    total_row : str or None
        First-column value of the total row, shown bold as "Force total"; None: no total row.
    notes : tuple of str
        Notes shown under the table.
    number : int or None
        Set by :func:`number_sections`.
    """

    key: str
    title: str
    frame: pd.DataFrame
    formats: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    total_row: str | None = schema.FORCE_TOTAL
    notes: tuple[str, ...] = ()
    number: int | None = None

    @property
    def label(self) -> str:
        """``Table 3``, once numbered."""
        return f"Table {self.number}"


@dataclass(frozen=True)
class ReportFigure:
    """One chart as the report shows it.

    Attributes
    ----------
    key : str
        Unique in the document (the HTML element is ``figure-<key>``).
    figure : matplotlib.figure.Figure
        The chart, drawn once; the writer embeds it as PNG.
    alt : str
        Text for readers who cannot see the image.
    caption : str
        What the chart shows; the writer captions it ``Figure <number>: <caption>``.
    number : int or None
        Set by :func:`number_sections`.
    """

    key: str
    figure: Any
    alt: str
    caption: str = ""
    number: int | None = None

    @property
    def label(self) -> str:
        """``Figure 2``, once numbered."""
        return f"Figure {self.number}"


@dataclass(frozen=True)
class SectionContent:
    """What one section shows: its words (by name), tables and figures, each in reading order.

    ``paragraphs`` maps a name the section's template partial uses to a paragraph (str) or a
    list of them (bullets); the partial places them among the tables and figures.
    ``page_break`` starts the section on a new page.
    """

    key: str
    heading: str
    paragraphs: Mapping[str, str | list[str]] = field(default_factory=dict)
    tables: tuple[ReportTable, ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    page_break: bool = True
    number: int | None = None

    def table(self, key: str) -> ReportTable | None:
        """The table ``key`` of this section, None if the section did not build it."""
        return next((t for t in self.tables if t.key == key), None)

    def figure(self, key: str) -> ReportFigure | None:
        """The figure ``key`` of this section, None if the section did not draw it."""
        return next((f for f in self.figures if f.key == key), None)


@dataclass(frozen=True)
class ReportDocument:
    """A whole report: its title, the facts of its opening lines (``meta``), and its sections
    in order."""

    title: str
    sections: tuple[SectionContent, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def all_tables(self) -> Iterator[ReportTable]:
        """Every table, section by section, in reading order."""
        for s in self.sections:
            yield from s.tables

    def all_figures(self) -> Iterator[ReportFigure]:
        """Every figure, section by section, in reading order."""
        for s in self.sections:
            yield from s.figures


def number_sections(doc: ReportDocument) -> ReportDocument:
    """``doc`` with its sections numbered 1..s, its tables Table 1..n and its figures
    Figure 1..m, each in reading order (section by section, then as the section lists them).

    Numbers are given here, when writing, so a table, figure or section left out leaves no gap.

    >>> import pandas as pd
    >>> t = lambda k: ReportTable(k, k, pd.DataFrame())
    >>> doc = ReportDocument("r", (SectionContent("a", "A", tables=(t("x"), t("y"))),
    ...                            SectionContent("b", "B", tables=(t("z"),))))
    >>> [(s.number, [u.label for u in s.tables]) for s in number_sections(doc).sections]
    [(1, ['Table 1', 'Table 2']), (2, ['Table 3'])]
    """
    n_table = n_figure = 0
    sections = []
    for i, s in enumerate(doc.sections, start=1):
        tables = []
        for t in s.tables:
            n_table += 1
            tables.append(replace(t, number=n_table))
        figures = []
        for f in s.figures:
            n_figure += 1
            figures.append(replace(f, number=n_figure))
        sections.append(replace(s, number=i, tables=tuple(tables), figures=tuple(figures)))
    return replace(doc, sections=tuple(sections))

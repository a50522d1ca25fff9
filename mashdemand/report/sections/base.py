"""What every section of the quarterly report is, and what it reads.

A section is a small class with a ``key`` (its template partial is
``templates/sections/<key>.html.j2``), a ``heading``, and ``build(inputs)`` returning its
:class:`~mashdemand.report.content.SectionContent` (None to leave the section out). Sections
read only :class:`SectionInputs` and write nothing: the words and the choice of tables are
theirs, the layout is the partial's, the numbering and the file the writer's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from mashdemand.report.content import ReportFigure, ReportTable, SectionContent
from mashdemand.report.numbers import fmt_pct

__all__ = [
    "Section",
    "SectionInputs",
    "is_number",
    "pct_signed",
    "uk_date",
]


def pct_signed(v: Any) -> str:
    """A percentage with its sign: ``+3.2%``.

    >>> pct_signed(3.21), pct_signed(-12.0)
    ('+3.2%', '-12.0%')
    """
    return fmt_pct(v, signed=True)


def uk_date(ts: Any) -> str:
    """A day as UK readers write it.

    >>> uk_date("2026-03-31")
    '31/03/2026'
    """
    return pd.Timestamp(ts).strftime("%d/%m/%Y")


def is_number(v: Any) -> bool:
    """Neither None nor NaN.

    >>> is_number(0.0), is_number(float("nan")), is_number(None)
    (True, False, False)
    """
    return v is not None and not (isinstance(v, float) and math.isnan(v))


@dataclass(frozen=True)
class SectionInputs:
    """What the sections read: the built report's tables, facts and notes, its forecast and
    staffing plan, and the store and daily history for the charts drawn from them.

    Attributes
    ----------
    quarter : pandas.Period
        The report quarter.
    tables : mapping of str to DataFrame
        The report's tables (:attr:`QuarterlyReport.tables`).
    facts : mapping
        The report's facts (:attr:`QuarterlyReport.facts`).
    notes : sequence of str
        Fallbacks and caveats met in the run.
    forecast : ForecastResult
        The financial-year forecast, embedding the daily near-term one.
    plan : StaffingPlan
        The staffing plan.
    store : Store
        Read for the hour-of-week chart (record-level arrivals).
    daily : DataFrame
        ``hub, [source], date, contacts`` up to the end of the quarter (the hubs forecast).
    """

    quarter: pd.Period
    tables: Mapping[str, pd.DataFrame]
    facts: Mapping[str, Any]
    notes: Sequence[str]
    forecast: Any
    plan: Any
    store: Any
    daily: pd.DataFrame

    @classmethod
    def from_report(cls, report: Any, store: Any, daily: pd.DataFrame) -> SectionInputs:
        """The inputs of a :class:`~mashdemand.report.quarterly.QuarterlyReport`."""
        return cls(
            quarter=report.quarter,
            tables=report.tables,
            facts=report.facts,
            notes=report.notes,
            forecast=report.forecast,
            plan=report.plan,
            store=store,
            daily=daily,
        )

    @property
    def label(self) -> str:
        """The quarter as written in file names and tables: ``2026Q3``."""
        return str(self.quarter)

    @property
    def quarter_words(self) -> str:
        """The quarter as written in sentences: ``July to September 2026``."""
        return self.facts["quarter_words"]

    def standards_words(self) -> tuple[str, str]:
        """The standards in words and the urgent one alone, from their one definition
        (:mod:`mashdemand.standards`): as the report recorded them, else the shipped ones."""
        if "standards" in self.facts:
            return self.facts["standards"], self.facts["urgent_standard"]
        from mashdemand.standards import load_standards

        s = load_standards()
        return s.summary(), s.deadlines["urgent"].describe()

    def option_labels(self) -> dict[str, str]:
        """Operating option key -> the name readers see, as the report recorded them (else
        the shipped staffing config's)."""
        if "option_labels" in self.facts:
            return dict(self.facts["option_labels"])
        from mashdemand.staffing.config import load_config

        return {name: o.label for name, o in load_config().options.items()}


class Section:
    """One section of the quarterly report.

    Subclasses set ``key`` (the partial ``templates/sections/<key>.html.j2``) and ``heading``,
    and implement :meth:`build`. ``page_break`` starts the section on a new page.
    """

    key: ClassVar[str]
    heading: ClassVar[str]
    page_break: ClassVar[bool] = True

    def build(self, inputs: SectionInputs) -> SectionContent | None:
        """The section's words, tables and figures; None leaves the section out."""
        raise NotImplementedError

    def content(
        self,
        paragraphs: Mapping[str, str | list[str]] | None = None,
        tables: Sequence[ReportTable | None] = (),
        figures: Sequence[ReportFigure | None] = (),
    ) -> SectionContent:
        """This section's content; tables and figures given as None (not built) are dropped."""
        return SectionContent(
            key=self.key,
            heading=self.heading,
            paragraphs=dict(paragraphs or {}),
            tables=tuple(t for t in tables if t is not None),
            figures=tuple(f for f in figures if f is not None),
            page_break=self.page_break,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r})"

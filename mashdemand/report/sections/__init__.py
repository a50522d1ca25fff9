"""The sections of the quarterly report, in order, and the document they make.

Each section is one module here (its words, tables and figures) and one template partial,
``templates/sections/<key>.html.j2`` (its layout). To add a section: write its module, its
partial, and list it in :data:`SECTIONS`.

>>> [s.key for s in SECTIONS]
['summary', 'demand', 'forecast', 'staffing', 'quality', 'method']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mashdemand.report.content import ReportDocument
from mashdemand.report.sections.base import Section, SectionInputs, uk_date
from mashdemand.report.sections.demand import Demand
from mashdemand.report.sections.forecast import Forecast
from mashdemand.report.sections.method import Method
from mashdemand.report.sections.quality import Quality
from mashdemand.report.sections.staffing import Staffing
from mashdemand.report.sections.summary import Summary

__all__ = ["SECTIONS", "Section", "SectionInputs", "add_sections", "build_document"]

SECTIONS: tuple[Section, ...] = (Summary(), Demand(), Forecast(), Staffing(), Quality(), Method())
"""The sections of the quarterly report, in reading order."""


def build_document(
    inputs: SectionInputs, created_at: str, sections: Sequence[Section] = SECTIONS
) -> ReportDocument:
    """The quarterly report as a document: its title and opening facts, and each section that
    has something to show (a section whose ``build`` returns None is left out)."""
    f = inputs.facts
    built = (s.build(inputs) for s in sections)
    start, end = f["history_window"]
    return ReportDocument(
        title=f"MASH demand: quarterly forecast report, {f['quarter_words']} ({inputs.label})",
        sections=tuple(c for c in built if c is not None),
        meta={
            "created": pd.Timestamp(created_at).strftime("%d/%m/%Y %H:%M"),
            "data_window": f"{uk_date(start)} to {uk_date(end)}",
            "n_hubs": len(f["record_hubs"]) + len(f["count_hubs"]),
        },
    )


def add_sections(report: Any, store: Any, daily: pd.DataFrame) -> ReportDocument:
    """Build the sections of ``report`` (a :class:`~mashdemand.report.quarterly.QuarterlyReport`
    with its tables and facts) and keep them on it: ``report.document``, and its charts by key
    in ``report.figures``.

    ``store`` and ``daily`` (the history the report forecast from) are read for the charts.
    """
    doc = build_document(SectionInputs.from_report(report, store, daily), report.created_at)
    report.document = doc
    report.figures = {fig.key: fig.figure for fig in doc.all_figures()}
    return doc

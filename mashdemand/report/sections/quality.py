"""Section 5, data quality: rows held back at ingest, and gaps in the logs."""

from __future__ import annotations

from mashdemand.report.content import ReportFigure, ReportTable, SectionContent
from mashdemand.report.numbers import fmt_int, fmt_pct
from mashdemand.report.sections.base import Section, SectionInputs

__all__ = ["Quality"]


class Quality(Section):
    """The quarantine by reason (table and chart, when any row was held back) and the days
    with no or too few contacts."""

    key = "quality"
    heading = "Data quality"

    def build(self, inputs: SectionInputs) -> SectionContent:
        from mashdemand.report.figures import plot_quarantine

        qt = inputs.tables["quarantine"]
        quarantine, chart = None, None
        if len(qt):
            quarantine = ReportTable(
                "quarantine",
                "Rows quarantined by reason",
                qt,
                formats={"share_of_rows_read_pct": lambda v: fmt_pct(v, 3), "rows": fmt_int},
                total_row=None,
            )
            chart = ReportFigure("quarantine", plot_quarantine(qt), alt="Quarantine reasons")
        gaps = ReportTable("gaps", "Gaps in the logs, last 12 months", inputs.tables["gaps"])
        return self.content(tables=[quarantine, gaps], figures=[chart])

"""Section 2, demand: the quarter's contacts by source, priority and subject, by month, and
when they arrive."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from mashdemand import schema
from mashdemand.hubs import display_name
from mashdemand.report.content import ReportFigure, ReportTable, SectionContent
from mashdemand.report.sections.base import Section, SectionInputs

__all__ = ["Demand", "demand_figures"]


class Demand(Section):
    """Contacts by hub and source (and priority and subject where record-level logs give
    them), per month, and the hour-of-week pattern of arrivals."""

    key = "demand"
    heading = "Demand"

    def build(self, inputs: SectionInputs) -> SectionContent:
        t, f = inputs.tables, inputs.facts
        by_source = f"By hub and source, {inputs.quarter_words}"
        tables = [
            ReportTable("demand_by_source", by_source, t["demand_by_source"]),
            _if_rows("demand_by_priority", "By hub and priority", t),
            _if_rows("demand_by_subject", "By hub and subject", t),
            ReportTable(
                "monthly",
                "Contacts per month, last eight quarters",
                t["monthly"],
                total_row=None,
                # one column per hub: headed by the hub's name (the CSV keeps the slugs)
                headers={c: display_name(c) for c in t["monthly"].columns if c != "month"},
            ),
        ]
        return self.content(
            paragraphs={
                "record_hubs": ", ".join(map(display_name, f["record_hubs"])) or "none",
                "count_hubs": ", ".join(map(display_name, f["count_hubs"])),
            },
            tables=tables,
            figures=demand_figures(inputs),
        )


def _if_rows(key: str, what: str, tables: Mapping[str, pd.DataFrame]) -> ReportTable | None:
    """A table only the record-level logs give; None when no hub has them (no rows)."""
    frame = tables[key]
    if not len(frame):
        return None
    return ReportTable(key, f"{what} (hubs with record-level logs)", frame)


def demand_figures(inputs: SectionInputs) -> list[ReportFigure]:
    """Contacts per month by hub and by source over the last three years, and (hubs with
    record-level logs) the hour-of-week pattern of the quarter's arrivals."""
    from mashdemand import plots

    q, daily = inputs.quarter, inputs.daily
    q1 = q.end_time.normalize()
    recent = daily[daily[schema.DATE] > q1 - pd.DateOffset(years=3)]
    figures = [
        ReportFigure(
            "monthly_by_hub",
            plots.plot_monthly_by_hub(recent),
            alt="Monthly contacts by hub",
            caption="Contacts per calendar month by hub, last three years.",
        ),
        ReportFigure(
            "monthly_by_source",
            plots.plot_monthly_by_source(recent),
            alt="Monthly contacts by source",
            caption="Contacts per calendar month by source (all hubs).",
        ),
    ]
    record_hubs = inputs.facts["record_hubs"]
    if record_hubs:
        arrivals = inputs.store.arrivals(q.start_time, q1, record_hubs)
        figures.append(
            ReportFigure(
                "hour_of_week",
                plots.plot_hour_of_week(arrivals),
                alt="Hour-of-week heatmap",
                caption=f"When contacts arrive in {inputs.quarter_words}: mean contacts per hour "
                "by day of week and hour (UK time), hubs with record-level logs. The hubs open "
                "08:00-16:00 on weekdays.",
            )
        )
    return figures

"""Section 1, the summary: the quarter in a few sentences, contacts by hub, and how last
quarter's forecast did."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mashdemand import schema
from mashdemand.report.content import ReportFigure, ReportTable, SectionContent
from mashdemand.report.numbers import fmt_int, fmt_num, fmt_pct, fmt_share
from mashdemand.report.sections.base import (
    Section,
    SectionInputs,
    is_number,
    pct_signed,
    uk_date,
)

__all__ = ["Summary", "headline_bullets"]


class Summary(Section):
    """The headline bullets, contacts by hub, and last quarter's forecast against what
    happened (when a forecast of the quarter was archived or reconstructed)."""

    key = "summary"
    heading = "Summary"
    page_break = False

    def build(self, inputs: SectionInputs) -> SectionContent:
        fva = inputs.tables["forecast_vs_actual"]
        return self.content(
            paragraphs={"bullets": headline_bullets(inputs)},
            tables=[headline_table(inputs), forecast_vs_actual_table(fva) if len(fva) else None],
            figures=[forecast_vs_actual_figure(inputs) if len(fva) else None],
        )


def headline_bullets(inputs: SectionInputs) -> list[str]:
    """The quarter in a few sentences: contacts, last quarter's forecast, the months and
    financial years ahead, and the staffing they need."""
    t, f = inputs.tables, inputs.facts
    head = t["headline"]
    all_row = head[head[schema.HUB] == schema.FORCE_TOTAL].iloc[0]
    bullets = [
        f"The hubs received {fmt_int(all_row['contacts'])} contacts in {f['quarter_words']}"
        + (
            f", {fmt_pct(all_row['change_on_year_pct'], signed=True)} on the same quarter last "
            f"year ({fmt_int(all_row['same_quarter_last_year'])})."
            if is_number(all_row["same_quarter_last_year"])
            else "."
        )
    ]
    bullets.append(_prior_forecast_words(f.get("prior_run"), t["forecast_vs_actual"]))
    if f["months_ahead"]:
        bullets.append(
            f"Forecast for {f['months_ahead'][0]} to {f['months_ahead'][-1]}: "
            f"{fmt_int(f['months_ahead_total'])} contacts (central forecast)."
        )
    if f["fy_labels"]:
        first, last = f["fy_first"], f["fy_last"]
        bullets.append(
            f"Financial year {first['financial_year']}: {fmt_int(first['yhat'])} contacts "
            f"(80% interval {fmt_int(first['lo80'])} to {fmt_int(first['hi80'])}); "
            f"{last['financial_year']}: {fmt_int(last['yhat'])} "
            f"({fmt_int(last['lo80'])} to {fmt_int(last['hi80'])})."
        )
    labels = inputs.option_labels()
    _, urgent = inputs.standards_words()
    opts = ", ".join(
        f"{labels.get(k, k)} ({v} {'hub' if v == 1 else 'hubs'})"
        for k, v in f["recommended_options"].items()
    )
    bullets.append(
        f"Staffing for {f['first_plan_quarter']}: {fmt_num(f['force_fte'])} FTE across the "
        f"hubs on the recommended hours ({opts}), against {fmt_num(f['force_baseline_fte'])} "
        f"FTE on today's hours. Re-simulated with fresh random arrivals, {f['met']} of "
        f"{f['checked']} hub-quarters meet every timeliness target (lowest share of urgent "
        f"contacts decided {urgent}: {fmt_share(f['min_within_urgent'])})."
    )
    return bullets


def _prior_forecast_words(run: Any, fva: pd.DataFrame) -> str:
    """How last quarter's forecast did, in one sentence (or why it cannot be said yet)."""
    if run is None or not len(fva):
        return (
            "No forecast of this quarter was archived before it began; from the next report "
            "on, this section compares the archived forecast with what happened."
        )
    a = fva[fva[schema.HUB] == schema.FORCE_TOTAL]
    a = a.iloc[0] if len(a) else fva.iloc[0]
    kind = (
        "archived by the report made from data to "
        if run["kind"] == "archived"
        else "reconstructed now (no forecast had been archived) from data to "
    )
    return (
        f"Last quarter's forecast ({kind}{uk_date(run['data_end'])}) expected "
        f"{fmt_int(a['forecast'])}; {fmt_int(a['actual'])} arrived, "
        f"{fmt_pct(a['error_pct'], signed=True)}. {fmt_share(a['days_in_80'], 0)} of days "
        "fell inside the daily 80% interval (about 80% is right)."
    )


def headline_table(inputs: SectionInputs) -> ReportTable:
    """Contacts by hub in the quarter, against the quarter before, the same quarter last year
    and last quarter's forecast (archived, or reconstructed when none was)."""
    cols = [
        schema.HUB,
        "contacts",
        "previous_quarter",
        "same_quarter_last_year",
        "change_on_year_pct",
        "forecast",
        "forecast_error_pct",
    ]
    run = inputs.facts.get("prior_run")
    prior_kind = run["kind"] if run else "none made"  # archived or reconstructed
    return ReportTable(
        "headline",
        f"Contacts by hub, {inputs.quarter_words}",
        inputs.tables["headline"][cols],
        formats={
            "change_on_year_pct": pct_signed,
            "forecast_error_pct": pct_signed,
            "forecast": fmt_int,
            "previous_quarter": fmt_int,
            "same_quarter_last_year": fmt_int,
            "contacts": fmt_int,
        },
        headers={
            "contacts": f"contacts {inputs.label}",
            "change_on_year_pct": "change on year",
            "forecast": f"forecast ({prior_kind})",
            "forecast_error_pct": "actual vs forecast",
        },
    )


def forecast_vs_actual_table(fva: pd.DataFrame) -> ReportTable:
    """Last quarter's forecast against the contacts that arrived, by hub."""
    return ReportTable(
        "forecast_vs_actual",
        "Last quarter's forecast against what happened",
        fva,
        formats={
            "forecast": fmt_int,
            "actual": fmt_int,
            "error": fmt_int,
            "error_pct": pct_signed,
            "days_in_80": fmt_share,
        },
        headers={"error_pct": "error", "days_in_80": "days inside 80% interval"},
    )


def forecast_vs_actual_figure(inputs: SectionInputs) -> ReportFigure | None:
    """The archived daily forecast against the daily contacts; None without a forecast."""
    from mashdemand.report.figures import plot_forecast_vs_actual

    prior = inputs.tables.get("prior_forecast")
    if prior is None or not len(prior):
        return None
    return ReportFigure(
        "forecast_vs_actual",
        plot_forecast_vs_actual(prior, inputs.daily),
        alt="Daily contacts against the archived forecast",
        caption="The line and band are the forecast made before the quarter began (central "
        "forecast and 80% interval); dots are the contacts that arrived each day.",
    )

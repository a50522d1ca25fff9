"""Section 3, the forecast: the daily fan, the months ahead, the financial years (force and
hubs), and the assumptions behind them."""

from __future__ import annotations

import pandas as pd

from mashdemand import schema
from mashdemand.forecast.models import model_label
from mashdemand.report.content import ReportFigure, ReportTable, SectionContent
from mashdemand.report.numbers import fmt_int
from mashdemand.report.sections.base import Section, SectionInputs, pct_signed

__all__ = ["Forecast", "assumptions"]

FY_COLUMNS = {
    schema.YHAT: "forecast",
    "lo80": "80% low",
    "hi80": "80% high",
    "lo95": "95% low",
    "hi95": "95% high",
    "observed_so_far": "already observed",
    "change_on_last_full_year_pct": "vs last full year",
}
"""The force's financial-year columns shown, with the headers readers see."""


class Forecast(Section):
    """The daily forecast and the financial-year projection, with their assumptions."""

    key = "forecast"
    heading = "Forecast"

    def build(self, inputs: SectionInputs) -> SectionContent:
        t = inputs.tables
        fm = t["forecast_months"]
        months = ReportTable(
            "forecast_months",
            "Months ahead (central forecast, contacts per month)",
            fm,
            formats={c: fmt_int for c in fm.columns[1:]},
        )
        return self.content(
            paragraphs={"assumptions": assumptions(inputs)},
            tables=[months, fy_force_table(t["forecast_fy"]), fy_hubs_table(t["forecast_fy"])],
            figures=forecast_figures(inputs),
        )


def fy_force_table(fy: pd.DataFrame) -> ReportTable:
    """The force total per financial year with its intervals."""
    cols = ["financial_year", *FY_COLUMNS]
    counts = cols[1:7]
    return ReportTable(
        "forecast_fy_force",
        "The current and next four financial years: force total",
        fy[fy[schema.HUB] == schema.FORCE_TOTAL][cols],
        formats={**{c: fmt_int for c in counts}, cols[7]: pct_signed},
        headers=FY_COLUMNS,
        total_row=None,
    )


def fy_hubs_table(fy: pd.DataFrame) -> ReportTable:
    """The central forecast per hub (rows) and financial year (columns), force total last."""
    hubs_fy = fy.pivot_table(
        index=schema.HUB, columns="financial_year", values=schema.YHAT, sort=False
    ).round(0)
    hubs_fy = hubs_fy.loc[[h for h in hubs_fy.index if h != schema.FORCE_TOTAL] + ["ALL"]]
    return ReportTable(
        "forecast_fy_hubs",
        "By hub (central forecast, contacts per financial year)",
        hubs_fy.reset_index(),
        formats={c: fmt_int for c in hubs_fy.columns},
    )


def assumptions(inputs: SectionInputs) -> list[str]:
    """The scenario, the models and the reconciliation, in words."""
    f = inputs.facts
    sc = f["scenario"]
    return [
        f"Scenario '{sc.name}': population variant {sc.population_variant}, housing delivery "
        f"{sc.housing_delivery:.0%} of plans, risk identification "
        f"{sc.risk_identification:+.0%} on police contacts"
        + (f", RPA share {sc.rpa_share:.0%}." if sc.rpa_share is not None else "."),
        "The daily forecast (next 182 days) uses the models "
        + ", ".join(model_label(m) for m in f["models"])
        + "; the financial-year projection uses "
        + ", ".join(model_label(m) for m in f["fy_models"])
        + ", and agrees with the daily forecast where they overlap (the current year is the "
        "contacts already observed plus the daily forecast for the rest).",
        "Population and housing growth drive the rate model (contacts per 1,000 residents "
        "times the projected population); process changes and lockdowns in the history are "
        "marked so the models do not project them forward.",
        f"Hubs are reconciled to the force total by {f['reconciliation'].replace('_', ' ')}.",
    ]


def forecast_figures(inputs: SectionInputs) -> list[ReportFigure]:
    """The force's daily fan chart and the financial-year projection."""
    from mashdemand.forecast.plots import plot_fy_projection

    result = inputs.forecast
    return [
        ReportFigure(
            "fan_daily",
            result.near_term.plot(schema.FORCE_TOTAL, history_periods=365),
            alt="Daily forecast fan chart",
            caption="Force total contacts per day: the last year and the forecast with 80% and "
            "95% intervals.",
        ),
        ReportFigure(
            "fy_projection",
            plot_fy_projection(result.frame, history=inputs.daily),
            alt="Financial-year projection",
            caption="Contacts per financial year: complete years observed and the projection "
            "with 80% and 95% intervals.",
        ),
    ]

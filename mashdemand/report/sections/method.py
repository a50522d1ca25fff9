"""Section 6, method: how the forecast and the staffing are made, the backtest's accuracy,
and the notes of this run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mashdemand.forecast.models import model_label
from mashdemand.report.content import ReportTable, SectionContent
from mashdemand.report.numbers import fmt_int, fmt_num, fmt_pct, fmt_share
from mashdemand.report.sections.base import Section, SectionInputs, is_number, pct_signed

__all__ = ["Method", "accuracy_words"]


class Method(Section):
    """The method in words, the out-of-sample accuracy of every model, and the run's notes."""

    key = "method"
    heading = "Method"
    page_break = False

    def build(self, inputs: SectionInputs) -> SectionContent:
        backtest = ReportTable(
            "backtest",
            "Backtest accuracy (out of sample)",
            inputs.tables["backtest"],
            formats={
                "model": model_label,
                "mase": lambda v: fmt_num(v, 3),
                "vs_seasonal_naive_pct": pct_signed,
                "rel_bias_pct": pct_signed,
                "coverage80": fmt_share,
                "coverage95": fmt_share,
                "points": fmt_int,
            },
            headers={
                "vs_seasonal_naive_pct": "MASE vs seasonal naive",
                "rel_bias_pct": "bias",
                "coverage80": "inside 80% interval",
                "coverage95": "inside 95% interval",
            },
            total_row=None,
        )
        return self.content(
            paragraphs={"accuracy": accuracy_words(inputs.facts), "notes": list(inputs.notes)},
            tables=[backtest],
        )


def accuracy_words(facts: Mapping[str, Any]) -> str:
    """The daily ensemble's out-of-sample accuracy in one sentence.

    >>> accuracy_words({"ensemble_mase": float("nan")})
    'The backtest was not run.'
    """
    ens = facts.get("ensemble_mase")
    if not is_number(ens):
        return "The backtest was not run."
    return (
        f"Out of sample, the daily ensemble's mean absolute scaled error is "
        f"{fmt_num(ens, 3)}, {fmt_pct(facts['ensemble_vs_snaive_pct'], signed=True)} against "
        f"repeating last year (seasonal naive), and {fmt_share(facts['ensemble_cov80'])} of "
        "actual days fell inside its 80% intervals."
    )

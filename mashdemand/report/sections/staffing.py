"""Section 4, staffing: FTE by hub and role, today's hours against the options, weekend
cover, and the recommended rosters re-simulated."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mashdemand import schema
from mashdemand.report.content import ReportFigure, ReportTable, SectionContent
from mashdemand.report.numbers import fmt_int, fmt_num, fmt_share
from mashdemand.report.sections.base import Section, SectionInputs

__all__ = ["Staffing", "named_options", "with_force_rows"]


class Staffing(Section):
    """The staff the forecast needs, the operating options, weekend cover and the check by
    simulation."""

    key = "staffing"
    heading = "Staffing"

    def build(self, inputs: SectionInputs) -> SectionContent:
        labels = inputs.option_labels()
        standards, urgent = inputs.standards_words()
        return self.content(
            paragraphs={"standards": standards},
            tables=[
                fte_table(inputs.tables["staffing"], labels),
                options_table(inputs, labels),
                weekend_table(inputs, urgent),
                verification_table(inputs.tables["verification"], labels),
            ],
            figures=staffing_figures(inputs.plan),
        )


def named_options(df: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """``df`` with its ``option`` column in readers' names.

    >>> df = pd.DataFrame({"option": ["today", "x"]})
    >>> named_options(df, {"today": "08:00-16:00"})["option"].tolist()
    ['08:00-16:00', 'x']
    """
    if "option" not in df.columns:
        return df
    return df.assign(option=df["option"].map(lambda k: labels.get(k, k)))


def with_force_rows(df: pd.DataFrame, sum_cols: list[str]) -> pd.DataFrame:
    """``df`` (``hub, quarter, option, ...``) with a force-total row after each quarter's
    hubs, summing ``sum_cols``."""
    rows = []
    for qq, g in df.groupby("quarter", sort=True):
        rows.append(g)
        tot = {c: g[c].sum() for c in sum_cols}
        rows.append(
            pd.DataFrame([{schema.HUB: schema.FORCE_TOTAL, "quarter": qq, "option": "", **tot}])
        )
    return pd.concat(rows, ignore_index=True)


def fte_table(st: pd.DataFrame, labels: dict[str, str]) -> ReportTable:
    """FTE by hub, quarter and role on the recommended option, with force totals."""
    role_cols = [c for c in st.columns if c.startswith("fte_") and c != "fte_required"]
    fte_cols = ["baseline_fte", "fte_required", *role_cols]
    show = st[[schema.HUB, "quarter", "option", *fte_cols]]
    return ReportTable(
        "staffing",
        "FTE required by hub and role",
        named_options(with_force_rows(show, fte_cols), labels),
        formats={c: fmt_num for c in fte_cols},
        headers={
            "baseline_fte": "FTE on today's hours",
            "fte_required": "FTE recommended",
            **{c: c.removeprefix("fte_").replace("_", " ") for c in role_cols},
        },
    )


def options_table(inputs: SectionInputs, labels: dict[str, str]) -> ReportTable:
    """Each operating option for all hubs in the first planned quarter."""
    fo = inputs.tables["staffing_force_options"]
    fo = named_options(fo[fo["quarter"] == inputs.facts["first_plan_quarter"]], labels)
    cols = [
        "option",
        "fte_required",
        "out_of_hours_arrivals",
        "out_of_hours_share",
        "monday_backlog",
    ]
    return ReportTable(
        "staffing_force_options",
        "Today's hours against the options (all hubs)",
        fo[cols],
        formats={
            "fte_required": fmt_num,
            "out_of_hours_arrivals": fmt_int,
            "out_of_hours_share": fmt_share,
            "monday_backlog": fmt_int,
        },
        headers={
            "fte_required": "FTE (all hubs)",
            "out_of_hours_arrivals": "contacts arriving while closed",
            "out_of_hours_share": "share arriving while closed",
            "monday_backlog": "Monday backlog (contacts)",
        },
        total_row=None,
    )


def weekend_table(inputs: SectionInputs, urgent: str) -> ReportTable:
    """Weekend and bank-holiday cover by hub in the first planned quarter."""
    wc = inputs.tables["weekend_cover"]
    wc = wc[wc["quarter"] == inputs.facts["first_plan_quarter"]]
    cols = [
        schema.HUB,
        "cover_hours",
        "min_cover_staff",
        "cover_fte",
        "within_urgent_cover",
        "within_urgent_if_left",
        "delay_hours_with_cover",
        "delay_hours_no_cover",
    ]
    return ReportTable(
        "weekend_cover",
        "Weekend and bank-holiday cover",
        wc[cols],
        formats={
            "cover_fte": lambda v: fmt_num(v, 2),
            "within_urgent_cover": fmt_share,
            "within_urgent_if_left": fmt_share,
            "delay_hours_with_cover": fmt_num,
            "delay_hours_no_cover": fmt_num,
        },
        headers={
            "cover_hours": "cover hours",
            "min_cover_staff": "staff on duty",
            "cover_fte": "cover FTE",
            "within_urgent_cover": f"urgent {urgent}, with cover",
            "within_urgent_if_left": f"urgent {urgent}, left to next working day",
            "delay_hours_with_cover": "mean wait with cover (h)",
            "delay_hours_no_cover": "mean wait without (h)",
        },
    )


def verification_table(ver: pd.DataFrame, labels: dict[str, str]) -> ReportTable:
    """The share of each priority decided within its deadline, re-simulated."""
    within = [c for c in ver.columns if c.startswith("within_")]
    cols = [schema.HUB, "quarter", "option", *within, "utilisation", "met"]
    return ReportTable(
        "verification",
        "Share decided within deadline (re-simulated)",
        named_options(ver[[c for c in cols if c in ver.columns]], labels),
        formats={c: fmt_share for c in [*within, "utilisation"]},
        headers={c: c.replace("within_", "within deadline: ") for c in within},
    )


def staffing_figures(plan: Any) -> list[ReportFigure]:
    """FTE by hub, the options of the busiest hub, and weekend cover, in the first planned
    quarter of ``plan`` (a :class:`~mashdemand.staffing.plan.StaffingPlan`)."""
    from mashdemand.staffing import plots as splots

    labels = {name: o.label for name, o in plan.config.options.items()}
    s = plan.summary
    first_q = s["quarter"].min()
    busiest = (
        s[s["quarter"] == first_q].groupby(schema.HUB)["contacts"].max().sort_values().index[-1]
    )
    return [
        ReportFigure(
            "fte_by_hub",
            splots.plot_fte_by_hub(s, first_q, baseline=plan.config.baseline, labels=labels),
            alt="FTE by hub",
            caption="FTE by hub on today's hours and on the recommended option.",
        ),
        ReportFigure(
            "option_tradeoff",
            splots.plot_option_tradeoff(s, busiest, first_q, labels=labels),
            alt="Option trade-off",
            caption="The options for the busiest hub: FTE against contacts arriving while the "
            "hub is closed to them.",
        ),
        ReportFigure(
            "weekend_cover",
            splots.plot_weekend_cover(plan.weekend_cover, first_q),
            alt="Weekend cover",
            caption="Urgent and high-priority contacts arriving at weekends and on bank "
            "holidays: waiting time with and without cover.",
        ),
    ]

"""The words and tables of the quarterly report, from a QuarterlyReport (no I/O)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from mashdemand import schema
from mashdemand.report.render import (
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_share,
    format_table,
)
from mashdemand.standards import load_standards

__all__ = ["quarterly_context"]

HUB_NAMES_NOTE = (
    "Hubs are shown by name; the CSV tables keep the slugs of the contact logs. "
    "'Force total' is the sum of hubs."
)


def _pct_signed(v: Any) -> str:
    return fmt_pct(v, signed=True)


def _date(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%d/%m/%Y")


def _ok(v: float) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _standards_words(facts: dict[str, Any]) -> tuple[str, str]:
    """The standards in words and the urgent one alone, from their one definition
    (:mod:`mashdemand.standards`): as the report recorded them, else the shipped ones."""
    if "standards" in facts:
        return facts["standards"], facts["urgent_standard"]
    s = load_standards()
    return s.summary(), s.deadlines["urgent"].describe()


def _option_labels(facts: dict[str, Any]) -> dict[str, str]:
    """Operating option key -> the name readers see, as the report recorded them (else the
    shipped staffing config's)."""
    if "option_labels" in facts:
        return dict(facts["option_labels"])
    from mashdemand.staffing.config import load_config

    return {name: o.label for name, o in load_config().options.items()}


def _named_options(df: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """``df`` with its ``option`` column in readers' names."""
    if "option" not in df.columns:
        return df
    return df.assign(option=df["option"].map(lambda k: labels.get(k, k)))


def quarterly_context(report: Any) -> dict[str, Any]:
    """Everything the template needs: paragraphs (plain text) and tables (HTML)."""
    t, f = report.tables, report.facts
    q = report.label
    ctx: dict[str, Any] = {
        "title": f"MASH demand: quarterly forecast report, {f['quarter_words']} ({q})",
        "quarter": q,
        "quarter_words": f["quarter_words"],
        "created": pd.Timestamp(report.created_at).strftime("%d/%m/%Y %H:%M"),
        "data_window": f"{_date(f['history_window'][0])} to {_date(f['history_window'][1])}",
        "n_hubs": len(f["record_hubs"]) + len(f["count_hubs"]),
        "notes": report.notes,
    }
    ctx["standards_text"], urgent = _standards_words(f)

    # --- headline ------------------------------------------------------------------------
    head = t["headline"]
    all_row = head[head[schema.HUB] == schema.FORCE_TOTAL].iloc[0]
    bullets = [
        f"The hubs received {fmt_int(all_row['contacts'])} contacts in {f['quarter_words']}"
        + (
            f", {fmt_pct(all_row['change_on_year_pct'], signed=True)} on the same quarter last "
            f"year ({fmt_int(all_row['same_quarter_last_year'])})."
            if _ok(all_row["same_quarter_last_year"])
            else "."
        )
    ]
    fva = t["forecast_vs_actual"]
    run = f.get("prior_run")
    if run is not None and len(fva):
        a = fva[fva[schema.HUB] == schema.FORCE_TOTAL]
        a = a.iloc[0] if len(a) else fva.iloc[0]
        kind = (
            "archived by the report made from data to "
            if run["kind"] == "archived"
            else "reconstructed now (no forecast had been archived) from data to "
        )
        bullets.append(
            f"Last quarter's forecast ({kind}{_date(run['data_end'])}) expected "
            f"{fmt_int(a['forecast'])}; {fmt_int(a['actual'])} arrived, "
            f"{fmt_pct(a['error_pct'], signed=True)}. {fmt_share(a['days_in_80'], 0)} of days "
            "fell inside the daily 80% interval (about 80% is right)."
        )
    else:
        bullets.append(
            "No forecast of this quarter was archived before it began; from the next report "
            "on, this section compares the archived forecast with what happened."
        )
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
    labels = _option_labels(f)
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
    ctx["headline_bullets"] = bullets
    ctx["headline_table"] = format_table(
        head[
            [
                schema.HUB,
                "contacts",
                "previous_quarter",
                "same_quarter_last_year",
                "change_on_year_pct",
                "forecast",
                "forecast_error_pct",
            ]
        ],
        formats={
            "change_on_year_pct": _pct_signed,
            "forecast_error_pct": _pct_signed,
            "forecast": fmt_int,
            "previous_quarter": fmt_int,
            "same_quarter_last_year": fmt_int,
            "contacts": fmt_int,
        },
        headers={
            "contacts": f"contacts {q}",
            "change_on_year_pct": "change on year",
            "forecast": "forecast (archived)",
            "forecast_error_pct": "actual vs forecast",
        },
    )
    if len(fva):
        ctx["fva_table"] = format_table(
            fva,
            formats={
                "forecast": fmt_int,
                "actual": fmt_int,
                "error": fmt_int,
                "error_pct": _pct_signed,
                "days_in_80": fmt_share,
            },
            headers={"error_pct": "error", "days_in_80": "days inside 80% interval"},
        )

    # --- demand --------------------------------------------------------------------------
    ctx["by_source"] = format_table(t["demand_by_source"])
    ctx["by_priority"] = (
        format_table(t["demand_by_priority"]) if len(t["demand_by_priority"]) else ""
    )
    ctx["by_subject"] = format_table(t["demand_by_subject"]) if len(t["demand_by_subject"]) else ""
    ctx["record_hubs"] = ", ".join(f["record_hubs"]) or "none"
    ctx["count_hubs"] = ", ".join(f["count_hubs"])
    monthly = t["monthly"]
    ctx["monthly"] = format_table(monthly, total_row=None)

    # --- forecast ------------------------------------------------------------------------
    fm = t["forecast_months"]
    ctx["forecast_months"] = format_table(fm, formats={c: fmt_int for c in fm.columns[1:]})
    fy = t["forecast_fy"]
    fy_show = fy[fy[schema.HUB] == schema.FORCE_TOTAL]
    cols = [
        "financial_year",
        schema.YHAT,
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "observed_so_far",
        "change_on_last_full_year_pct",
    ]
    ctx["forecast_fy_force"] = format_table(
        fy_show[cols],
        formats={**{c: fmt_int for c in cols[1:7]}, cols[7]: _pct_signed},
        headers={
            schema.YHAT: "forecast",
            "lo80": "80% low",
            "hi80": "80% high",
            "lo95": "95% low",
            "hi95": "95% high",
            "observed_so_far": "already observed",
            "change_on_last_full_year_pct": "vs last full year",
        },
        total_row=None,
    )
    hubs_fy = fy.pivot_table(
        index=schema.HUB, columns="financial_year", values=schema.YHAT, sort=False
    ).round(0)
    hubs_fy = hubs_fy.loc[[h for h in hubs_fy.index if h != schema.FORCE_TOTAL] + ["ALL"]]
    ctx["forecast_fy_hubs"] = format_table(
        hubs_fy.reset_index(), formats={c: fmt_int for c in hubs_fy.columns}
    )
    sc = f["scenario"]
    ctx["scenario"] = [
        f"Scenario '{sc.name}': population variant {sc.population_variant}, housing delivery "
        f"{sc.housing_delivery:.0%} of plans, risk identification "
        f"{sc.risk_identification:+.0%} on police contacts"
        + (f", RPA share {sc.rpa_share:.0%}." if sc.rpa_share is not None else "."),
        "The daily forecast (next 182 days) uses the models "
        + ", ".join(f["models"])
        + "; the financial-year projection uses "
        + ", ".join(f["fy_models"])
        + ", and agrees with the daily forecast where they overlap (the current year is the "
        "contacts already observed plus the daily forecast for the rest).",
        "Population and housing growth drive the rate model (contacts per 1,000 residents "
        "times the projected population); process changes and lockdowns in the history are "
        "marked so the models do not project them forward.",
        f"Hubs are reconciled to the force total by {f['reconciliation'].replace('_', ' ')}.",
    ]

    # --- staffing --------------------------------------------------------------------------
    st = t["staffing"]
    role_cols = [c for c in st.columns if c.startswith("fte_") and c != "fte_required"]
    within = [c for c in st.columns if c.startswith("within_")]
    show = st[[schema.HUB, "quarter", "option", "baseline_fte", "fte_required", *role_cols]]
    ctx["staffing_table"] = format_table(
        _named_options(
            _with_force_rows(show, ["baseline_fte", "fte_required", *role_cols]), labels
        ),
        formats={c: fmt_num for c in ["baseline_fte", "fte_required", *role_cols]},
        headers={
            "baseline_fte": "FTE on today's hours",
            "fte_required": "FTE recommended",
            **{c: c.removeprefix("fte_").replace("_", " ") for c in role_cols},
        },
    )
    ver = t["verification"]
    vcols = [schema.HUB, "quarter", "option", *within, "utilisation", "met"]
    ctx["verification_table"] = format_table(
        _named_options(ver[[c for c in vcols if c in ver.columns]], labels),
        formats={c: fmt_share for c in [*within, "utilisation"]},
        headers={c: c.replace("within_", "within deadline: ") for c in within},
    )
    fo = t["staffing_force_options"]
    fo = _named_options(fo[fo["quarter"] == f["first_plan_quarter"]], labels)
    ctx["options_table"] = format_table(
        fo[
            [
                "option",
                "fte_required",
                "out_of_hours_arrivals",
                "out_of_hours_share",
                "monday_backlog",
            ]
        ],
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
    wc = t["weekend_cover"]
    wc = wc[wc["quarter"] == f["first_plan_quarter"]]
    ctx["weekend_table"] = format_table(
        wc[
            [
                schema.HUB,
                "cover_hours",
                "min_cover_staff",
                "cover_fte",
                "within_urgent_cover",
                "within_urgent_if_left",
                "delay_hours_with_cover",
                "delay_hours_no_cover",
            ]
        ],
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

    # --- data quality ----------------------------------------------------------------------
    qt = t["quarantine"]
    ctx["quarantine_table"] = (
        format_table(
            qt,
            formats={"share_of_rows_read_pct": lambda v: fmt_pct(v, 3), "rows": fmt_int},
            total_row=None,
        )
        if len(qt)
        else ""
    )
    ctx["gaps_table"] = format_table(t["gaps"])

    # --- method ----------------------------------------------------------------------------
    bt = t["backtest"]
    ctx["backtest_table"] = format_table(
        bt,
        formats={
            "mase": lambda v: fmt_num(v, 3),
            "vs_seasonal_naive_pct": _pct_signed,
            "rel_bias_pct": _pct_signed,
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
    ens = f.get("ensemble_mase")
    ctx["method_summary"] = (
        f"Out of sample, the daily ensemble's mean absolute scaled error is "
        f"{fmt_num(ens, 3)}, {fmt_pct(f['ensemble_vs_snaive_pct'], signed=True)} against "
        f"repeating last year (seasonal naive), and {fmt_share(f['ensemble_cov80'])} of actual "
        "days fell inside its 80% intervals."
        if _ok(ens)
        else "The backtest was not run."
    )
    return ctx


def _with_force_rows(df: pd.DataFrame, sum_cols: list[str]) -> pd.DataFrame:
    """Append a force-total row per quarter."""
    rows = []
    for qq, g in df.groupby("quarter", sort=True):
        rows.append(g)
        tot = {c: g[c].sum() for c in sum_cols}
        rows.append(
            pd.DataFrame([{schema.HUB: schema.FORCE_TOTAL, "quarter": qq, "option": "", **tot}])
        )
    return pd.concat(rows, ignore_index=True)

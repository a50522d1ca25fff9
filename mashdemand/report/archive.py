"""Forecast against what happened: the archived forecast of a quarter, judged honestly.

Each report run archives its daily forecast in the store (:meth:`Store.archive_runs`, once the
report's files are written). The next quarter's report looks up the latest daily forecast made
*before* that quarter began (its data ended before the quarter's first day) and compares it with
the contacts that arrived.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.store import ArchiveRun, Store

__all__ = ["compare_with_actual", "find_forecast_for", "forecast_from_run"]


def find_forecast_for(store: Store, quarter: pd.Period) -> tuple[dict, pd.DataFrame] | None:
    """The latest archived daily forecast made from data ending before ``quarter`` and covering
    all of it, as ``(run record, forecast frame)``; None when there is none.

    An ``archived`` run (made by an earlier report) is preferred to a ``reconstructed`` one. A
    run with a missing value in the quarter (archived by an older version) is passed over.
    """
    runs = store.forecast_runs()
    if runs.empty:
        return None
    q0 = quarter.start_time.normalize()
    runs = runs[(runs["freq"] == "day") & (runs["data_end"] < q0)]
    for kind in ("archived", "reconstructed"):
        for run in runs[runs["kind"] == kind].sort_values("run_id", ascending=False).itertuples():
            fc = quarter_covered(store.archived_forecast(int(run.run_id)), quarter)
            if fc is not None:
                rec = run._asdict()
                rec.pop("Index", None)
                return rec, fc
    return None


def forecast_from_run(run: ArchiveRun, quarter: pd.Period) -> tuple[dict, pd.DataFrame] | None:
    """A forecast not archived yet (a report's reconstructed one) as :func:`find_forecast_for`
    returns it, ``run_id`` None; None unless it covers ``quarter`` without missing values."""
    fc = quarter_covered(run.rows().assign(date=lambda d: pd.to_datetime(d[schema.DATE])), quarter)
    if fc is None:
        return None
    kind, report_quarter, freq, start, end, scenario, models = run.record()
    rec = {
        "run_id": None,
        "created_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        "kind": kind,
        "report_quarter": report_quarter,
        "freq": freq,
        "data_start": pd.Timestamp(start),
        "data_end": pd.Timestamp(end),
        "scenario": scenario,
        "models": models,
        "package_version": None,
    }
    return rec, fc


def quarter_covered(fc: pd.DataFrame, quarter: pd.Period) -> pd.DataFrame | None:
    """The rows of a daily forecast ``hub, date, yhat, lo80...`` in ``quarter``; None unless it
    covers the whole quarter with a value on every row."""
    q0, q1 = quarter.start_time.normalize(), quarter.end_time.normalize()
    span = fc[schema.DATE]
    if not len(fc) or span.min() > q0 or span.max() < q1:
        return None
    rows = fc[(span >= q0) & (span <= q1)].reset_index(drop=True)
    if rows[[schema.YHAT, "lo80", "hi80"]].isna().any().any():
        return None
    return rows


def compare_with_actual(
    archived: pd.DataFrame, actual: pd.DataFrame, quarter: pd.Period
) -> pd.DataFrame:
    """Forecast and actual contacts in ``quarter`` by hub (and ``ALL``).

    Parameters
    ----------
    archived : DataFrame
        ``hub, date, yhat, lo80, hi80`` daily [contacts/day].
    actual : DataFrame
        ``hub, date, contacts`` daily [contacts/day].

    Returns
    -------
    DataFrame
        ``hub, forecast, actual, error, error_pct, days, days_in_80`` where ``forecast`` and
        ``actual`` are quarter totals [contacts], ``error = actual - forecast`` and
        ``days_in_80`` the share of days whose count fell inside the daily 80% interval (about
        0.8 if the intervals are honest).

    Examples
    --------
    >>> q = pd.Period("2026Q1", freq="Q")
    >>> days = pd.period_range("2026-01-01", "2026-03-31", freq="D").to_timestamp()
    >>> fc = pd.DataFrame({"hub": "a", "date": days, "yhat": 10.0, "lo80": 8.0, "hi80": 12.0})
    >>> act = pd.DataFrame({"hub": "a", "date": days, "contacts": 11})
    >>> out = compare_with_actual(fc, act, q)
    >>> out[["hub", "forecast", "actual", "days_in_80"]].to_dict("records")
    [{'hub': 'a', 'forecast': 900.0, 'actual': 990, 'days_in_80': 1.0}]
    """
    q0, q1 = quarter.start_time.normalize(), quarter.end_time.normalize()
    act = actual[(actual[schema.DATE] >= q0) & (actual[schema.DATE] <= q1)]
    act = act.groupby([schema.HUB, schema.DATE], as_index=False)[schema.CONTACTS].sum()
    hubs_fc = archived[archived[schema.HUB] != schema.FORCE_TOTAL]
    merged = hubs_fc.merge(act, on=[schema.HUB, schema.DATE], how="inner")
    if merged.empty:
        return pd.DataFrame(
            columns=[schema.HUB, "forecast", "actual", "error", "error_pct", "days", "days_in_80"]
        )
    merged["inside"] = (merged[schema.CONTACTS] >= merged["lo80"]) & (
        merged[schema.CONTACTS] <= merged["hi80"]
    )
    rows = []
    for hub, g in merged.groupby(schema.HUB):
        rows.append((hub, g[schema.YHAT].sum(), int(g[schema.CONTACTS].sum()), len(g), g))
    out = pd.DataFrame(
        {
            schema.HUB: [r[0] for r in rows],
            "forecast": [float(np.round(r[1], 1)) for r in rows],
            "actual": [r[2] for r in rows],
            "days": [r[3] for r in rows],
            "days_in_80": [float(round(r[4]["inside"].mean(), 3)) for r in rows],
        }
    )
    if len(rows) > 1:
        # The force total: the sum of the hubs compared, with the force's own daily interval
        # where it was archived.
        force = archived[archived[schema.HUB] == schema.FORCE_TOTAL]
        tot = merged.groupby(schema.DATE)[schema.CONTACTS].sum().rename("y").reset_index()
        f = force.merge(tot, on=schema.DATE)
        inside = ((f["y"] >= f["lo80"]) & (f["y"] <= f["hi80"])).mean() if len(f) else np.nan
        out.loc[len(out)] = [
            schema.FORCE_TOTAL,
            float(np.round(out["forecast"].sum(), 1)),
            int(out["actual"].sum()),
            int(merged[schema.DATE].nunique()),
            float(round(inside, 3)),
        ]
    out["error"] = out["actual"] - out["forecast"]
    out["error_pct"] = np.where(out["forecast"] > 0, 100 * out["error"] / out["forecast"], np.nan)
    cols = [schema.HUB, "forecast", "actual", "error", "error_pct", "days", "days_in_80"]
    return out[cols]

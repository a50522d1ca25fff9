"""Scoring helpers of the forecast benchmark suite: cutoffs, horizons, buckets, monthly totals.

Pure functions on tidy frames, tested in ``tests/test_benchmark_suite.py``. A *scored frame*
holds one row per (method, series, cutoff, day) that has an actual:
``model, unique_id, cutoff, ds, horizon, y, yhat, lo80, hi80, lo95, hi95``, with ``horizon``
in days after the cutoff (1 = the first day forecast). Days missing from the source file have
no actual and are never scored (not as zeros).

Point accuracy is MASE from :func:`mashdemand.forecast.metrics.evaluate`: absolute errors over
the in-sample seasonal-naive MAE of the history up to each cutoff (m = 7 for days, m = 12 for
monthly totals, m = 1 for financial years), averaged over all points, so the scales match the
rest of the project.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from mashdemand.forecast.metrics import CUTOFF, HORIZON, MODEL, evaluate

UID, DS, Y, YHAT = "unique_id", "ds", "y", "yhat"
LEVELS: tuple[int, ...] = (80, 95)
#: Daily horizon buckets for coverage and interval width [days after the cutoff].
BUCKETS: tuple[tuple[int, int], ...] = ((1, 91), (92, 365), (366, 730))
#: Daily MASE horizons [days]: days 1..h of each forecast that reaches h.
DAILY_HORIZONS: tuple[int, ...] = (91, 365)
#: Longest forecast [days] and the months it must cover for the monthly-total score.
MAX_HORIZON = 730
MONTHS = 24
_END = pd.offsets.MonthEnd(0)


def bucket_name(bucket: tuple[int, int]) -> str:
    """``(92, 365)`` -> ``'92-365'``."""
    return f"{bucket[0]}-{bucket[1]}"


def month_end_on_or_before(day: pd.Timestamp) -> pd.Timestamp:
    """The last day of a month on or before ``day``.

    Examples
    --------
    >>> month_end_on_or_before(pd.Timestamp("2019-07-31")).date()
    datetime.date(2019, 7, 31)
    >>> month_end_on_or_before(pd.Timestamp("2016-04-08")).date()
    datetime.date(2016, 3, 31)
    """
    day = pd.Timestamp(day).normalize()
    next_day = day + pd.Timedelta(days=1)
    return day if next_day.day == 1 else day.replace(day=1) - pd.Timedelta(days=1)


def choose_cutoffs(
    first: pd.Timestamp,
    last: pd.Timestamp,
    horizons: Sequence[int] = (MAX_HORIZON, *reversed(DAILY_HORIZONS)),
    windows: int = 3,
    step_months: int = 3,
    min_history_days: int = 365,
) -> list[pd.Timestamp]:
    """Month-end cutoffs so that each horizon is reached by ``windows`` forecasts if possible.

    Longest horizon first: for each horizon ``h``, cutoffs already chosen that leave ``h`` days
    of data after them count; more are added at month ends stepping ``step_months`` back from
    the last month end that leaves ``h`` days, as long as the history before the cutoff is at
    least ``min_history_days`` long. Fewer windows than asked where the span does not allow.

    Parameters
    ----------
    first, last : Timestamp
        First and last day of the data.
    horizons : sequence of int
        Horizons [days] to serve, longest first.
    windows : int
        Windows wanted per horizon.
    step_months : int
        Months between successive cutoffs for one horizon.
    min_history_days : int
        Shortest history a cutoff may leave [days].

    Returns
    -------
    list of Timestamp
        Sorted, unique cutoffs (each is the last day of the history given to the forecasters).

    Examples
    --------
    >>> cuts = choose_cutoffs(pd.Timestamp("2015-10-01"), pd.Timestamp("2019-07-31"))
    >>> [c.strftime("%Y-%m-%d") for c in cuts]
    ['2017-01-31', '2017-04-30', '2017-07-31']
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    chosen: set[pd.Timestamp] = set()
    for h in horizons:
        have = sum((last - c).days >= h for c in chosen)
        start = month_end_on_or_before(last - pd.Timedelta(days=h))
        k = 0
        while have < windows:
            cut = month_end_on_or_before(start - pd.DateOffset(months=step_months * k) + _END)
            k += 1
            if (cut - first).days + 1 < min_history_days:
                break
            if cut not in chosen:
                chosen.add(cut)
                have += 1
    return sorted(chosen)


def reach(cutoff: pd.Timestamp, last: pd.Timestamp, max_horizon: int = MAX_HORIZON) -> int:
    """Days forecast from ``cutoff``: as far as the data go, at most ``max_horizon``.

    One day more when the :data:`MONTHS` months after a month-end cutoff hold 29 February
    (they then have 731 days), so that the monthly-total score gets its 24 complete months.

    Examples
    --------
    >>> reach(pd.Timestamp("2019-01-31"), pd.Timestamp("2019-07-31"))
    181
    >>> reach(pd.Timestamp("2017-07-31"), pd.Timestamp("2020-12-31"))
    730
    >>> reach(pd.Timestamp("2019-06-30"), pd.Timestamp("2021-06-30"))  # Feb 2020 inside
    731
    """
    cutoff, last = pd.Timestamp(cutoff), pd.Timestamp(last)
    months_end = (cutoff.to_period("M") + MONTHS).to_timestamp(how="end").normalize()
    cap = max(max_horizon, min((months_end - cutoff).days, max_horizon + 1))
    return int(min(cap, (last - cutoff).days))


def actual_panel(counts: pd.DataFrame, total: str = "ALL") -> pd.DataFrame:
    """Actuals per series and day from ``hub, date, contacts``, with the total ``ALL``.

    Days missing from the file stay missing (no row). The total exists on a day only when every
    series whose span covers that day has a count: a partial sum is not the total.

    Examples
    --------
    >>> c = pd.DataFrame({"hub": ["a", "a", "a", "b", "b"], "contacts": [1, 2, 3, 5, 6],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"] * 2)[:5]})
    >>> c.loc[4, "date"] = pd.Timestamp("2024-01-03")  # b lacks 2 January
    >>> t = actual_panel(c)
    >>> t[t["unique_id"] == "ALL"][["ds", "y"]].to_numpy().tolist()
    [[Timestamp('2024-01-01 00:00:00'), 6.0], [Timestamp('2024-01-03 00:00:00'), 9.0]]
    """
    c = counts.groupby(["hub", "date"], as_index=False)["contacts"].sum()
    spans = c.groupby("hub")["date"].agg(["min", "max"])
    days = pd.Index(sorted(c["date"].unique()))
    expected = sum(((days >= lo) & (days <= hi)).astype(int) for lo, hi in spans.to_numpy())
    present = c.groupby("date")["hub"].nunique().reindex(days)
    complete = days[present.to_numpy() == np.asarray(expected)]
    tot = c[c["date"].isin(complete)].groupby("date", as_index=False)["contacts"].sum()
    tot["hub"] = total
    out = pd.concat([c, tot], ignore_index=True)
    out = out.rename(columns={"hub": UID, "date": DS, "contacts": Y})
    out[Y] = out[Y].astype(float)
    return out[[UID, DS, Y]].sort_values([UID, DS]).reset_index(drop=True)


def interpolated_history(actual: pd.DataFrame, cutoff: pd.Timestamp, total: str = "ALL"):
    """History up to ``cutoff`` for the peers: every series' missing days linearly interpolated.

    The total is rebuilt as the sum of the interpolated series (as ``forecast()`` sums the
    series it is given), so the peers see one regular, gap-free panel.
    """
    h = actual[(actual[DS] <= cutoff) & (actual[UID] != total)]
    frames = []
    for uid, g in h.groupby(UID, sort=True):
        idx = pd.date_range(g[DS].min(), g[DS].max(), freq="D")
        y = g.set_index(DS)[Y].reindex(idx).interpolate(limit_direction="both")
        frames.append(pd.DataFrame({UID: uid, DS: idx, Y: y.to_numpy()}))
    hubs = pd.concat(frames, ignore_index=True)
    if hubs[UID].nunique() > 1:
        tot = hubs.groupby(DS, as_index=False)[Y].sum().assign(**{UID: total})
        hubs = pd.concat([hubs, tot[[UID, DS, Y]]], ignore_index=True)
    return hubs.sort_values([UID, DS]).reset_index(drop=True)


def scored_points(
    fc: pd.DataFrame, actual: pd.DataFrame, cutoff: pd.Timestamp, model: str
) -> pd.DataFrame:
    """A method's forecast from ``cutoff`` joined to the actuals it can be scored on.

    Only days with an actual are kept; ``horizon`` is the number of days after the cutoff.
    """
    d = fc.merge(actual, on=[UID, DS], how="inner")
    d = d[d[Y].notna()].copy()
    d[CUTOFF] = pd.Timestamp(cutoff)
    d[HORIZON] = (d[DS] - pd.Timestamp(cutoff)).dt.days.astype(int)
    d[MODEL] = model
    return d[d[HORIZON] >= 1].reset_index(drop=True)


def reaching(points: pd.DataFrame, h: int, reaches: dict[pd.Timestamp, int]) -> pd.DataFrame:
    """Points of days 1..h from the cutoffs whose forecast reaches ``h`` days."""
    ok = [c for c, r in reaches.items() if r >= h]
    return points[points[CUTOFF].isin(ok) & (points[HORIZON] <= h)]


def daily_mase(points: pd.DataFrame, actual: pd.DataFrame, m: int = 7) -> pd.Series:
    """MASE per model of daily points, each scaled by the history up to its own cutoff.

    Examples
    --------
    >>> hist = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-01-01", periods=8),
    ...     "y": np.arange(1.0, 9.0)})
    >>> pts = pd.DataFrame({"model": "x", "unique_id": "a", "cutoff": pd.Timestamp("2024-01-08"),
    ...     "ds": pd.to_datetime(["2024-01-09", "2024-01-10"]), "horizon": [1, 2],
    ...     "y": [9.0, 10.0], "yhat": [10.0, 10.0]})
    >>> float(daily_mase(pts, hist, m=1)["x"])
    0.5
    """
    if points.empty:
        return pd.Series(dtype=float)
    ev = evaluate(points, actual.dropna(subset=[Y]), m, level=())
    return ev.overall.set_index(MODEL)["mase"]


def monthly_totals(daily: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Sum daily values to calendar months, keeping only months with every day present.

    Parameters
    ----------
    daily : DataFrame
        ``unique_id, ds`` plus ``columns`` (and any of ``model, cutoff`` as extra keys).
    columns : sequence of str
        Columns to sum; a day with a missing value in any of them counts as absent.

    Returns
    -------
    DataFrame
        Keys, ``ds`` = month start, the summed columns.

    Examples
    --------
    >>> d = pd.DataFrame({"unique_id": "a", "y": 1.0,
    ...     "ds": pd.date_range("2024-01-15", "2024-03-31")})
    >>> monthly_totals(d, ["y"])[["ds", "y"]].to_numpy().tolist()  # January is partial
    [[Timestamp('2024-02-01 00:00:00'), 29.0], [Timestamp('2024-03-01 00:00:00'), 31.0]]
    """
    keys = [k for k in (MODEL, UID, CUTOFF) if k in daily.columns]
    d = daily.dropna(subset=list(columns)).copy()
    d["_month"] = d[DS].dt.to_period("M").dt.to_timestamp()
    g = d.groupby([*keys, "_month"], sort=True)
    out = g[list(columns)].sum()
    out["_days"] = g.size()
    out = out.reset_index().rename(columns={"_month": DS})
    full = out["_days"] == out[DS].dt.days_in_month
    return out[full].drop(columns="_days").reset_index(drop=True)


def monthly_points(points: pd.DataFrame, months: int = MONTHS) -> pd.DataFrame:
    """Monthly totals of actual and forecast per (model, series, cutoff), first ``months``.

    A month counts only when every one of its days has an actual and a forecast; ``horizon`` is
    the month's number after the cutoff's month (1 = the month after the cutoff's).
    """
    t = monthly_totals(points, [Y, YHAT])
    if t.empty:
        return t.assign(**{HORIZON: pd.Series(dtype=int)})
    cut = t[CUTOFF].dt.to_period("M")
    t[HORIZON] = (t[DS].dt.to_period("M") - cut).apply(lambda x: x.n).astype(int)
    return t[(t[HORIZON] >= 1) & (t[HORIZON] <= months)].reset_index(drop=True)


def monthly_mase(points: pd.DataFrame, actual: pd.DataFrame, months: int = MONTHS) -> pd.Series:
    """MASE per model of monthly totals, scaled by the in-sample monthly seasonal naive (m=12).

    Only forecasts that cover all ``months`` months after their cutoff's month are scored, so
    every window weighs the same months ahead. The scale comes from the complete months of
    history up to each cutoff.
    """
    mp = monthly_points(points, months)
    if mp.empty:
        return pd.Series(dtype=float)
    span = mp.groupby([MODEL, UID, CUTOFF])[HORIZON].transform("max")
    mp = mp[span >= months]
    if mp.empty:
        return pd.Series(dtype=float)
    hist = monthly_totals(actual, [Y])
    ev = evaluate(mp, hist, 12, level=())
    return ev.overall.set_index(MODEL)["mase"]


def months_reached(cutoff: pd.Timestamp, horizon_days: int) -> int:
    """Complete calendar months after the cutoff's month within ``horizon_days`` days.

    Examples
    --------
    >>> months_reached(pd.Timestamp("2017-07-31"), 730)
    24
    >>> months_reached(pd.Timestamp("2016-01-31"), 730)  # 2016 has 29 February
    23
    """
    end = pd.Timestamp(cutoff) + pd.Timedelta(days=horizon_days)
    first = (pd.Timestamp(cutoff).to_period("M") + 1).to_timestamp()
    n = 0
    while (first + pd.DateOffset(months=n + 1) - pd.Timedelta(days=1)) <= end:
        n += 1
    return n


def bucket_coverage(
    points: pd.DataFrame, buckets: Iterable[tuple[int, int]] = BUCKETS
) -> pd.DataFrame:
    """Coverage of the 80% and 95% intervals and their relative width per model and bucket.

    Returns one row per (model, bucket) with ``n`` (days scored), ``cov80``, ``cov95`` (share
    of actuals inside the closed interval) and ``width80`` = mean of ``(hi80 - lo80) / yhat``
    over days with a positive forecast (dimensionless).

    Examples
    --------
    >>> pts = pd.DataFrame({"model": "x", "horizon": [1, 2, 100, 400], "y": [10.0, 12, 10, 10],
    ...     "yhat": 10.0, "lo80": 9.0, "hi80": 11.0, "lo95": 8.0, "hi95": 12.0})
    >>> bucket_coverage(pts)[["bucket", "n", "cov80", "cov95", "width80"]].to_numpy().tolist()
    [['1-91', 2, 0.5, 1.0, 0.2], ['92-365', 1, 1.0, 1.0, 0.2], ['366-730', 1, 1.0, 1.0, 0.2]]
    """
    rows = []
    for model, g in points.groupby(MODEL, sort=False):
        for b in buckets:
            d = g[(g[HORIZON] >= b[0]) & (g[HORIZON] <= b[1])]
            if d.empty:
                continue
            y = d[Y].to_numpy(dtype=float)
            row = {MODEL: model, "bucket": bucket_name(b), "n": len(d)}
            for lv in LEVELS:
                lo, hi = d[f"lo{lv}"].to_numpy(dtype=float), d[f"hi{lv}"].to_numpy(dtype=float)
                row[f"cov{lv}"] = float(np.mean((y >= lo) & (y <= hi)))
            yhat = d[YHAT].to_numpy(dtype=float)
            pos = yhat > 0
            width = (d["hi80"].to_numpy(dtype=float) - d["lo80"].to_numpy(dtype=float))[pos]
            row["width80"] = float(np.mean(width / yhat[pos])) if pos.any() else float("nan")
            rows.append(row)
    return pd.DataFrame(rows, columns=[MODEL, "bucket", "n", "cov80", "cov95", "width80"])


def ratio_to_best(mase: pd.Series, ours: str, peers: Sequence[str]) -> tuple[str, float, float]:
    """The best peer, its MASE and our MASE over it (below 1: we win).

    Examples
    --------
    >>> ratio_to_best(pd.Series({"mashdemand": 0.9, "AutoETS": 1.0, "MSTL": 1.2}),
    ...     "mashdemand", ["AutoETS", "MSTL"])
    ('AutoETS', 1.0, 0.9)
    """
    avail = mase.reindex([p for p in peers if p in mase.index]).dropna()
    if avail.empty or ours not in mase.index:
        return ("", float("nan"), float("nan"))
    best = str(avail.idxmin())
    return best, float(avail[best]), float(mase[ours] / avail[best])

"""Aggregated counts: reading, period inference for every period type, aggregation, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mashdemand.forecast.counts import CountsError, aggregate, infer_freq, period_start, read_counts


@pytest.mark.parametrize(
    ("dates", "freq"),
    [
        (pd.date_range("2024-01-01", periods=40, freq="D"), "day"),
        (pd.date_range("2024-01-01", periods=20, freq="W-MON"), "week"),
        (pd.date_range("2019-01-01", periods=30, freq="MS"), "month"),
        (pd.date_range("2019-04-01", periods=12, freq="QS-JAN"), "quarter"),
        (pd.date_range("2013-01-01", periods=9, freq="YS-JAN"), "year"),
        (pd.date_range("2013-04-01", periods=12, freq="YS-APR"), "fy"),
    ],
)
def test_infer_every_period(tmp_path, dates, freq):
    rows = [(h, d, 100 + i) for h in ("reading", "slough") for i, d in enumerate(dates)]
    df = pd.DataFrame(rows, columns=["hub", "date", "contacts"])
    df["date"] = df["date"].dt.strftime("%d/%m/%Y")  # UK day-first dates
    df.to_csv(tmp_path / "c.csv", index=False)
    got, f = read_counts(tmp_path / "c.csv")
    assert f == freq
    assert len(got) == 2 * len(dates) and got["contacts"].sum() == 2 * sum(
        range(100, 100 + len(dates))
    )


def test_ambiguous_dates_are_refused():
    with pytest.raises(ValueError, match="fit no period"):
        infer_freq(pd.to_datetime(["2024-01-03", "2024-01-10", "2024-01-18"]))


def test_fy_period_start_and_aggregation():
    days = pd.DataFrame(
        {"hub": "x", "date": pd.date_range("2021-04-01", "2024-03-31"), "contacts": 1}
    )
    fy = aggregate(days, "fy")
    assert fy["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-04-01", "2022-04-01", "2023-04-01"]
    assert fy["contacts"].tolist() == [365, 365, 366]  # 2023-24 has 29 February 2024
    # An incomplete period is not kept: a partial quarter would look like a fall in demand.
    q = aggregate(days[days["date"] <= "2021-08-15"], "quarter")
    assert q["date"].dt.strftime("%Y-%m-%d").tolist() == ["2021-04-01"]
    assert period_start(pd.Series(pd.to_datetime(["2024-01-07"])), "week").iloc[0] == pd.Timestamp(
        "2024-01-01"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hub,date\nx,2024-01-01\n", "missing column(s) contacts"),
        ("hub,date,contacts\nx,2024-01-01,5\nx,2024-13-01,5\n", "row 3, column date"),
        ("hub,date,contacts\nx,2024-01-01,5\nx,2024-02-01,[c]\n", "row 3, column contacts"),
        ("hub,date,contacts\nx,2024-01-01,5\nx,2024-02-01,-1\n", "row 3, column contacts"),
        ("hub,date,contacts\nx,2024-01-01,5\nx,2024-01-01,6\n", "row 2: the same"),
        ("hub,date,contacts\n", "no data rows"),
    ],
)
def test_bad_counts_files(tmp_path, text, message):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(CountsError, match="bad.csv") as e:
        read_counts(tmp_path / "bad.csv")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_days_of_a_busy_series_are_a_gap_not_zeros():
    """Before: forecast() zero-filled absent days, so an outage in a counts file (SAMU 68 lacks
    299 days) read as 299 days without a contact and dragged every model down."""
    from mashdemand.forecast.api import forecast
    from mashdemand.forecast.counts import fill_missing

    rng = np.random.default_rng(3)
    days = pd.date_range("2022-01-03", periods=3 * 364, freq="D")
    shape = np.array([1.1, 1.0, 1.0, 1.0, 1.0, 0.6, 0.5])
    a = pd.DataFrame(
        {"hub": "a", "date": days, "contacts": rng.poisson(200 * shape[days.day_of_week])}
    )
    b = pd.DataFrame(
        {"hub": "b", "date": days, "contacts": rng.poisson(50 * shape[days.day_of_week])}
    )
    lost = (days >= "2023-03-01") & (days < "2023-09-01")
    counts = pd.concat([a[~lost], b], ignore_index=True)

    filled = fill_missing(counts, "day")
    got = filled[(filled["hub"] == "a") & filled["date"].isin(days[lost])]
    assert len(got) == lost.sum()
    true = 200 * shape[days[lost].day_of_week]
    assert abs(got["contacts"].mean() / true.mean() - 1) < 0.05
    by_dow = got.groupby(got["date"].dt.day_of_week)["contacts"].mean()
    assert by_dow[6] < 0.6 * by_dow[0]  # the weekly shape is kept
    # a quiet series: an absent day is a day without contacts
    quiet = pd.DataFrame({"hub": "q", "date": days[:50], "contacts": 1}).drop(index=[10, 20])
    assert (fill_missing(quiet, "day")["contacts"] == 0).sum() == 2

    res = forecast(counts, until="2025-03-31", models=["snaive", "ets"], backtest=False)
    hist = res.history
    all_gap = hist[(hist["unique_id"] == "ALL") & hist["ds"].isin(days[lost])]["y"]
    assert all_gap.mean() > 200  # the total is not understated on the missing days


def test_fill_missing_keeps_a_source_column_not_split_by():
    from mashdemand.forecast.counts import fill_missing

    days = pd.date_range("2024-01-01", periods=20, freq="D")
    rows = [(d, s, 30) for d in days for s in ("police", "health") if d != days[7]]
    c = pd.DataFrame(rows, columns=["date", "source", "contacts"]).assign(hub="a")
    c = c[["hub", "date", "source", "contacts"]]
    out = fill_missing(c, "day")
    assert list(out.columns) == list(c.columns) and len(out) == len(c) + 1
    added = out[out["date"] == days[7]]
    assert added["source"].isna().all() and float(added["contacts"].iloc[0]) == 60.0
    split = fill_missing(c, "day", by=("source",))
    assert len(split) == len(c) + 2  # one absent day in each source's series

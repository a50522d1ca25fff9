"""Aggregated counts: reading, period inference for every period type, aggregation, errors."""

from __future__ import annotations

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

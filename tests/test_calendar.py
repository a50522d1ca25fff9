"""Calendar: bank holidays, school holidays and interventions."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from mashdemand import calendar as cal


@pytest.mark.parametrize(
    "day",
    [
        "2020-05-08",  # May bank holiday moved for VE day
        "2022-06-02",  # Spring bank holiday moved for the jubilee
        "2022-06-03",  # Platinum Jubilee
        "2022-09-19",  # State funeral of Queen Elizabeth II
        "2023-05-08",  # Coronation
        "2021-04-05",  # Easter Monday
        "2021-08-30",  # August bank holiday
        "2017-04-17",  # Easter Monday (from the holidays package, before gov.uk coverage)
        "2017-08-28",  # August bank holiday (holidays package)
        "2028-04-17",  # Easter Monday (holidays package, after gov.uk coverage)
        "2028-08-28",  # August bank holiday (holidays package)
    ],
)
def test_bank_holidays_include(day: str) -> None:
    assert pd.Timestamp(day) in cal.bank_holidays("2016-01-01", "2028-12-31")


def test_bank_holidays_counts_and_weekdays() -> None:
    bh = cal.bank_holidays("2017-01-01", "2028-12-31")
    assert bh.is_monotonic_increasing and bh.is_unique
    assert (bh.day_of_week < 5).all()
    per_year = pd.Series(1, index=bh).groupby(bh.year).sum()
    assert per_year[2019] == 8 and per_year[2022] == 10 and per_year[2023] == 9
    assert per_year.drop([2022, 2023]).eq(8).all()
    # 2020: May Day moved, not added.
    assert pd.Timestamp("2020-05-04") not in bh


def test_default_calendar_unchanged() -> None:
    """England and Wales stays the default, day for day (digests taken before regions)."""
    bh = cal.bank_holidays("2010-01-01", "2035-12-31")
    text = ",".join(bh.strftime("%Y-%m-%d"))
    assert len(bh) == 213 and hashlib.sha256(text.encode()).hexdigest()[:16] == "809088a1d78ffe1a"
    assert bh.equals(cal.bank_holidays("2010-01-01", "2035-12-31", "england-and-wales"))
    sh = cal.school_holidays("2010-01-01", "2035-12-31")
    text = sh.astype(int).astype(str).str.cat()
    assert sh.sum() == 2686 and hashlib.sha256(text.encode()).hexdigest()[:16] == "5fbe87a02cdc5a44"


def test_bank_holidays_window_is_inclusive() -> None:
    bh = cal.bank_holidays("2023-05-08", "2023-05-29")
    assert list(bh.strftime("%Y-%m-%d")) == ["2023-05-08", "2023-05-29"]


def test_school_holidays_rule() -> None:
    h = cal.school_holidays("2023-01-01", "2024-12-31")
    assert h.index.is_unique and len(h) == 731
    for day in [
        "2023-08-15",
        "2023-04-10",
        "2023-12-27",
        "2024-01-02",
        "2023-10-25",
        "2024-02-14",
        "2024-05-29",
        "2024-07-29",
        "2024-09-03",
    ]:
        assert h[day], day
    for day in [
        "2023-09-06",
        "2023-06-15",
        "2023-11-15",
        "2024-01-08",
        "2024-03-05",
        "2024-07-16",
        "2024-09-04",
        "2024-12-18",
    ]:
        assert not h[day], day
    # About 14-15 weeks of holiday a year, counting the weekends inside and around breaks.
    assert 95 <= h["2024"].sum() <= 110


def test_school_days_per_year_are_about_190() -> None:
    sd = cal.school_days("2023-09-01", "2024-08-31")
    assert 185 <= sd.sum() <= 200


def test_school_holiday_overrides() -> None:
    ov = pd.DataFrame({"start": ["2024-07-24"], "end": ["2024-09-05"]})
    h = cal.school_holidays("2024-07-01", "2024-09-30", overrides=ov)
    assert h["2024-07-24"] and h["2024-09-05"] and not h["2024-09-06"]
    assert not cal.school_holidays("2024-09-04", "2024-09-05").all()  # the rule differs
    # Outside the span of the overrides, the rule applies (summer from Saturday 20 July).
    rule = cal.school_holidays("2024-07-01", "2024-07-23", overrides=ov)
    assert rule["2024-07-22"] and not rule["2024-07-19"]


def test_read_school_holiday_overrides(tmp_path) -> None:
    p = tmp_path / "terms.csv"
    p.write_text("start,end\n24/07/2024,05/09/2024\n2024-10-28,2024-11-01\n", encoding="utf-8")
    ov = cal.read_school_holiday_overrides(p)
    assert ov["start"].tolist() == [pd.Timestamp("2024-07-24"), pd.Timestamp("2024-10-28")]
    assert ov["end"].tolist() == [pd.Timestamp("2024-09-05"), pd.Timestamp("2024-11-01")]


def test_working_days_exclude_bank_holidays() -> None:
    wd = cal.working_days("2022-05-30", "2022-06-05")
    assert wd.sum() == 3 and not wd["2022-06-02"] and not wd["2022-06-03"]


def test_interventions_default() -> None:
    iv = cal.load_interventions().set_index("name")
    assert list(iv.index) == ["covid_lockdown_1", "covid_lockdown_2", "covid_school_closure_2021"]
    assert iv.loc["covid_lockdown_1", "start"] == pd.Timestamp("2020-03-23")
    assert iv.loc["covid_lockdown_1", "end"] == pd.Timestamp("2020-06-30")
    assert iv.loc["covid_lockdown_2", "start"] == pd.Timestamp("2020-11-05")
    assert iv.loc["covid_lockdown_2", "schools"] == "open"
    assert iv.loc["covid_school_closure_2021", "end"] == pd.Timestamp("2021-03-07")
    assert iv.loc["covid_school_closure_2021", "rebound_from"] == pd.Timestamp("2021-03-08")
    assert set(iv["kind"]) <= {"window", "level_shift"}
    assert iv["note"].str.len().gt(10).all()
    assert len(cal.LOCKDOWNS) == 3 and cal.LOCKDOWNS[0].name == "covid_lockdown_1"


def test_interventions_custom_file(tmp_path) -> None:
    p = tmp_path / "iv.toml"
    p.write_text(
        '[[intervention]]\nname = "triage"\nstart = 2022-04-01\nkind = "level_shift"\n'
        'hub = "oxfordshire"\n',
        encoding="utf-8",
    )
    iv = cal.load_interventions(p)
    assert iv.loc[0, "hub"] == "oxfordshire" and pd.isna(iv.loc[0, "end"])
    p.write_text('[[intervention]]\nname = "x"\nstart = 2022-04-01\nkind = "step"\n')
    with pytest.raises(ValueError, match="kind 'step'"):
        cal.load_interventions(p)

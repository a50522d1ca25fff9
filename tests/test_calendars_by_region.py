"""Calendars per series or hub: UK nations, other countries, per-LA term dates (issue 11, s. 3)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mashdemand import calendar as cal
from mashdemand.cli import app
from mashdemand.forecast.api import ForecastError, forecast
from mashdemand.forecast.base import FREQ_ALIASES
from mashdemand.forecast.features import hub_calendars, make_features

runner = CliRunner()


def daily_flags(calendar: object, start: str = "2023-01-01", end: str = "2024-12-31") -> pd.Series:
    """``is_bank_holiday`` of one series by day under ``calendar``."""
    idx = pd.DataFrame({"unique_id": "x", "ds": pd.date_range(start, end)})
    f = make_features(idx, "day", calendar=calendar)  # type: ignore[arg-type]
    return f.set_index("ds")["is_bank_holiday"]


# --- bank holidays by region ----------------------------------------------------------------
FRENCH = ["2023-07-14", "2024-08-15", "2024-05-09", "2023-05-18", "2024-05-08", "2024-11-11"]


def test_french_holidays_flagged_with_fr_only() -> None:
    fr, default = daily_flags("FR"), daily_flags("england-and-wales")
    for day in FRENCH:  # Bastille Day, Assumption, Ascension (2024, 2023), VE Day, Armistice
        assert fr[day] == 1.0 and default[day] == 0.0, day
    # The August bank holiday and Boxing Day are English, not French.
    assert default["2024-08-26"] == 1.0 and fr["2024-08-26"] == 0.0
    assert default["2024-12-26"] == 1.0 and fr["2024-12-26"] == 0.0
    # Weekdays only: Sunday 14 July 2024 is no day off (France has no substitute days).
    assert fr["2024-07-14"] == 0.0
    assert fr.sum() == 9 + 10 and default.sum() == 9 + 8
    may = make_features(
        pd.DataFrame({"unique_id": "x", "ds": pd.to_datetime(["2024-05-01"])}),
        "month",
        calendar="FR",
    ).iloc[0]
    assert may["bank_holidays"] == 4 and may["working_days"] == 23 - 4  # 1, 8, 9 and 20 May


@pytest.mark.parametrize(
    ("region", "day", "ew"),
    [
        ("scotland", "2024-01-02", 0),  # 2 January (gov.uk list)
        ("scotland", "2023-11-30", 0),  # St Andrew's Day
        ("scotland", "2024-12-02", 0),  # St Andrew's Day substitute (30 Nov is a Saturday)
        ("scotland", "2024-08-05", 0),  # Scottish summer holiday: first Monday in August
        ("scotland", "2028-01-04", 0),  # 2 January's substitute (holidays package years)
        ("scotland", "2028-11-30", 0),  # St Andrew's Day (holidays package years)
        ("northern-ireland", "2023-03-17", 0),  # St Patrick's Day
        ("northern-ireland", "2024-03-18", 0),  # its substitute (17 March is a Sunday)
        ("northern-ireland", "2023-07-12", 0),  # Battle of the Boyne
        ("northern-ireland", "2024-07-12", 0),
        ("northern-ireland", "2029-07-12", 0),  # holidays package years
        ("northern-ireland", "2024-04-01", 1),  # Easter Monday: NI and E&W both
    ],
)
def test_uk_nations_bank_holidays(region: str, day: str, ew: int) -> None:
    assert pd.Timestamp(day) in cal.bank_holidays("2023-01-01", "2029-12-31", region)
    assert (pd.Timestamp(day) in cal.bank_holidays("2023-01-01", "2029-12-31")) == bool(ew)


def test_scotland_has_no_easter_monday_or_late_august_holiday() -> None:
    sct = cal.bank_holidays("2024-01-01", "2024-12-31", "scotland")
    assert pd.Timestamp("2024-04-01") not in sct and pd.Timestamp("2024-08-26") not in sct
    assert len(sct) == 9


@pytest.mark.parametrize(
    ("key", "canonical", "name"),
    [
        ("england-and-wales", "england-and-wales", "England and Wales"),
        ("Wales", "england-and-wales", "England and Wales"),
        ("Northern Ireland", "northern-ireland", "Northern Ireland"),
        ("GB-SCT", "scotland", "Scotland"),
        ("fr", "FR", "FR"),
        ("FR-Alsace", "FR-6AE", "FR-6AE"),
    ],
)
def test_get_calendar_keys(key: str, canonical: str, name: str) -> None:
    c = cal.get_calendar(key)
    assert (c.key, c.name) == (canonical, name)


@pytest.mark.parametrize("key", ["XX", "GB", "UK", "", "FR-99", 3])
def test_unknown_calendar_is_one_line_naming_the_choices(key: object) -> None:
    with pytest.raises(cal.CalendarError) as info:
        cal.get_calendar(key)  # type: ignore[arg-type]
    msg = str(info.value)
    assert "\n" not in msg and f"calendar {key!r}" in msg
    assert ("england-and-wales, scotland, northern-ireland" in msg) or "subdivision" in msg


def test_alsace_adds_good_friday_and_26_december() -> None:
    als = cal.bank_holidays("2024-01-01", "2024-12-31", "FR-6AE")
    fr = cal.bank_holidays("2024-01-01", "2024-12-31", "FR")
    assert sorted(set(als) - set(fr)) == [pd.Timestamp("2024-03-29"), pd.Timestamp("2024-12-26")]


# --- school holidays by region --------------------------------------------------------------
def test_scottish_and_northern_irish_summer_holidays() -> None:
    sct = cal.school_holidays("2024-06-01", "2024-09-30", region="scotland")
    ni = cal.school_holidays("2024-06-01", "2024-09-30", region="northern-ireland")
    ew = cal.school_holidays("2024-06-01", "2024-09-30")
    # Scotland: from Saturday 29 June to Tuesday 13 August (pupils back mid-August).
    assert sct["2024-06-29":"2024-08-13"].all() and not sct["2024-06-28"]
    assert not sct["2024-08-14"]
    # Northern Ireland: July and August.
    assert ni["2024-07-01":"2024-09-01"].all() and not ni["2024-06-28"] and not ni["2024-09-02"]
    # England and Wales: late July to early September.
    assert not ew["2024-07-15"] and ew["2024-09-02"] and not ew["2024-09-04"]
    assert sct["2024-07"].all() and ni["2024-07"].all() and ew["2024-07"].sum() == 12
    # E&W also ends its May half term on Sunday 2 June.
    assert sct.sum() == 46 and ni.sum() == 63 and ew.sum() == 12 + 31 + 3 + 2


def test_other_countries_have_no_school_holidays_unless_supplied() -> None:
    fr = cal.school_holidays("2024-01-01", "2024-12-31", region="FR")
    assert not fr.any()
    ov = pd.DataFrame({"start": ["2024-07-06"], "end": ["2024-09-01"]})
    fr = cal.school_holidays("2024-01-01", "2024-12-31", ov, region="FR")
    assert fr.sum() == 58 and fr["2024-07-06"] and not fr["2024-07-05"]


def test_term_dates_per_local_authority(tmp_path) -> None:
    p = tmp_path / "terms.csv"
    p.write_text(
        "la,start,end\nGlasgow,2024-06-27,2024-08-14\n,2024-07-20,2024-09-03\n",
        encoding="utf-8",
    )
    ov = cal.read_school_holiday_overrides(p)
    assert ov["la"].tolist() == ["glasgow", ""]
    ds = pd.date_range("2024-06-20", "2024-09-10")
    idx = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds}) for u in ("glasgow", "leeds")])
    f = make_features(idx, "day", school_overrides=p, calendar={"glasgow": "scotland"})
    school = f.pivot(index="ds", columns="unique_id", values="is_school_holiday")
    assert school.loc["2024-06-27", "glasgow"] == 1 and school.loc["2024-06-27", "leeds"] == 0
    assert school.loc["2024-08-15", "glasgow"] == 0 and school.loc["2024-08-15", "leeds"] == 1
    assert school["glasgow"].sum() == 49 and school["leeds"].sum() == 46


def test_term_dates_bad_row_is_one_line(tmp_path) -> None:
    p = tmp_path / "terms.csv"
    p.write_text("la,start,end\nleeds,2024-07-20,\n", encoding="utf-8")
    with pytest.raises(cal.CalendarError, match=r"terms.csv: row 2, column end: empty"):
        cal.read_school_holiday_overrides(p)


# --- features per hub -----------------------------------------------------------------------
def test_hub_mapping_gives_each_hub_its_flags() -> None:
    ds = pd.date_range("2024-07-08", "2024-08-16")
    idx = pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": ds}) for u in ("belfast", "leeds|police", "ALL")]
    )
    f = make_features(idx, "day", calendar={"belfast": "northern-ireland", "leeds": "FR"})
    bank = f.pivot(index="ds", columns="unique_id", values="is_bank_holiday")
    assert bank.loc["2024-07-12"].to_dict() == {"ALL": 0.5, "belfast": 1.0, "leeds|police": 0.0}
    assert bank.loc["2024-08-15"].to_dict() == {"ALL": 0.5, "belfast": 0.0, "leeds|police": 1.0}
    assert bank.drop(index=pd.to_datetime(["2024-07-12", "2024-08-15"])).eq(0).all().all()
    # The force total may be given its own calendar.
    own = make_features(idx, "day", calendar={"belfast": "northern-ireland", "ALL": "FR"})
    assert own.set_index(["unique_id", "ds"]).loc[("ALL", "2024-08-15"), "is_bank_holiday"] == 1
    assert hub_calendars(["a", "b"], "a=scotland") == {"a": "scotland", "b": "england-and-wales"}


# Digests of make_features' default output on a 2019-2026 grid, computed with the code before
# calendars per series existed (England and Wales only): the default must not move.
DEFAULT_DIGESTS = {
    "day": "183269ad09de44a2",
    "week": "b35f645b6b311e6b",
    "month": "299a506a6be707b0",
    "quarter": "f4b195daf2ae03e4",
    "year": "682c2927f12214e6",
    "fy": "610076fb2c1ed484",
}


@pytest.mark.parametrize("freq", list(DEFAULT_DIGESTS))
def test_default_features_unchanged(freq: str) -> None:
    ds = pd.date_range("2019-01-01", "2026-12-31", freq=FREQ_ALIASES[freq])
    idx = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds}) for u in ("a", "b|police", "ALL")])
    for f in (make_features(idx, freq), make_features(idx, freq, calendar={"a": "Wales"})):
        text = f.round(9).to_csv(index=False)
        assert hashlib.sha256(text.encode()).hexdigest()[:16] == DEFAULT_DIGESTS[freq]


# --- forecast() -----------------------------------------------------------------------------
def french_history(end: str = "2024-12-31", start: str = "2021-01-01") -> pd.DataFrame:
    """A daily series that doubles on French public holidays, with a weekly pattern."""
    days = pd.date_range(start, end)
    hol = days.isin(cal.bank_holidays(days[0], days[-1], "FR"))
    lam = 100.0 * (1 + 0.2 * (days.day_of_week >= 5)) * np.where(hol, 2.0, 1.0)
    y = np.random.default_rng(11).poisson(lam)
    return pd.DataFrame({"hub": "paris", "date": days, "contacts": y})


@pytest.mark.parametrize("bad", ["XX", {"paris": "Atlantis"}, "paris=,x=FR"])
def test_forecast_unknown_calendar_names_choices(bad: object) -> None:
    with pytest.raises(ForecastError, match="calendar") as info:
        forecast(french_history("2021-03-31"), until="2021-04-30", calendar=bad)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    if bad != "paris=,x=FR":
        assert "england-and-wales, scotland, northern-ireland" in str(info.value)


@pytest.mark.slow
def test_forecast_daily_and_monthly_follow_the_calendar() -> None:
    hist = french_history(start="2022-07-01")
    kw = {"models": ["gbm"], "backtest": False}
    fr = forecast(hist, until="2025-06-30", calendar="FR", **kw).frame.set_index("date")
    ew = forecast(hist, until="2025-06-30", **kw).frame.set_index("date")
    fr, ew = fr[fr["hub"] == "paris"]["yhat"], ew[ew["hub"] == "paris"]["yhat"]
    # Thursday 8 May 2025 (VE Day) and Thursday 29 May (Ascension) against Thursday 15 May.
    for day in ("2025-05-08", "2025-05-29"):
        assert fr[day] / fr["2025-05-15"] > 1.6 and ew[day] / ew["2025-05-15"] < 1.25
    # Monthly from daily history: the near-term daily forecast gets the calendar too.
    month = forecast(hist, until="2025-12-31", freq="month", calendar="FR", **kw)
    near = month.near_term.frame
    near = near[near["hub"] == "paris"].set_index("date")["yhat"]
    assert near["2025-05-08"] / near["2025-05-15"] > 1.6
    may = month.frame[(month.frame["hub"] == "paris")].set_index("date")["yhat"]
    assert may.index.min() == pd.Timestamp("2025-01-01") and len(may) == 12


def test_cli_calendar_option(tmp_path) -> None:
    counts = tmp_path / "counts.csv"
    french_history("2022-12-31").to_csv(counts, index=False)
    out = tmp_path / "fc.csv"
    args = ["forecast", "--counts", str(counts), "--until", "2023-01-31", "--out", str(out)]
    bad = runner.invoke(app, [*args, "--calendar", "XX"])
    assert bad.exit_code == 2 and not out.exists()
    lines = bad.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mashdemand: error: --calendar 'XX': choose")
    ok = runner.invoke(app, [*args, "--calendar", "FR", "--models", "snaive", "--no-backtest"])
    assert ok.exit_code == 0, ok.output
    assert len(pd.read_csv(out)) == 2 * 31


@pytest.mark.slow
def test_prophet_holidays_follow_the_features_or_its_calendar() -> None:
    from mashdemand.forecast.models import make_model

    hist = french_history(end="2025-06-30", start="2023-01-01")
    df = hist.rename(columns={"hub": "unique_id", "date": "ds", "contacts": "y"})
    fut = pd.DataFrame({"unique_id": "paris", "ds": pd.date_range("2025-07-01", "2025-07-31")})
    train = df.merge(make_features(df, "day", calendar="FR"), on=["unique_id", "ds"])
    X = fut.merge(make_features(fut, "day", calendar="FR"), on=["unique_id", "ds"])
    by_features = make_model("prophet", "day").fit(train).predict(31, X=X)
    yhat = pd.Series(by_features["yhat"].to_numpy(), index=fut["ds"])
    # Monday 14 July 2025 against the Mondays around it.
    assert yhat["2025-07-14"] / yhat[["2025-07-07", "2025-07-21"]].mean() > 1.5
    # A plain frame: the model computes the same columns from its own calendar.
    plain = make_model("prophet", "day", calendar="FR").fit(df).predict(31)
    np.testing.assert_allclose(plain["yhat"], by_features["yhat"], rtol=1e-6)

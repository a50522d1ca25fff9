"""The synthetic sample force: determinism, vocabularies and the patterns of DOMAIN.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mashdemand import calendar as cal
from mashdemand import schema
from mashdemand.hubs import HUB_SLUGS
from mashdemand.sample import (
    CATEGORIES,
    OUTCOMES,
    daily_counts,
    default_end,
    expected_daily,
    generate_contacts,
    write_sample,
)

SEED = 123
HUBS = ["slough", "oxfordshire"]


@pytest.fixture(scope="module")
def force() -> pd.DataFrame:
    return generate_contacts(SEED, "2019-01-01", "2021-12-31", hubs=HUBS)


@pytest.fixture(scope="module")
def daily(force: pd.DataFrame) -> pd.DataFrame:
    d = daily_counts(force, by=(schema.HUB, schema.SOURCE))
    return d.groupby([schema.DATE, schema.SOURCE], observed=True)[schema.CONTACTS].sum().unstack()


def test_deterministic_and_seed_sensitive() -> None:
    a = generate_contacts(7, "2024-03-01", "2024-04-30", hubs="bracknell-forest")
    b = generate_contacts(7, "2024-03-01", "2024-04-30", hubs="bracknell-forest")
    pd.testing.assert_frame_equal(a, b)
    c = generate_contacts(8, "2024-03-01", "2024-04-30", hubs="bracknell-forest")
    assert len(a) != len(c) or not a[schema.RECEIVED_AT].equals(c[schema.RECEIVED_AT])


def test_hub_stream_independent_of_other_hubs(force: pd.DataFrame) -> None:
    alone = generate_contacts(SEED, "2019-01-01", "2021-12-31", hubs="slough")
    part = force[force[schema.HUB] == "slough"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, part)


def test_columns_filled_and_vocabularies(force: pd.DataFrame) -> None:
    assert list(force.columns) == list(schema.CONTACT_COLUMNS)
    assert not force.isna().any().any()
    assert force[schema.CONTACT_ID].is_unique
    assert force[schema.CONTACT_ID].str.match(r"^(SL|OX)-20(19|20|21)-\d{7}$").all()
    assert set(force[schema.HUB].unique()) == set(HUBS)
    assert set(force[schema.SOURCE].unique()) == set(schema.SOURCES)
    assert set(force[schema.SUBJECT].unique()) == set(schema.SUBJECTS)
    assert set(force[schema.PRIORITY].unique()) == set(schema.PRIORITIES)
    assert set(force[schema.CATEGORY].unique()) == set(CATEGORIES)
    assert set(force[schema.OUTCOME].unique()) == set(OUTCOMES)
    assert force[schema.RPA].dtype == bool
    for col in (schema.RECEIVED_AT, schema.DECIDED_AT):
        assert force[col].dtype == "datetime64[s]"
    assert force[schema.RECEIVED_AT].min() >= pd.Timestamp("2019-01-01")
    assert force[schema.RECEIVED_AT].max() < pd.Timestamp("2022-01-01")


def test_decisions_after_receipt_and_timeliness(force: pd.DataFrame) -> None:
    delay = force[schema.DECIDED_AT] - force[schema.RECEIVED_AT]
    assert (delay > pd.Timedelta(0)).all()
    hours = delay.dt.total_seconds() / 3600
    by = hours.groupby(force[schema.PRIORITY], observed=True)
    assert 0.9 <= (by.get_group("urgent") <= 4).mean() < 1.0  # a small share breaches
    assert (by.get_group("standard") <= 7 * 24).mean() > 0.9
    assert by.median()["urgent"] < by.median()["medium"] < by.median()["standard"]
    # Non-urgent decisions are made in working hours (08:00-16:00) on working days.
    slow = force[force[schema.PRIORITY] != "urgent"][schema.DECIDED_AT]
    minute = slow.dt.hour * 60 + slow.dt.minute
    assert minute.between(8 * 60, 16 * 60).all()
    wd = cal.working_days("2019-01-01", "2022-12-31")
    assert wd.reindex(slow.dt.normalize()).all()


def test_no_time_in_spring_dst_gap(force: pd.DataFrame) -> None:
    t = force[schema.RECEIVED_AT]
    gap_days = pd.to_datetime(["2019-03-31", "2020-03-29", "2021-03-28"])
    on_gap_day = t.dt.normalize().isin(gap_days)
    assert on_gap_day.sum() > 100
    assert not (on_gap_day & (t.dt.hour == 1)).any()
    # The local times all exist in Europe/London.
    t.dt.tz_localize(schema.UK_TZ, nonexistent="raise", ambiguous="NaT")


def test_education_stops_in_august(daily: pd.DataFrame) -> None:
    edu = daily["education"]
    for year in (2019, 2021):
        assert edu[f"{year}-08"].sum() < 0.25 * edu[f"{year}-10"].sum()


def test_september_surge(daily: pd.DataFrame) -> None:
    edu = daily["education"]
    sd = cal.school_days("2019-01-01", "2021-12-31")
    first_weeks = edu["2019-09-04":"2019-09-17"][sd["2019-09-04":"2019-09-17"]].mean()
    november = edu["2019-11-04":"2019-11-29"][sd["2019-11-04":"2019-11-29"]].mean()
    assert first_weeks > 1.15 * november


def test_police_every_day(daily: pd.DataFrame) -> None:
    police = daily["police"]
    weekend = police[police.index.day_of_week >= 5].sum() / police.sum()
    assert weekend > 0.20
    other = daily[["education", "health", "local_authority"]].sum(axis=1)
    assert other[other.index.day_of_week >= 5].sum() / other.sum() < 0.05


def test_bank_holidays_depress_all_but_police(daily: pd.DataFrame) -> None:
    bh = cal.bank_holidays("2019-01-01", "2021-12-31")
    mondays = daily[daily.index.day_of_week == 0]
    on_bh = mondays.index.isin(bh)
    ratio = mondays[on_bh].mean() / mondays[~on_bh].mean()
    assert ratio["police"] > 0.85
    for src in ("education", "health", "local_authority", "public", "other"):
        assert ratio[src] < 0.9, src
    assert mondays[on_bh].sum(axis=1).mean() < mondays[~on_bh].sum(axis=1).mean()


def test_first_lockdown_cuts_education(daily: pd.DataFrame) -> None:
    edu = daily["education"]
    assert edu["2020-04"].sum() <= 0.4 * edu["2019-04"].sum()
    assert daily["police"]["2020-04"].sum() >= 0.95 * daily["police"]["2019-04"].sum()
    # Rebound in September 2020 above September 2019.
    assert edu["2020-09"].sum() > 1.1 * edu["2019-09"].sum()


def test_priority_and_subject_mix(force: pd.DataFrame) -> None:
    pr = force[schema.PRIORITY].value_counts(normalize=True)
    assert 0.70 <= pr["standard"] <= 0.85
    assert 0.01 <= pr["urgent"] <= 0.03
    police = force[force[schema.SOURCE] == "police"][schema.PRIORITY]
    assert police.isin(["standard", "medium"]).mean() > 0.93
    child = (force[schema.SUBJECT] == "child").groupby(force[schema.SOURCE], observed=True)
    assert 0.70 <= (force[schema.SUBJECT] == "child").mean() <= 0.80
    assert child.mean()["education"] > 0.95
    sd = force[force[schema.OUTCOME] == "strategy_discussion"][schema.PRIORITY]
    share = sd.value_counts(normalize=True)
    assert share["urgent"] > pr["urgent"] * 5  # strategy discussions concentrate on urgent


def test_source_shares(force: pd.DataFrame) -> None:
    recent = force[force[schema.RECEIVED_AT] >= pd.Timestamp("2021-06-01")]
    share = recent[schema.SOURCE].value_counts(normalize=True)
    assert 0.42 <= share["police"] <= 0.52
    assert 0.13 <= share["education"] <= 0.21
    assert share["police"] == share.max()


def test_police_step_change_in_october_2019(daily: pd.DataFrame) -> None:
    police = daily["police"]
    before = police["2019-04-01":"2019-09-30"].mean()
    after = police["2019-10-01":"2020-03-15"].mean()
    assert 1.07 <= after / before <= 1.20


def test_rpa_go_live(force: pd.DataFrame) -> None:
    live = force[schema.RECEIVED_AT] >= pd.Timestamp("2021-06-01")
    assert not force.loc[~live, schema.RPA].any()
    assert 0.8 <= force.loc[live, schema.RPA].mean() <= 0.9


def test_oxfordshire_volume_analytic() -> None:
    e = expected_daily("2023-01-01", "2025-12-31", hubs="oxfordshire")
    monthly = e.groupby(e[schema.DATE].dt.to_period("M"))["expected"].sum()
    assert 5000 <= monthly.mean() <= 6000
    assert monthly["2025"].mean() > monthly["2023"].mean()  # growth


def test_hub_volumes_analytic() -> None:
    e = expected_daily("2025-01-01", "2025-12-31")
    per_month = e.groupby(schema.HUB)["expected"].sum() / 12
    assert per_month.idxmax() == "oxfordshire"
    for hub in (
        "bracknell-forest",
        "reading",
        "slough",
        "west-berkshire",
        "windsor-and-maidenhead",
        "wokingham",
    ):
        assert 900 <= per_month[hub] <= 1700, hub
    assert set(per_month.index) == set(HUB_SLUGS)


def test_counts_match_expected(force: pd.DataFrame) -> None:
    ox = force[force[schema.HUB] == "oxfordshire"]
    e = expected_daily("2019-01-01", "2021-12-31", hubs="oxfordshire")
    assert len(ox) == pytest.approx(e["expected"].sum(), rel=0.02)
    # Triage in Oxfordshire from April 2022 cuts police by 15%.
    e2 = expected_daily("2022-03-01", "2022-04-30", hubs="oxfordshire")
    p = e2[e2[schema.SOURCE] == "police"].set_index(schema.DATE)["expected"]
    assert p["2022-04-07"] / p["2022-03-31"] == pytest.approx(0.85, rel=0.01)  # Thursdays


def test_daily_counts_zero_filled(force: pd.DataFrame) -> None:
    d = daily_counts(force, by=(schema.HUB, schema.SOURCE))
    assert list(d.columns) == [schema.HUB, schema.DATE, schema.SOURCE, schema.CONTACTS]
    assert len(d) == 2 * 6 * 1096
    assert d[schema.CONTACTS].sum() == len(force)
    assert (d[schema.CONTACTS] == 0).any()  # education weekends in holidays
    by_hub = daily_counts(force, by=(schema.HUB,))
    assert list(by_hub.columns) == [schema.HUB, schema.DATE, schema.CONTACTS]
    assert len(by_hub) == 2 * 1096


def test_scale_and_default_end() -> None:
    full = expected_daily("2024-01-01", "2024-01-31", hubs="reading")["expected"].sum()
    half = expected_daily("2024-01-01", "2024-01-31", hubs="reading", scale=0.5)
    assert half["expected"].sum() == pytest.approx(full / 2)
    assert default_end(pd.Timestamp("2026-11-24")) == pd.Timestamp("2026-09-30")
    assert default_end(pd.Timestamp("2026-03-31")) == pd.Timestamp("2025-12-31")
    with pytest.raises(ValueError, match="unknown hub"):
        generate_contacts(hubs=["atlantis"], start="2024-01-01", end="2024-01-02")


def test_write_sample(tmp_path) -> None:
    paths = write_sample(
        tmp_path,
        seed=5,
        start="2026-07-01",
        end="2026-09-30",
        record_hubs=("slough", "milton-keynes"),
    )
    assert set(paths) == {
        "contacts_slough",
        "contacts_milton-keynes",
        "daily_counts",
        "contacts_small",
        "population",  # the drivers and establishment: any sample folder is complete
        "housing",
        "establishment",
    }
    got = pd.read_parquet(paths["contacts_slough"])
    want = generate_contacts(5, "2026-07-01", "2026-09-30", hubs="slough")
    assert len(got) == len(want)
    assert got[schema.CONTACT_ID].tolist() == want[schema.CONTACT_ID].tolist()
    assert (got[schema.RECEIVED_AT].to_numpy() == want[schema.RECEIVED_AT].to_numpy()).all()
    assert isinstance(got[schema.SOURCE].dtype, pd.CategoricalDtype)
    counts = pd.read_csv(paths["daily_counts"])
    assert list(counts.columns) == [schema.HUB, schema.DATE, schema.SOURCE, schema.CONTACTS]
    assert counts[schema.HUB].nunique() == 9 and counts[schema.DATE].str.len().eq(10).all()
    small = pd.read_csv(paths["contacts_small"])
    assert len(small) == 2000 and list(small.columns) == list(schema.CONTACT_COLUMNS)
    assert (small[schema.HUB] == "milton-keynes").all()  # the busiest record hub
    assert small[schema.RECEIVED_AT].str.match(r"^2026-09-\d\dT\d\d:\d\d:\d\d$").all()
    assert np.all(
        pd.to_datetime(small[schema.DECIDED_AT]) > pd.to_datetime(small[schema.RECEIVED_AT])
    )


def test_ensure_sample_makes_a_complete_folder_once(tmp_path) -> None:
    """--sample from an install without data/sample (a wheel): the sample is made on first use."""
    import filecmp

    from mashdemand.sample import DRIVER_FILES, ensure_sample

    where = tmp_path / "cache" / "sample"
    got = ensure_sample(where, start="2026-06-01", end="2026-06-30")
    assert got == where
    names = sorted(p.name for p in where.iterdir())
    assert names == sorted(
        [
            "contacts_bracknell-forest.parquet",
            "contacts_milton-keynes.parquet",
            "contacts_slough.parquet",
            "contacts_small.csv",
            "daily_counts.csv",
            *DRIVER_FILES,
        ]
    )
    daily = pd.read_csv(where / "daily_counts.csv")
    assert daily["hub"].nunique() == 9 and daily["date"].max() == "2026-06-30"
    # the drivers are the checkout's data/sample files, byte for byte
    from mashdemand.report.quarterly import CHECKOUT_SAMPLE

    for name in DRIVER_FILES:
        assert filecmp.cmp(where / name, CHECKOUT_SAMPLE / name, shallow=False), name
    stamp = (where / "daily_counts.csv").stat().st_mtime_ns
    assert ensure_sample(where, start="2026-06-01", end="2026-06-30") == where
    assert (where / "daily_counts.csv").stat().st_mtime_ns == stamp  # made once
    assert not [p for p in where.parent.iterdir() if p.name.startswith(".sample-")]


def test_sample_dir_falls_back_to_the_cache_outside_a_checkout(tmp_path, monkeypatch) -> None:
    from mashdemand import sample as sample_mod
    from mashdemand.report import quarterly

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(quarterly, "CHECKOUT_SAMPLE", tmp_path / "no-checkout" / "data" / "sample")
    monkeypatch.setenv(sample_mod.CACHE_ENV, str(tmp_path / "cache"))
    made = []
    real = sample_mod.ensure_sample

    def quick(**kw):
        made.append(kw)
        folder = sample_mod.cache_dir() / "sample-quick"
        return real(folder, start="2026-06-01", end="2026-06-30")

    monkeypatch.setattr(sample_mod, "ensure_sample", quick)
    d = quarterly.sample_dir()
    assert d == tmp_path / "cache" / "sample-quick" and len(made) == 1
    inputs = quarterly.ReportInputs.sample(tmp_path / "store.duckdb")
    assert inputs.population == d / "population.csv" and inputs.counts == d / "daily_counts.csv"
    assert len(inputs.contacts) == 3


@pytest.mark.slow
def test_wheel_ships_the_sample_drivers_but_not_data_sample(tmp_path) -> None:
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(root),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mashdemand-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("data/")]
    for f in ("population.csv", "housing.csv", "establishment.csv"):
        assert f"mashdemand/defaults/sample/{f}" in names


def test_sample_generator_takes_progress():
    kw = {"start": "2024-01-01", "end": "2024-01-03", "hubs": "slough", "scale": 0.2}
    new = generate_contacts(1, progress=True, **kw)
    with pytest.warns(DeprecationWarning, match="use progress="):
        old = generate_contacts(1, show_progress=True, **kw)
    pd.testing.assert_frame_equal(old, new, check_exact=True)

"""A sample nation: ``mashdemand sample --hubs N``, synthetic hubs and cheap daily counts."""

from __future__ import annotations

import stat

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mashdemand import schema
from mashdemand.cli import app
from mashdemand.drivers import read_population
from mashdemand.hubs import HUB_SLUGS, display_name
from mashdemand.sample import (
    PRIORITY_MIX,
    SOURCES,
    SYNTHETIC_POPULATION,
    SampleError,
    expected_daily,
    generate_contacts,
    nation_daily_counts,
    nation_hubs,
    synthetic_hub,
    write_nation,
)

SEED = 11
START, END = "2024-02-01", "2024-02-14"


@pytest.fixture(scope="module")
def nation(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("nation")
    return write_nation(out, 12, seed=SEED, fmt="csv", start=START, end=END)


def test_nation_files_population_and_names(nation: dict) -> None:
    contacts = sorted(k for k in nation if k.startswith("contacts_"))
    assert len(contacts) == 12
    assert contacts[:3] == ["contacts_bracknell-forest", "contacts_buckinghamshire",
                            "contacts_milton-keynes"]  # fmt: skip
    folder = nation["contacts_synthetic-010"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"contacts_{h.slug}.csv" for h in nation_hubs(12)
    )  # the contacts folder holds contact logs only
    for p in [*nation.values(), folder, folder.parent]:
        want = 0o700 if p.is_dir() else 0o600
        assert stat.S_IMODE(p.stat().st_mode) == want, p
    pop = read_population(nation["population"])
    assert sorted(pop[schema.HUB].unique()) == sorted(h.slug for h in nation_hubs(12))
    syn = pop[(pop[schema.HUB] == "synthetic-011") & (pop["year"] == 2023)]
    by_band = syn.set_index("age_band")["population"]
    assert by_band["all"] == synthetic_hub(11, SEED).drivers.population_2023
    assert by_band["0-17"] + by_band["18+"] == by_band["all"]
    hubs = pd.read_csv(nation["hubs"])
    assert hubs["name"].tolist()[-3:] == [
        "Synthetic hub 10",
        "Synthetic hub 11",
        "Synthetic hub 12",
    ]
    assert display_name("synthetic-150") == "Synthetic hub 150"


def test_nation_logs_match_the_generator(nation: dict) -> None:
    got = pd.read_csv(nation["contacts_synthetic-012"])
    want = generate_contacts(SEED, START, END, hubs="synthetic-012")
    assert len(got) == len(want) > 100
    assert got[schema.CONTACT_ID].tolist() == want[schema.CONTACT_ID].tolist()
    assert got[schema.CONTACT_ID].str.match(r"^S012-2024-\d{7}$").all()
    assert (got[schema.HUB] == "synthetic-012").all()
    # The Thames Valley hubs are the sample force's own.
    tv = pd.read_csv(nation["contacts_slough"])
    assert tv[schema.CONTACT_ID].tolist() == (
        generate_contacts(SEED, START, END, hubs="slough")[schema.CONTACT_ID].tolist()
    )


def test_nation_is_deterministic_and_seeded(tmp_path, nation: dict) -> None:
    again = write_nation(tmp_path / "a", 12, seed=SEED, fmt="csv", start=START, end=END)
    for key in ("contacts_synthetic-010", "contacts_reading", "population", "hubs"):
        assert again[key].read_bytes() == nation[key].read_bytes(), key
    other = write_nation(tmp_path / "b", 10, seed=SEED + 1, fmt="csv", start=START, end=END)
    assert (
        other["contacts_synthetic-010"].read_bytes()
        != nation["contacts_synthetic-010"].read_bytes()
    )
    # A synthetic hub is the same whatever the size of the nation.
    assert synthetic_hub(10, SEED) == nation_hubs(150, SEED)[9]


def test_synthetic_hubs_vary_in_size_and_growth() -> None:
    hubs = nation_hubs(150, seed=3)[9:]
    pop = np.array([h.drivers.population_2023 for h in hubs])
    growth = np.array([h.drivers.population_2023 / h.drivers.population_2017 for h in hubs])
    assert len(hubs) == 141 and len({h.prefix for h in hubs}) == 141
    assert SYNTHETIC_POPULATION[0] <= pop.min() and pop.max() <= SYNTHETIC_POPULATION[1]
    assert pop.max() / pop.min() > 5  # varied sizes (log-uniform over a factor of 10)
    # log-uniform: about half below the geometric mean of the range (126,491)
    assert 0.35 < np.mean(pop < np.sqrt(np.prod(SYNTHETIC_POPULATION))) < 0.65
    assert growth.min() < 1.0 < growth.max()  # some shrink, most grow
    assert [h.slug for h in nation_hubs(4)] == list(HUB_SLUGS[:4])
    with pytest.raises(SampleError, match="at least 1"):
        nation_hubs(0)


def test_nation_parquet_and_csv_same_rows(tmp_path, nation: dict) -> None:
    pq = write_nation(tmp_path, 12, seed=SEED, fmt="parquet", start=START, end=END)
    a = pd.read_parquet(pq["contacts_synthetic-011"])
    b = pd.read_csv(nation["contacts_synthetic-011"])
    assert a[schema.CONTACT_ID].tolist() == b[schema.CONTACT_ID].tolist()
    assert (a[schema.RECEIVED_AT].dt.strftime("%Y-%m-%dT%H:%M:%S") == b[schema.RECEIVED_AT]).all()


def test_cli_sample_hubs(tmp_path) -> None:
    r = CliRunner().invoke(
        app,
        ["sample", "--hubs", "11", "--out", str(tmp_path), "--format", "parquet",
         "--start", START, "--end", END],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "contacts").iterdir())
    assert len(files) == 11 and all(p.suffix == ".parquet" for p in files)
    assert (tmp_path / "population.csv").exists() and (tmp_path / "hubs.csv").exists()
    bad = CliRunner().invoke(app, ["sample", "--hubs", "11", "--format", "xlsx", "--out", "x"])
    assert bad.exit_code == 2 and "--format must be one of csv, parquet" in bad.output
    bad = CliRunner().invoke(app, ["sample", "--format", "csv", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--format needs --hubs" in bad.output


def test_nation_daily_counts_shape_determinism_and_means() -> None:
    d = nation_daily_counts(12, seed=SEED, start="2023-01-01", end="2023-12-31", expected=True)
    assert list(d.columns) == [
        schema.HUB,
        schema.DATE,
        schema.PRIORITY,
        schema.CONTACTS,
        "expected",
    ]
    assert len(d) == 12 * 4 * 365
    assert d.groupby([schema.HUB, schema.PRIORITY]).size().eq(365).all()
    assert d[schema.CONTACTS].dtype == np.int64 and (d[schema.CONTACTS] >= 0).all()
    again = nation_daily_counts(12, seed=SEED, start="2023-01-01", end="2023-12-31")
    assert again[schema.CONTACTS].equals(d[schema.CONTACTS])
    other = nation_daily_counts(12, seed=SEED + 1, start="2023-01-01", end="2023-12-31")
    assert not other[schema.CONTACTS].equals(d[schema.CONTACTS])
    # The expected counts are the records' expected counts split by the priority mix.
    e = expected_daily("2023-01-01", "2023-12-31", hubs="synthetic-010", seed=SEED)
    mix = pd.DataFrame(PRIORITY_MIX, index=schema.PRIORITIES)[list(SOURCES)]
    by_src = e.pivot(index=schema.DATE, columns=schema.SOURCE, values="expected")[list(SOURCES)]
    want = by_src.to_numpy() @ mix.to_numpy().T  # (days, priorities)
    got = d[d[schema.HUB] == "synthetic-010"].pivot(
        index=schema.DATE, columns=schema.PRIORITY, values="expected"
    )[list(schema.PRIORITIES)]
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12)
    # Yearly totals within a few percent of the means (negative binomial, CV ~16% a day).
    totals = d.groupby(schema.HUB)[[schema.CONTACTS, "expected"]].sum()
    ratio = totals[schema.CONTACTS] / totals["expected"]
    assert ratio.between(0.97, 1.03).all(), ratio
    share = d.groupby(schema.PRIORITY)[schema.CONTACTS].sum() / d[schema.CONTACTS].sum()
    assert 0.75 < share["standard"] < 0.82 and 0.01 < share["urgent"] < 0.03


def test_nation_refuses_a_contacts_folder_with_other_files(tmp_path) -> None:
    write_nation(tmp_path, 11, seed=SEED, fmt="csv", start=START, end=END)
    write_nation(tmp_path, 11, seed=SEED, fmt="csv", start=START, end=END)  # same files: fine
    with pytest.raises(SampleError, match=r"contacts_synthetic-011\.csv\); choose an empty"):
        write_nation(tmp_path, 10, seed=SEED, fmt="csv", start=START, end=END)
    with pytest.raises(SampleError, match="holds files this nation does not write"):
        write_nation(tmp_path, 11, seed=SEED, fmt="parquet", start=START, end=END)

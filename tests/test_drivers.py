"""Tests for mashdemand.drivers and the committed data/sample driver files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mashdemand import drivers
from mashdemand.hubs import HUB_SLUGS, TVP_HUBS
from mashdemand.schema import SchemaError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def pop() -> pd.DataFrame:
    return drivers.read_population(SAMPLE / "population.csv")


@pytest.fixture(scope="module")
def housing() -> pd.DataFrame:
    return drivers.read_housing(SAMPLE / "housing.csv")


def _value(
    pop: pd.DataFrame, hub: str, year: int, band: str, kind: str, variant: str = "principal"
):
    row = pop.query(
        "hub == @hub and year == @year and age_band == @band and kind == @kind "
        "and variant == @variant"
    )
    assert len(row) == 1, (hub, year, band, kind, variant)
    return float(row["population"].iloc[0])


# --- committed sample files ---------------------------------------------------------------
def test_sample_population_reads_and_covers_every_hub(pop):
    assert set(pop["hub"]) == set(HUB_SLUGS)
    est = pop[pop["kind"] == "estimate"]
    for hub in HUB_SLUGS:
        years = est[(est["hub"] == hub) & (est["age_band"] == "all")]["year"]
        assert (years.min(), years.max()) == (2001, 2023)
        child = est[(est["hub"] == hub) & (est["age_band"] == "0-17")]["year"]
        assert (child.min(), child.max()) == (2012, 2024)
    # Estimates are written with a blank variant, read back as principal.
    assert set(est["variant"]) == {"principal"}


def test_known_values(pop):
    assert _value(pop, "oxfordshire", 2023, "all", "estimate") == 750_230
    assert _value(pop, "milton-keynes", 2023, "all", "estimate") == 298_270
    assert _value(pop, "buckinghamshire", 2023, "all", "estimate") == 566_694
    # Buckinghamshire's child rows switch code (E10000002 -> E06000060) in 2020.
    assert _value(pop, "buckinghamshire", 2019, "0-17", "estimate") == 122_137
    assert _value(pop, "buckinghamshire", 2020, "0-17", "estimate") == 122_495


def test_oxfordshire_is_sum_of_districts_in_ons_file(pop):
    path = SHARED / "ons_population_all_ages_2001_2023.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    raw = pd.read_csv(path, dtype={"LA Code": str})
    ox = next(h for h in TVP_HUBS if h.slug == "oxfordshire")
    districts = raw[raw["LA Code"].isin(ox.district_codes)]
    assert len(districts) == 5
    expected = pd.to_numeric(districts["2023"]).sum()
    assert _value(pop, "oxfordshire", 2023, "all", "estimate") == expected


@pytest.mark.parametrize("variant", ["low", "principal", "high"])
def test_bands_add_up(pop, variant):
    frame = drivers.population_for_years(pop, range(2012, 2031), variant)
    wide = frame.pivot_table(index=["hub", "year"], columns="age_band", values="population")
    assert len(wide) == 9 * 19
    assert wide.notna().all().all()
    assert (wide["0-17"] + wide["18+"] == wide["all"]).all()


def test_child_share_is_plausible(pop):
    frame = drivers.population_for_years(pop, [2023])
    wide = frame.pivot_table(index="hub", columns="age_band", values="population")
    share = wide["0-17"] / wide["all"]
    assert share.between(0.19, 0.29).all(), share


def test_projections_continue_from_last_estimate(pop):
    for (hub, band, variant), grp in pop[pop["kind"] == "projection"].groupby(
        ["hub", "age_band", "variant"]
    ):
        est = pop[(pop["hub"] == hub) & (pop["age_band"] == band) & (pop["kind"] == "estimate")]
        last = est.loc[est["year"].idxmax()]
        first = grp.loc[grp["year"].idxmin()]
        assert first["year"] == last["year"] + 1, (hub, band, variant)
        assert grp["year"].max() == 2030
        # Principal within 3 %; high is 1.5x the principal growth (Wokingham 0-17: 3.3 %).
        tolerance = 0.03 if variant == "principal" else 0.04
        assert abs(first["population"] / last["population"] - 1) < tolerance, (hub, band, variant)


def test_variants_are_ordered_in_every_projected_year(pop):
    proj = pop[pop["kind"] == "projection"]
    wide = proj.pivot_table(
        index=["hub", "age_band", "year"], columns="variant", values="population"
    )
    assert wide.notna().all().all()
    assert (wide["low"] <= wide["principal"]).all()
    assert (wide["principal"] <= wide["high"]).all()
    # The gap widens with the horizon for growing hubs.
    ox = wide.loc[("oxfordshire", "all")]
    gap = ox["high"] - ox["low"]
    assert gap.is_monotonic_increasing and gap.iloc[-1] > gap.iloc[0]


def test_population_index(pop):
    s = drivers.population_index(pop, "reading", "all", "high")
    assert s.index.min() == 2001 and s.index.max() == 2030
    assert s.loc[2023] == 178_196
    assert s.loc[2030] == _value(pop, "reading", 2030, "all", "projection", "high")
    with pytest.raises(SchemaError, match="no rows for hub 'nowhere'"):
        drivers.population_index(pop, "nowhere")


def test_population_for_years_outside_coverage(pop):
    with pytest.raises(SchemaError, match="2031"):
        drivers.population_for_years(pop, [2030, 2031])
    got = drivers.population_for_years(pop, [2031], fill="nearest").query("hub == 'slough'")
    assert set(got["kind"]) == {"extrapolated"}
    assert got.query("age_band == 'all'")["population"].iloc[0] == _value(
        pop, "slough", 2030, "all", "projection"
    )


def test_housing_covers_every_hub(housing):
    assert set(housing["hub"]) == set(HUB_SLUGS)
    for hub, grp in housing.groupby("hub"):
        actual = sorted(grp[grp["kind"] == "actual"]["year"])
        planned = sorted(grp[grp["kind"] == "planned"]["year"])
        assert actual == list(range(2001, 2024)), hub
        assert planned == list(range(2024, 2031)), hub


def test_housing_values(housing):
    h = housing.set_index(["hub", "kind", "year"])["net_additional_dwellings"]
    # Oxfordshire 2022-23 = sum of its five districts (1322+415+1280+1338+740).
    assert h[("oxfordshire", "actual", 2022)] == 5095
    # Buckinghamshire: county row to 2019-20, unitary row from 2020-21.
    assert h[("buckinghamshire", "actual", 2019)] == 2323
    assert h[("buckinghamshire", "actual", 2020)] == 2031
    # Arc baseline increments (sum of district 2007-2017 averages).
    assert h[("oxfordshire", "planned", 2030)] == 570 + 274 + 467 + 639 + 409
    assert h[("buckinghamshire", "planned", 2024)] == 949 + 495 + 179 + 224
    assert h[("milton-keynes", "planned", 2027)] == 1495
    # Berkshire: mean of the last five actual years, held flat.
    reading = [h[("reading", "actual", y)] for y in range(2019, 2024)]
    assert h[("reading", "planned", 2028)] == round(sum(reading) / 5)


def test_housing_for_years_prefers_actual(housing):
    got = drivers.housing_for_years(housing, [2023, 2024]).query("hub == 'wokingham'")
    assert got["kind"].tolist() == ["actual", "planned"]


# --- readers on hand-made files -----------------------------------------------------------
def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_population_normalises(tmp_path):
    path = _write(
        tmp_path,
        "pop.csv",
        "hub,year,age_band,population,kind\n"
        'Reading ,2023,All ages,"178,196",Estimate\n'
        "reading,2023,0 to 17,38261,estimate\n"
        "reading,2023,Adults,139935,estimate\n",
    )
    got = drivers.read_population(path).set_index("age_band")
    assert got.loc["all", "population"] == 178_196
    assert set(got.index) == {"0-17", "18+", "all"}
    assert set(got["variant"]) == {"principal"} and set(got["hub"]) == {"reading"}


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        ("reading,2023,all,lots,estimate,\n", 1, "population"),
        ("reading,2023,all,1,estimate,\nreading,2023,teens,1,estimate,\n", 2, "age_band"),
        ("reading,2023,all,1,guess,\n", 1, "kind"),
        ("reading,2023,all,1,projection,central\n", 1, "variant"),
        ("reading,twenty,all,1,estimate,\n", 1, "year"),
        ("reading,2023,all,-5,estimate,\n", 1, "population"),
        (",2023,all,1,estimate,\n", 1, "hub"),
    ],
)
def test_read_population_errors_name_file_row_column(tmp_path, body, row, column):
    path = _write(tmp_path, "bad_pop.csv", "hub,year,age_band,population,kind,variant\n" + body)
    with pytest.raises(SchemaError) as err:
        drivers.read_population(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert "bad_pop.csv" in msg and f"row {row}" in msg and f"column {column}" in msg


def test_read_population_missing_column_and_duplicates(tmp_path):
    path = _write(tmp_path, "nopop.csv", "hub,year,age_band,kind\nreading,2023,all,estimate\n")
    with pytest.raises(
        SchemaError, match=r"nopop\.csv: population: missing column\(s\) population"
    ):
        drivers.read_population(path)
    path = _write(
        tmp_path,
        "dup.csv",
        "hub,year,age_band,population,kind\nreading,2023,all,1,estimate\n"
        "reading,2023,all,2,estimate\n",
    )
    with pytest.raises(SchemaError, match=r"dup\.csv: row 2: duplicates row 1"):
        drivers.read_population(path)


def test_read_housing_errors_name_file_row_column(tmp_path):
    head = "hub,year,net_additional_dwellings,kind\n"
    ok = _write(tmp_path, "ok.csv", head + "reading,2023,-12,actual\nreading,2024,700,Planned\n")
    got = drivers.read_housing(ok)
    assert got["net_additional_dwellings"].tolist() == [-12.0, 700.0]
    assert got["kind"].tolist() == ["actual", "planned"]
    bad = _write(
        tmp_path, "bad_housing.csv", head + "reading,2023,10,actual\nreading,2024,?,actual\n"
    )
    with pytest.raises(
        SchemaError, match=r"bad_housing\.csv: row 2, column net_additional_dwellings"
    ):
        drivers.read_housing(bad)
    bad = _write(tmp_path, "bad_kind.csv", head + "reading,2023,10,estimate\n")
    with pytest.raises(SchemaError, match=r"bad_kind\.csv: row 1, column kind"):
        drivers.read_housing(bad)


def test_project_population_negative_trend_keeps_order():
    est = pd.DataFrame(
        {
            "hub": "a",
            "year": range(2018, 2024),
            "age_band": "all",
            "population": [1000.0, 990, 980, 970, 960, 950],
            "kind": "estimate",
            "variant": "",
        }
    )
    proj = drivers.project_population(est, 2030).pivot_table(
        index="year", columns="variant", values="population"
    )
    assert (proj["low"] <= proj["principal"]).all() and (proj["principal"] <= proj["high"]).all()
    assert proj.loc[2030, "principal"] < 950


def test_population_without_variant_column_is_principal():
    """``variant`` is optional in CONTRACTS.md section 3; without it every row is principal."""
    import pandas as pd

    from mashdemand.drivers import population_for_years

    pop = pd.DataFrame(
        {
            "hub": "x",
            "year": [2020, 2021],
            "age_band": "0-17",
            "population": [100.0, 110.0],
            "kind": "estimate",
        }
    )
    out = population_for_years(pop, [2020, 2021])
    assert out["population"].tolist() == [100.0, 110.0]

"""Build ``data/sample/population.csv``, ``housing.csv`` and ``SOURCES.md`` from public files.

Run from the repository root::

    python scripts/build_drivers.py --shared ../shared/data --out data/sample

Inputs (read-only, described in ``<shared>/SOURCES.md``):

- ``ons_population_all_ages_2001_2023.csv``: ONS mid-year estimates, all ages, by LA
  (April 2023 geography: Buckinghamshire is already E06000060 for every year).
- ``ons_child_population_2012_2024.csv``: ONS 0-17 estimates repackaged by DfE; Buckinghamshire
  is ``new_la_code`` E10000002 (county) to 2019 and E06000060 (unitary) from 2020, same
  ``old_la_code`` 825, so it is matched on both codes.
- ``mhclg_net_additional_dwellings_2001_2023.csv``: MHCLG Live Table 122 (cleaned), financial
  year columns labelled by their first year; pandas index column, blank and footer rows.
- ``oxcam_arc_dwellings_baseline.xlsx``: Oxford-Cambridge Arc dwelling stock baseline.

All derivation lives here or in :mod:`mashdemand.drivers`; nothing is edited by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import openpyxl
import pandas as pd

from mashdemand import drivers
from mashdemand.hubs import TVP_HUBS, Hub
from mashdemand.schema import (
    AGE_BAND,
    HUB,
    KIND,
    NET_ADDITIONAL_DWELLINGS,
    POPULATION,
    VARIANT,
    YEAR,
)

POP_ALL_FILE = "ons_population_all_ages_2001_2023.csv"
POP_CHILD_FILE = "ons_child_population_2012_2024.csv"
HOUSING_FILE = "mhclg_net_additional_dwellings_2001_2023.csv"
ARC_FILE = "oxcam_arc_dwellings_baseline.xlsx"
ARC_SHEET = "Projection dwelling baseline"

END_YEAR = 2030
WINDOW = 5  # years of trend for growth rates and for the Berkshire planned-housing mean
SPREAD = 0.5  # low/high growth = principal -/+ 50 %
HOUSING_WEIGHT = 0.5

# District names as they appear in the Arc workbook, per hub.
ARC_DISTRICTS: dict[str, tuple[str, ...]] = {
    "oxfordshire": (
        "Cherwell",
        "Oxford",
        "South Oxfordshire",
        "Vale of White Horse",
        "West Oxfordshire",
    ),
    "buckinghamshire": ("Aylesbury Vale", "Wycombe", "Chiltern", "South Bucks"),
    "milton-keynes": ("Milton Keynes",),
}

# Expected ranges [persons] for the sanity check (ONS mid-2023, rounded generously).
SANE_2023_ALL: dict[str, tuple[int, int]] = {
    "oxfordshire": (700_000, 780_000),
    "milton-keynes": (280_000, 310_000),
    "buckinghamshire": (540_000, 590_000),
    "reading": (160_000, 190_000),
}


def _codes(hub: Hub) -> tuple[str, ...]:
    return (hub.code, *hub.former_codes, *hub.district_codes)


def load_all_ages(shared: Path) -> pd.DataFrame:
    """All-ages estimates per hub 2001-2023 [persons]: LA row, or sum of districts."""
    raw = pd.read_csv(shared / POP_ALL_FILE, dtype=str, keep_default_na=False)
    code_col = "LA Code"
    years = [c for c in raw.columns if c.isdigit()]
    rows = []
    for hub in TVP_HUBS:
        own = raw[raw[code_col] == hub.code]
        parts = own if len(own) else raw[raw[code_col].isin(hub.district_codes)]
        want = 1 if len(own) else len(hub.district_codes)
        if len(parts) != want:
            raise SystemExit(f"{POP_ALL_FILE}: expected {want} row(s) for {hub.name}")
        values = parts[years].apply(pd.to_numeric, errors="raise").sum()
        rows += [
            {HUB: hub.slug, YEAR: int(y), AGE_BAND: "all", POPULATION: float(v)}
            for y, v in values.items()
        ]
    return pd.DataFrame(rows)


def load_children(shared: Path) -> pd.DataFrame:
    """0-17 estimates per hub 2012-2024 [persons], matching current and former LA codes."""
    raw = pd.read_csv(shared / POP_CHILD_FILE, dtype=str, keep_default_na=False)
    raw = raw[raw["geographic_level"] == "Local authority"]
    rows = []
    for hub in TVP_HUBS:
        match = raw[raw["new_la_code"].isin((hub.code, *hub.former_codes))]
        if match.empty or match["time_period"].duplicated().any():
            raise SystemExit(f"{POP_CHILD_FILE}: no unique yearly rows for {hub.name}")
        rows += [
            {
                HUB: hub.slug,
                YEAR: int(r.time_period),
                AGE_BAND: "0-17",
                POPULATION: float(r.population_estimate),
            }
            for r in match.itertuples()
        ]
    return pd.DataFrame(rows)


def load_housing_actual(shared: Path) -> pd.DataFrame:
    """Net additional dwellings per hub, financial years 2001-02 .. [dwellings/year].

    ``year`` is the first calendar year of the financial year. Oxfordshire is the sum of its
    five districts (checked against the county row); Buckinghamshire is the county row
    E10000002 to 2019-20 (checked against its four districts) and the unitary E06000060 after.
    Values are rounded to whole dwellings (the cleaned file carries fractional adjustments).
    """
    raw = pd.read_csv(shared / HOUSING_FILE, dtype=str, keep_default_na=False, index_col=0)
    raw = raw[raw["LA code"].str.strip() != ""]  # drops blank and footer rows
    years = [c for c in raw.columns if c.strip().isdigit()]
    table = raw.set_index("LA code")[years].apply(pd.to_numeric, errors="coerce")
    rows = []
    for hub in TVP_HUBS:
        if hub.slug == "buckinghamshire":
            county = table.loc[hub.former_codes[0]]
            districts = table.loc[list(hub.district_codes)].sum(min_count=4)
            gap = (county - districts).abs().dropna()
            if (gap > 1).any():
                raise SystemExit(f"{HOUSING_FILE}: Buckinghamshire county != sum of districts")
            values = county.fillna(table.loc[hub.code])
        elif hub.district_codes:
            values = table.loc[list(hub.district_codes)].sum(min_count=len(hub.district_codes))
            if ((values - table.loc[hub.code]).abs() > 1).any():
                raise SystemExit(f"{HOUSING_FILE}: {hub.name} county != sum of districts")
        else:
            values = table.loc[hub.code]
        if values.isna().any():
            raise SystemExit(f"{HOUSING_FILE}: gaps for {hub.name}: {values[values.isna()]}")
        rows += [
            {HUB: hub.slug, YEAR: int(y), NET_ADDITIONAL_DWELLINGS: float(round(v)), KIND: "actual"}
            for y, v in values.items()
        ]
    return pd.DataFrame(rows)


def load_arc_increments(shared: Path) -> dict[str, pd.Series]:
    """Year-on-year dwelling stock increments per Arc hub [dwellings/year], by calendar year."""
    wb = openpyxl.load_workbook(shared / ARC_FILE, data_only=True, read_only=True)
    ws = wb[ARC_SHEET]
    header: list | None = None
    stock: dict[str, pd.Series] = {}
    for row in ws.iter_rows(values_only=True):
        if row and row[0] == "Area Name" and header is None:
            header = list(row)
        elif header and row and isinstance(row[0], str):
            pairs = [
                (int(y), v)
                for y, v in zip(header[1:], row[1:], strict=False)
                if isinstance(y, int) and isinstance(v, int | float)
            ]
            stock.setdefault(row[0].strip(), pd.Series(dict(pairs), dtype=float))
    wb.close()
    out = {}
    for slug, names in ARC_DISTRICTS.items():
        missing = [n for n in names if n not in stock]
        if missing:
            raise SystemExit(f"{ARC_FILE}: sheet {ARC_SHEET!r} lacks {', '.join(missing)}")
        total = sum(stock[n] for n in names)
        out[slug] = total.diff().dropna()
    return out


def plan_housing(actual: pd.DataFrame, arc: dict[str, pd.Series]) -> pd.DataFrame:
    """Planned net additions for the year after the last actual .. END_YEAR [dwellings/year].

    Arc hubs: the Arc baseline's stock increment for that year. Others: mean of the last
    ``WINDOW`` actual years, held flat.
    """
    rows = []
    for hub, grp in actual.groupby(HUB, sort=False):
        grp = grp.sort_values(YEAR)
        years = range(int(grp[YEAR].max()) + 1, END_YEAR + 1)
        if hub in arc:
            values = [float(round(arc[hub][y])) for y in years]
        else:
            mean = grp[NET_ADDITIONAL_DWELLINGS].tail(WINDOW).mean()
            values = [float(round(mean))] * len(years)
        rows += [
            {HUB: hub, YEAR: y, NET_ADDITIONAL_DWELLINGS: v, KIND: "planned"}
            for y, v in zip(years, values, strict=True)
        ]
    return pd.DataFrame(rows)


def build(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (population, housing) frames in the CONTRACTS.md section-3 layout."""
    est = pd.concat([load_all_ages(shared), load_children(shared)], ignore_index=True)
    est[KIND], est[VARIANT] = "estimate", ""
    est = drivers.add_adult_band(est)
    actual = load_housing_actual(shared)
    housing = pd.concat([actual, plan_housing(actual, load_arc_increments(shared))])
    housing = housing.sort_values([HUB, YEAR], ignore_index=True)
    proj = drivers.project_population(
        est,
        END_YEAR,
        window=WINDOW,
        spread=SPREAD,
        housing=housing,
        housing_weight=HOUSING_WEIGHT,
    )
    pop = pd.concat([est, proj], ignore_index=True)
    pop[YEAR] = pop[YEAR].astype(int)
    pop[POPULATION] = pop[POPULATION].round().astype(int)
    order = {s: i for i, s in enumerate(h.slug for h in TVP_HUBS)}
    pop = pop.sort_values(
        [HUB, AGE_BAND, KIND, VARIANT, YEAR],
        key=lambda c: c.map(order) if c.name == HUB else c,
        ignore_index=True,
    )
    housing[NET_ADDITIONAL_DWELLINGS] = housing[NET_ADDITIONAL_DWELLINGS].astype(int)
    housing = housing.sort_values(
        [HUB, YEAR], key=lambda c: c.map(order) if c.name == HUB else c, ignore_index=True
    )
    return pop[list(drivers.POPULATION_COLUMNS)], housing[list(drivers.HOUSING_COLUMNS)]


def check(pop: pd.DataFrame, housing: pd.DataFrame) -> list[str]:
    """Sanity checks; return the problems found (empty when sane)."""
    problems = []
    a23 = drivers.summarise_population(pop, 2023, "all")
    for slug, (lo, hi) in SANE_2023_ALL.items():
        if not lo <= a23[slug] <= hi:
            problems.append(f"{slug} 2023 all ages {a23[slug]:,.0f} outside {lo:,}-{hi:,}")
    share = drivers.summarise_population(pop, 2023, "0-17") / a23
    for slug, s in share.items():
        if not 0.18 <= s <= 0.30:
            problems.append(f"{slug} 2023 child share {s:.1%} outside 18-30%")
    for slug in a23.index:
        n = housing[(housing[HUB] == slug)].groupby(KIND)[YEAR].max()
        if n.get("planned") != END_YEAR:
            problems.append(f"{slug}: planned housing does not reach {END_YEAR}")
    return problems


# (file, publisher, repository, path, commit, licence) as in ../shared/data/SOURCES.md
INPUTS: tuple[tuple[str, ...], ...] = (
    (
        POP_ALL_FILE,
        "ONS mid-year population estimates",
        "thicknavyrain/EnW_housing_demand_forecast",
        "processed_data/population.csv",
        "26554cfa7f74aa1615cb9fad1af475104182b552",
        "Not stated in the repository",
    ),
    (
        POP_CHILD_FILE,
        "ONS mid-year estimates of children aged 0-17, layout by DfE",
        "dfe-analytical-services/CSC_outcomes_and_enablers",
        "data-raw/ons_mid-year_population_estimates_2012_to_2024.csv",
        "2f5d11a431050523dab58810083259d3313029ae",
        "Not stated in the repository (its MIT LICENSE covers code)",
    ),
    (
        HOUSING_FILE,
        "MHCLG (DLUHC) Live Table 122, net additional dwellings, cleaned by the repository author",
        "thicknavyrain/EnW_housing_demand_forecast",
        "processed_data/net_additional_dwellings_cleaned.csv",
        "799b110e8fcd90b11cb3c40b312afb6456aaf45e",
        "Not stated in the repository (no LICENSE file)",
    ),
    (
        ARC_FILE,
        "Compiled by Adrian Hickford (ITRC Mistral, Universities of Southampton and Oxford) "
        "from MHCLG Live Tables 122 and 125",
        "nismod/arc-dwellings",
        "data_as_provided/Scenario Baseline - Dwelling+Employment projections.xlsx",
        "266981c9bfaae641c1140ab2e06fd4ac271dd241",
        'Repository LICENSE is MIT ("arc-dwellings contributors"); no separate data licence',
    ),
)


def _inputs_table() -> str:
    lines = [
        "| Input file | Publisher | Taken from (repository, path, commit) | Licence |",
        "|---|---|---|---|",
    ]
    for file, publisher, repo, path, commit, licence in INPUTS:
        lines.append(
            f"| `{file}` | {publisher} | `{repo}`, `{path}`, commit `{commit}` | {licence} |"
        )
    return "\n".join(lines)


SOURCES_MD = """# Sources for `population.csv` and `housing.csv`

Built by `python scripts/build_drivers.py --shared ../shared/data --out data/sample` from the
read-only copies in `../shared/data` (their provenance, commits and checksums are in
`../shared/data/SOURCES.md`). Nothing is edited by hand. Layout: CONTRACTS.md section 3.

## Inputs

{inputs_table}

ONS, DfE and MHCLG statistics are normally published under the Open Government Licence v3.0
(contains public sector information licensed under the OGL v3.0). The repositories above do
not say so; this note records the publishers' usual terms, not a statement by the repositories.

## Hubs

Nine Thames Valley hubs (`mashdemand/hubs.py`): six Berkshire unitaries (Bracknell Forest
E06000036, West Berkshire E06000037, Reading E06000038, Slough E06000039, Windsor and
Maidenhead E06000040, Wokingham E06000041), Milton Keynes E06000042, Buckinghamshire
E06000060 (formerly county E10000002 with districts E07000004-E07000007) and Oxfordshire
(county E10000025, districts E07000177-E07000181).

## `population.csv` ({pop_rows} rows)

`hub, year, age_band, population, kind, variant` [persons, mid-year, whole persons].

- `all`, `estimate`, 2001-2023: the all-ages file's row for the hub's code. The file uses
  April 2023 geography, so Buckinghamshire is E06000060 for every year. Oxfordshire is the
  sum of its five districts (Cherwell, Oxford, South Oxfordshire, Vale of White Horse, West
  Oxfordshire).
- `0-17`, `estimate`, 2012-2024: the child file's local-authority row. `time_period` (a DfE
  "reporting year") is taken as the mid-year of the estimate. Buckinghamshire is matched on
  `new_la_code` E10000002 for 2012-2019 and E06000060 for 2020-2024 (same `old_la_code` 825).
- `18+`, `estimate`, 2012-2023: `all - 0-17`, for the years both exist.
- `variant` is blank on estimates: they are common to every variant (readers fill
  `principal`).
- `projection`, {proj_span}, variants `low`, `principal`, `high`
  (`mashdemand.drivers.project_population`, window {window} years, spread {spread},
  housing weight {weight}):
  1. Trend: compound annual growth rate of each band (`0-17` and `18+` separately) over its
     last {window} estimated years.
  2. Housing: factor `h` = mean planned net additions {plan_span} / mean of the last {window}
     actual years (clipped to 0.5-1.5); principal rate = `r + {weight} * (h - 1) * |r|`.
     For the Berkshire hubs `h` is 1 by construction (planned = recent mean), so their
     principal is the pure trend. For the three Arc hubs the Arc baseline is below recent
     delivery (see housing below), so `h` < 1 damps their principal growth to
     `1 + {weight} * (h - 1)` of the trend. Factors used: {factors}.
  3. Variants bracket the principal, after ONS practice: low = principal growth
     `- {spread} * |rate|`, high = `+ {spread} * |rate|` (half and 1.5 times the principal
     growth when it is positive). Compounding widens the gap with the horizon.
  4. Each band continues from its own last estimate (`0-17` from 2024, `18+` from 2023),
     rounded to whole persons; `all` from 2024 = `0-17` + `18+` (the 2024 `0-17` is the
     estimate), so the bands add up exactly in every year.

## `housing.csv` ({housing_rows} rows)

`hub, year, net_additional_dwellings, kind` [dwellings/year, whole dwellings].

- `actual`, {actual_span}: MHCLG Live Table 122. The file's year columns are financial
  years labelled by their first year, so `year` 2001 means 2001-02 (April 2001 to March
  2002); `year` here is that first calendar year. The file has 23 year columns, "2001" to
  "2023"; its England "2023" value (221,071) matches the published 2023-24 figure, so the
  last year is 2023-24, although its footer says "Latest update 24/11/2023". Values in the
  cleaned file are fractional (the repository author's adjustments) and are rounded here.
  Oxfordshire = sum of its five districts (equal to the county row E10000025 within 1
  dwelling). Buckinghamshire = county row E10000002 for 2001-2019 (equal to the sum of its
  four districts) and unitary row E06000060 for 2020-2023.
- `planned`, {plan_span}:
  - Oxfordshire, Buckinghamshire, Milton Keynes: the Oxford-Cambridge Arc baseline
    (sheet "{arc_sheet}"), year-on-year increment of projected dwelling stock, summed over
    the hub's districts (Buckinghamshire: Aylesbury Vale, Wycombe, Chiltern, South Bucks).
    The baseline projects each district's 2007-2017 average annual additions forward, so the
    increments are constant: Oxfordshire {arc_ox}, Buckinghamshire {arc_bu}, Milton Keynes
    {arc_mk} a year. These are below recent delivery (last {window} actual years:
    Oxfordshire {act_ox}, Buckinghamshire {act_bu}, Milton Keynes {act_mk} a year on average).
  - The six Berkshire unitaries (outside the Arc): the mean of the last {window} actual
    years ({last_actual_span}), held flat; this is an assumption, not a published plan.
"""


def write_sources(out: Path, pop: pd.DataFrame, housing: pd.DataFrame) -> None:
    proj = pop[pop[KIND] == "projection"]
    planned = housing[housing[KIND] == "planned"]
    actual = housing[housing[KIND] == "actual"]
    last = int(actual[YEAR].max())

    def mean(frame: pd.DataFrame, hub: str) -> str:
        return f"{frame[frame[HUB] == hub][NET_ADDITIONAL_DWELLINGS].mean():,.0f}"

    recent = actual[actual[YEAR] > last - WINDOW]
    factors = ", ".join(
        f"{h.name} {drivers.housing_factor(housing, h.slug, WINDOW):.2f}" for h in TVP_HUBS
    )
    text = SOURCES_MD.format(
        inputs_table=_inputs_table(),
        pop_rows=f"{len(pop):,}",
        housing_rows=f"{len(housing):,}",
        proj_span=f"{proj[YEAR].min()}-{proj[YEAR].max()}",
        plan_span=f"{planned[YEAR].min()}-{planned[YEAR].max()}",
        actual_span=f"{actual[YEAR].min()}-{last} ({actual[YEAR].min()}-"
        f"{str(actual[YEAR].min() + 1)[2:]} to {last}-{str(last + 1)[2:]})",
        last_actual_span=f"{last - WINDOW + 1}-{last}",
        window=WINDOW,
        spread=SPREAD,
        weight=HOUSING_WEIGHT,
        factors=factors,
        arc_sheet=ARC_SHEET,
        arc_ox=mean(planned, "oxfordshire"),
        arc_bu=mean(planned, "buckinghamshire"),
        arc_mk=mean(planned, "milton-keynes"),
        act_ox=mean(recent, "oxfordshire"),
        act_bu=mean(recent, "buckinghamshire"),
        act_mk=mean(recent, "milton-keynes"),
    )
    (out / "SOURCES.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path("../shared/data"),
        help="folder with the read-only public files",
    )
    parser.add_argument("--out", type=Path, default=Path("data/sample"), help="output folder")
    args = parser.parse_args(argv)
    pop, housing = build(args.shared)
    problems = check(pop, housing)
    if problems:
        print("sanity check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    pop.to_csv(args.out / "population.csv", index=False)
    housing.to_csv(args.out / "housing.csv", index=False)
    write_sources(args.out, pop, housing)
    # Round-trip through the readers so what is written is what the contract accepts.
    pop_back = drivers.read_population(args.out / "population.csv")
    drivers.read_housing(args.out / "housing.csv")

    a23 = drivers.summarise_population(pop_back, 2023, "all")
    c23 = drivers.summarise_population(pop_back, 2023, "0-17")
    table = pd.DataFrame(
        {
            "all_2023": a23,
            "child_share_2023": (c23 / a23).map("{:.1%}".format),
            **{
                f"{v}_2030": drivers.population_for_years(pop_back, [END_YEAR], v)
                .query("age_band == 'all'")
                .set_index(HUB)[POPULATION]
                for v in ("low", "principal", "high")
            },
        }
    )
    table = table.reindex([h.slug for h in TVP_HUBS])
    print(f"population.csv: {len(pop):,} rows; housing.csv: {len(housing):,} rows -> {args.out}")
    print(table.to_string(float_format="{:,.0f}".format))
    hsum = housing.pivot_table(
        index=HUB, columns=KIND, values=NET_ADDITIONAL_DWELLINGS, aggfunc="mean"
    ).reindex(table.index)
    print("mean net additional dwellings [dwellings/year]:")
    print(hsum.to_string(float_format="{:,.0f}".format))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Population and housing drivers: read, validate, project and look up (CONTRACTS.md section 3).

Two tidy frames pass from here to the forecasting stage:

- population: ``hub, year, age_band, population, kind, variant`` [persons, mid-year],
  ``kind`` is ``estimate`` or ``projection``; estimates are common to every variant.
- housing: ``hub, year, net_additional_dwellings, kind`` [dwellings/year],
  ``kind`` is ``actual`` or ``planned``.

Readers (:func:`read_population`, :func:`read_housing`) are the only functions doing I/O. The
rest are pure: :func:`add_adult_band`, :func:`growth_rate`, :func:`project_population`,
:func:`population_for_years`, :func:`population_index` and :func:`housing_for_years`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from os import PathLike
from typing import Literal

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.hubs import validate_hubs
from mashdemand.schema import (
    AGE_BAND,
    AGE_BANDS,
    HOUSING_KINDS,
    HUB,
    KIND,
    NET_ADDITIONAL_DWELLINGS,
    POPULATION,
    POPULATION_KINDS,
    VARIANT,
    VARIANTS,
    YEAR,
    SchemaError,
)

CHILD_BAND, ADULT_BAND, ALL_BAND = "0-17", "18+", "all"
ESTIMATE, PROJECTION = POPULATION_KINDS
ACTUAL, PLANNED = HOUSING_KINDS
PRINCIPAL = "principal"

POPULATION_COLUMNS: tuple[str, ...] = (HUB, YEAR, AGE_BAND, POPULATION, KIND, VARIANT)
HOUSING_COLUMNS: tuple[str, ...] = (HUB, YEAR, NET_ADDITIONAL_DWELLINGS, KIND)

# Spellings seen in ONS/DfE tables, mapped onto the contract's bands. Keys are normalised
# (lower case, spaces, underscores and "to" collapsed) by _band_key.
_AGE_BAND_ALIASES: dict[str, str] = {
    "0-17": CHILD_BAND,
    "0_17": CHILD_BAND,
    "0-17years": CHILD_BAND,
    "children": CHILD_BAND,
    "child": CHILD_BAND,
    "under18": CHILD_BAND,
    "18+": ADULT_BAND,
    "18plus": ADULT_BAND,
    "18andover": ADULT_BAND,
    "adults": ADULT_BAND,
    "adult": ADULT_BAND,
    "all": ALL_BAND,
    "allages": ALL_BAND,
    "total": ALL_BAND,
}
_KIND_ALIASES: dict[str, str] = {
    "estimate": ESTIMATE,
    "estimates": ESTIMATE,
    "mye": ESTIMATE,
    "projection": PROJECTION,
    "projections": PROJECTION,
    "projected": PROJECTION,
    "actual": ACTUAL,
    "actuals": ACTUAL,
    "planned": PLANNED,
    "plan": PLANNED,
}

PathType = str | PathLike[str]


# --- Reading ------------------------------------------------------------------------------
def _band_key(value: str) -> str:
    key = re.sub(r"\s+", "", value.strip().lower())
    return key.replace("to", "-") if re.fullmatch(r"\d+to\d+", key) else key


def _read_text_csv(path: PathType) -> pd.DataFrame:
    try:
        df = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except FileNotFoundError as exc:
        raise SchemaError(f"{path}: file not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaError(f"{path}: cannot be read as CSV ({first})") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def _bad(path: PathType, row: int, column: str, value: str, expected: str) -> SchemaError:
    return SchemaError(f"{path}: row {row}, column {column}: {value!r} is not {expected}")


def _parse_number(
    values: pd.Series, path: PathType, column: str, *, integer: bool, minimum: float | None
) -> np.ndarray:
    text = values.str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers)
    if integer:
        bad |= np.isfinite(numbers) & (numbers != np.round(numbers))
    if minimum is not None:
        bad |= np.isfinite(numbers) & (numbers < minimum)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "a whole number" if integer else "a number"
        if minimum is not None:
            what += f" >= {minimum:g}"
        raise _bad(path, i + 1, column, values.iloc[i], what)
    return numbers


def _parse_category(
    values: pd.Series,
    path: PathType,
    column: str,
    allowed: Iterable[str],
    aliases: dict[str, str],
    key=lambda s: s.strip().lower(),
) -> list[str]:
    allowed = tuple(allowed)
    out: list[str] = []
    for i, raw in enumerate(values, start=1):
        value = aliases.get(key(raw), key(raw))
        if value not in allowed:
            raise _bad(path, i, column, raw, "one of " + ", ".join(allowed))
        out.append(value)
    return out


def _parse_hub(values: pd.Series, path: PathType) -> list[str]:
    # The hub rule every reader shares (mashdemand.hubs); rows numbered as in this module.
    return validate_hubs(values, path, column=HUB, first_row=1, error=SchemaError)


def _check_unique(df: pd.DataFrame, key: list[str], path: PathType) -> None:
    dup = df.duplicated(key, keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(df[key].eq(df.iloc[i][key]).all(axis=1).to_numpy())[0])
        what = ", ".join(f"{k}={df.iloc[i][k]}" for k in key)
        raise SchemaError(f"{path}: row {i + 1}: duplicates row {first + 1} ({what})")


def read_population(path: PathType) -> pd.DataFrame:
    """Read and validate a ``population.csv`` driver file (CONTRACTS.md section 3).

    Parameters
    ----------
    path : str or path-like
        CSV with columns ``hub, year, age_band, population, kind`` and optionally
        ``variant``. Extra columns are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns ``hub, year, age_band, population, kind, variant``, sorted. ``population`` is
        float [persons, mid-year]; ``year`` int [calendar year]; ``age_band`` one of
        ``0-17``, ``18+``, ``all`` (``children``, ``0 to 17``, ``adults``, ``all ages`` are
        accepted); ``kind`` ``estimate`` or ``projection``; ``variant`` ``principal``,
        ``low`` or ``high``, ``principal`` where the column is absent or blank.

    Raises
    ------
    mashdemand.schema.SchemaError
        One line naming the file, the 1-based data row and the column, e.g.
        ``population.csv: row 3, column population: 'n/a' is not a number >= 0``.
    """
    raw = _read_text_csv(path)
    try:
        schema.validate_population(raw)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from exc
    if VARIANT not in raw.columns:
        raw[VARIANT] = ""
    variant_text = raw[VARIANT].where(raw[VARIANT].str.strip() != "", PRINCIPAL)
    df = pd.DataFrame(
        {
            HUB: _parse_hub(raw[HUB], path),
            YEAR: _parse_number(raw[YEAR], path, YEAR, integer=True, minimum=1800).astype(int),
            AGE_BAND: _parse_category(
                raw[AGE_BAND], path, AGE_BAND, AGE_BANDS, _AGE_BAND_ALIASES, key=_band_key
            ),
            POPULATION: _parse_number(raw[POPULATION], path, POPULATION, integer=False, minimum=0),
            KIND: _parse_category(raw[KIND], path, KIND, POPULATION_KINDS, _KIND_ALIASES),
            VARIANT: _parse_category(variant_text, path, VARIANT, VARIANTS, {}),
        }
    )
    _check_unique(df, [HUB, YEAR, AGE_BAND, KIND, VARIANT], path)
    return df.sort_values([HUB, AGE_BAND, KIND, VARIANT, YEAR], ignore_index=True)


def read_housing(path: PathType) -> pd.DataFrame:
    """Read and validate a ``housing.csv`` driver file (CONTRACTS.md section 3).

    Parameters
    ----------
    path : str or path-like
        CSV with columns ``hub, year, net_additional_dwellings, kind``. Extra columns are
        dropped.

    Returns
    -------
    pandas.DataFrame
        Columns ``hub, year, net_additional_dwellings, kind``, sorted by hub, kind and year.
        ``net_additional_dwellings`` is float [dwellings/year] and may be negative (demolitions
        can exceed completions); ``year`` is int; ``kind`` is ``actual`` or ``planned``.

    Raises
    ------
    mashdemand.schema.SchemaError
        One line naming the file, the 1-based data row and the column.
    """
    raw = _read_text_csv(path)
    try:
        schema.validate_housing(raw)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from exc
    df = pd.DataFrame(
        {
            HUB: _parse_hub(raw[HUB], path),
            YEAR: _parse_number(raw[YEAR], path, YEAR, integer=True, minimum=1800).astype(int),
            NET_ADDITIONAL_DWELLINGS: _parse_number(
                raw[NET_ADDITIONAL_DWELLINGS],
                path,
                NET_ADDITIONAL_DWELLINGS,
                integer=False,
                minimum=None,
            ),
            KIND: _parse_category(raw[KIND], path, KIND, HOUSING_KINDS, _KIND_ALIASES),
        }
    )
    _check_unique(df, [HUB, YEAR, KIND], path)
    return df.sort_values([HUB, KIND, YEAR], ignore_index=True)


# --- Pure transformations -----------------------------------------------------------------
def add_adult_band(pop: pd.DataFrame) -> pd.DataFrame:
    """Add ``18+`` estimates as ``all - 0-17`` for hub-years where both estimates exist.

    Existing ``18+`` estimates are kept (not overwritten).

    >>> pop = pd.DataFrame({"hub": ["a", "a"], "year": [2023, 2023], "age_band": ["all", "0-17"],
    ...                     "population": [100.0, 22.0], "kind": "estimate", "variant": ""})
    >>> add_adult_band(pop).query("age_band == '18+'")["population"].tolist()
    [78.0]
    """
    est = pop[pop[KIND] == ESTIMATE]
    wide = est.pivot_table(index=[HUB, YEAR], columns=AGE_BAND, values=POPULATION, aggfunc="first")
    if ALL_BAND not in wide or CHILD_BAND not in wide:
        return pop.copy()
    adults = (wide[ALL_BAND] - wide[CHILD_BAND]).dropna()
    if ADULT_BAND in wide:
        adults = adults[wide[ADULT_BAND].reindex(adults.index).isna()]
    new = adults.rename(POPULATION).reset_index()
    new[AGE_BAND] = ADULT_BAND
    new[KIND] = ESTIMATE
    new[VARIANT] = pop[VARIANT].iloc[0] if VARIANT in pop and len(pop) else PRINCIPAL
    new = new[[c for c in pop.columns if c in new.columns]]
    return pd.concat([pop, new], ignore_index=True)


def growth_rate(series: pd.Series, window: int = 5) -> float:
    """Compound annual growth rate over the last ``window`` years of a year-indexed series.

    ``(P[last] / P[last - window]) ** (1 / window) - 1`` [1/year]. With fewer years the
    longest available span is used; with one value the rate is 0.

    >>> round(growth_rate(pd.Series([100.0, 110.0, 121.0], index=[2021, 2022, 2023]), 2), 6)
    0.1
    """
    s = series.dropna().sort_index()
    if len(s) < 2:
        return 0.0
    last_year = int(s.index[-1])
    base = s[s.index >= last_year - window]
    span = last_year - int(base.index[0])
    if span <= 0 or base.iloc[0] <= 0:
        return 0.0
    return float((base.iloc[-1] / base.iloc[0]) ** (1.0 / span) - 1.0)


def housing_factor(
    housing: pd.DataFrame, hub: str, window: int = 5, clip: tuple[float, float] = (0.5, 1.5)
) -> float:
    """Ratio of planned to recent actual net additional dwellings for one hub [-].

    ``mean(planned) / mean(last window actual years)``, clipped to ``clip``. 1.0 when the hub
    has no housing rows or no positive recent delivery.

    >>> h = pd.DataFrame({"hub": "a", "year": [2022, 2023, 2024],
    ...                   "net_additional_dwellings": [100.0, 100.0, 80.0],
    ...                   "kind": ["actual", "actual", "planned"]})
    >>> housing_factor(h, "a")
    0.8
    """
    rows = housing[housing[HUB] == hub]
    actual = rows[rows[KIND] == ACTUAL].sort_values(YEAR)
    planned = rows[rows[KIND] == PLANNED]
    if actual.empty or planned.empty:
        return 1.0
    recent = actual[actual[YEAR] > actual[YEAR].max() - window][NET_ADDITIONAL_DWELLINGS].mean()
    if not recent > 0:
        return 1.0
    ratio = planned[NET_ADDITIONAL_DWELLINGS].mean() / recent
    return float(min(max(ratio, clip[0]), clip[1]))


def _variant_rates(rate: float, spread: float) -> dict[str, float]:
    # |rate| keeps low <= principal <= high when the trend is a decline.
    return {"low": rate - spread * abs(rate), PRINCIPAL: rate, "high": rate + spread * abs(rate)}


def project_population(
    estimates: pd.DataFrame,
    end_year: int = 2030,
    *,
    window: int = 5,
    spread: float = 0.5,
    housing: pd.DataFrame | None = None,
    housing_weight: float = 0.5,
) -> pd.DataFrame:
    """Project population to ``end_year`` in three variants from the recent trend and housing.

    Method, per hub and age band (``0-17`` and ``18+`` separately):

    1. Trend: ``r`` = compound annual growth over the last ``window`` estimated years
       (:func:`growth_rate`) [1/year].
    2. Housing: if ``housing`` is given, ``h`` = planned / recent actual net additional
       dwellings (:func:`housing_factor`, clipped to 0.5-1.5), and the principal rate is
       ``r + housing_weight * (h - 1) * |r|``: growth is scaled up where more homes are planned
       than were recently built, and down where fewer are. ``housing_weight=0`` gives the pure
       trend; 0.5 gives trend and housing supply equal say.
    3. Variants, after ONS practice of bracketing the principal with low and high migration
       and fertility assumptions: ``low = r_p - spread*|r_p|``, ``high = r_p + spread*|r_p|``
       (half and 1.5 times the principal growth when it is positive). Compounding makes the
       gap between variants widen with the horizon.
    4. Each band continues from its own last estimate: ``P(y) = P(last) * (1 + rate) **
       (y - last)``, rounded to whole persons, for ``last + 1 .. end_year``.
    5. ``all`` = ``0-17`` + ``18+`` (estimate where it exists, else the same variant's
       projection) for years after the last ``all`` estimate, so bands add up exactly and
       ``low <= principal <= high`` holds for ``all`` too. A hub without both bands has
       each band it has projected on its own.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Population frame; rows with ``kind == "estimate"`` are used [persons].
    end_year : int
        Last projected year [calendar year].
    window : int
        Years of trend for the growth rate [years].
    spread : float
        Relative half-width between variants' growth rates [-].
    housing : pandas.DataFrame, optional
        Housing frame (``actual`` and ``planned`` rows) [dwellings/year].
    housing_weight : float
        Weight of the housing factor on the principal growth rate [-].

    Returns
    -------
    pandas.DataFrame
        Projection rows ``hub, year, age_band, population, kind="projection", variant``.

    Examples
    --------
    >>> est = pd.DataFrame({"hub": "a", "year": [2022, 2023], "age_band": "all",
    ...                     "population": [100.0, 110.0], "kind": "estimate", "variant": ""})
    >>> p = project_population(est, 2024)
    >>> p.set_index("variant")["population"].to_dict()
    {'high': 127.0, 'low': 116.0, 'principal': 121.0}
    """
    est = estimates[estimates[KIND] == ESTIMATE]
    rows: list[dict] = []
    for hub, hub_est in est.groupby(HUB, sort=True):
        bands = set(hub_est[AGE_BAND])
        split = {CHILD_BAND, ADULT_BAND} <= bands
        to_project = [CHILD_BAND, ADULT_BAND] if split else sorted(bands)
        factor = 1.0 if housing is None else housing_factor(housing, str(hub), window)
        paths: dict[tuple[str, str], pd.Series] = {}
        for band in to_project:
            series = hub_est[hub_est[AGE_BAND] == band].set_index(YEAR)[POPULATION].sort_index()
            last = int(series.index.max())
            trend = growth_rate(series, window)
            principal = trend + housing_weight * (factor - 1.0) * abs(trend)
            for variant, rate in _variant_rates(principal, spread).items():
                years = np.arange(last + 1, end_year + 1)
                values = np.round(series.loc[last] * (1.0 + rate) ** (years - last))
                proj = pd.Series(values, index=years, dtype=float)
                paths[(band, variant)] = pd.concat([series, proj])
                rows += [
                    {
                        HUB: hub,
                        YEAR: int(y),
                        AGE_BAND: band,
                        POPULATION: float(v),
                        KIND: PROJECTION,
                        VARIANT: variant,
                    }
                    for y, v in proj.items()
                ]
        if split:
            all_est = hub_est[hub_est[AGE_BAND] == ALL_BAND]
            start = int(all_est[YEAR].max()) + 1 if len(all_est) else None
            for variant in VARIANTS:
                total = paths[(CHILD_BAND, variant)] + paths[(ADULT_BAND, variant)]
                total = total.dropna()
                if start is not None:
                    total = total[total.index >= start]
                total = total[total.index <= end_year]
                rows += [
                    {
                        HUB: hub,
                        YEAR: int(y),
                        AGE_BAND: ALL_BAND,
                        POPULATION: float(v),
                        KIND: PROJECTION,
                        VARIANT: variant,
                    }
                    for y, v in total.items()
                ]
    out = pd.DataFrame(rows, columns=list(POPULATION_COLUMNS))
    return out.sort_values([HUB, AGE_BAND, VARIANT, YEAR], ignore_index=True)


def _years_frame(pop: pd.DataFrame, variant: str) -> pd.DataFrame:
    if variant not in VARIANTS:
        raise SchemaError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}")
    est = pop[pop[KIND] == ESTIMATE]
    # ``variant`` is optional in CONTRACTS.md section 3: without it, projections are principal.
    pop_variant = pop[VARIANT] if VARIANT in pop.columns else PRINCIPAL
    proj = pop[(pop[KIND] == PROJECTION) & (pop_variant == variant)]
    # Estimates win where both exist; a projection only fills the years after.
    both = pd.concat([est, proj], ignore_index=True)
    both = both.drop_duplicates([HUB, AGE_BAND, YEAR], keep="first")
    return both[[HUB, YEAR, AGE_BAND, POPULATION, KIND]]


def population_for_years(
    pop: pd.DataFrame,
    years: Iterable[int],
    variant: str = PRINCIPAL,
    *,
    fill: Literal["raise", "nearest"] = "raise",
) -> pd.DataFrame:
    """Population per hub, year and age band: estimates where they exist, then ``variant``.

    Parameters
    ----------
    pop : pandas.DataFrame
        Population frame as returned by :func:`read_population` [persons].
    years : iterable of int
        Calendar years wanted.
    variant : str
        Projection variant used after the last estimate: ``principal``, ``low`` or ``high``.
    fill : {"raise", "nearest"}
        A year outside a hub-band's coverage raises :class:`SchemaError` (``"raise"``) or takes
        the nearest covered year's value, with ``kind`` ``"extrapolated"`` (``"nearest"``).

    Returns
    -------
    pandas.DataFrame
        Tidy ``hub, year, age_band, population, kind``, sorted by hub, age band and year.

    Examples
    --------
    >>> pop = pd.DataFrame({"hub": "a", "year": [2023, 2024, 2024], "age_band": "all",
    ...                     "population": [100.0, 101.0, 103.0],
    ...                     "kind": ["estimate", "projection", "projection"],
    ...                     "variant": ["principal", "principal", "high"]})
    >>> population_for_years(pop, [2023, 2024], "high")["population"].tolist()
    [100.0, 103.0]
    """
    years = sorted({int(y) for y in years})
    both = _years_frame(pop, variant)
    pieces = []
    for (hub, band), grp in both.groupby([HUB, AGE_BAND], sort=True):
        grp = grp.set_index(YEAR).sort_index()
        missing = [y for y in years if y not in grp.index]
        if missing and fill == "raise":
            raise SchemaError(
                f"population: hub {hub}, age_band {band}, variant {variant} has no value for "
                f"year(s) {', '.join(map(str, missing))}; covered {grp.index.min()}-"
                f"{grp.index.max()}"
            )
        got = grp.reindex(years)
        if missing:
            nearest = grp.reindex(years, method="nearest")
            got[POPULATION] = got[POPULATION].fillna(nearest[POPULATION])
            got[KIND] = got[KIND].fillna("extrapolated")
        got = got.reset_index().rename(columns={"index": YEAR})
        got[HUB], got[AGE_BAND] = hub, band
        pieces.append(got[[HUB, YEAR, AGE_BAND, POPULATION, KIND]])
    if not pieces:
        return pd.DataFrame(columns=[HUB, YEAR, AGE_BAND, POPULATION, KIND])
    return pd.concat(pieces, ignore_index=True)


def population_index(
    pop: pd.DataFrame, hub: str, age_band: str = ALL_BAND, variant: str = PRINCIPAL
) -> pd.Series:
    """One hub's population by year: estimates, then the ``variant`` projection.

    Returns
    -------
    pandas.Series
        Index ``year`` [calendar year], values [persons], name ``population``.

    Raises
    ------
    mashdemand.schema.SchemaError
        When the hub or age band has no rows.

    >>> pop = pd.DataFrame({"hub": "a", "year": [2023, 2024], "age_band": "all",
    ...                     "population": [100.0, 101.0], "kind": ["estimate", "projection"],
    ...                     "variant": "principal"})
    >>> population_index(pop, "a").to_dict()
    {2023: 100.0, 2024: 101.0}
    """
    both = _years_frame(pop, variant)
    rows = both[(both[HUB] == hub) & (both[AGE_BAND] == age_band)]
    if rows.empty:
        hubs = ", ".join(sorted(map(str, pop[HUB].unique())))
        raise SchemaError(
            f"population: no rows for hub {hub!r}, age_band {age_band!r}; hubs {hubs}"
        )
    return rows.set_index(YEAR)[POPULATION].sort_index().rename(POPULATION)


def housing_for_years(housing: pd.DataFrame, years: Iterable[int]) -> pd.DataFrame:
    """Net additional dwellings per hub and year: actual where it exists, else planned.

    Years neither actual nor planned are left out (no guessing).

    Returns
    -------
    pandas.DataFrame
        ``hub, year, net_additional_dwellings, kind`` [dwellings/year].

    >>> h = pd.DataFrame({"hub": "a", "year": [2023, 2023, 2024],
    ...                   "net_additional_dwellings": [10.0, 12.0, 11.0],
    ...                   "kind": ["actual", "planned", "planned"]})
    >>> housing_for_years(h, [2023, 2024])["net_additional_dwellings"].tolist()
    [10.0, 11.0]
    """
    wanted = {int(y) for y in years}
    rows = housing[housing[YEAR].isin(wanted)].copy()
    rows["_order"] = (rows[KIND] != ACTUAL).astype(int)
    rows = rows.sort_values([HUB, YEAR, "_order"]).drop_duplicates([HUB, YEAR], keep="first")
    return rows[list(HOUSING_COLUMNS)].reset_index(drop=True)


def summarise_population(pop: pd.DataFrame, year: int, age_band: str = ALL_BAND) -> pd.Series:
    """Population per hub in one year, estimate or principal projection [persons]."""
    got = population_for_years(pop, [year], PRINCIPAL, fill="raise")
    got = got[got[AGE_BAND] == age_band]
    return got.set_index(HUB)[POPULATION]


__all__ = [
    "add_adult_band",
    "growth_rate",
    "housing_factor",
    "housing_for_years",
    "population_for_years",
    "population_index",
    "project_population",
    "read_housing",
    "read_population",
    "summarise_population",
]

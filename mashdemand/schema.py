"""Column names, categories and boundary validation: CONTRACTS.md in code.

Every stage imports its column names from here, so a rename happens in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mashdemand.errors import MashdemandError

if TYPE_CHECKING:  # pandas is imported where frames are used, not to read constants
    import pandas as pd

# --- Contact log (CONTRACTS.md section 1) -------------------------------------------------
CONTACT_ID = "contact_id"
RECEIVED_AT = "received_at"
HUB = "hub"
SOURCE = "source"
SUBJECT = "subject"
PRIORITY = "priority"
CATEGORY = "category"
RPA = "rpa"
DECIDED_AT = "decided_at"
OUTCOME = "outcome"

CONTACT_REQUIRED: tuple[str, ...] = (CONTACT_ID, RECEIVED_AT, HUB)
CONTACT_OPTIONAL: tuple[str, ...] = (SOURCE, SUBJECT, PRIORITY, CATEGORY, RPA, DECIDED_AT, OUTCOME)
CONTACT_COLUMNS: tuple[str, ...] = CONTACT_REQUIRED + CONTACT_OPTIONAL

# Closed vocabularies. Values are normalised (lower case, spaces/hyphens to underscores) first.
SOURCES: tuple[str, ...] = ("police", "education", "health", "local_authority", "public", "other")
SUBJECTS: tuple[str, ...] = ("child", "adult")
PRIORITIES: tuple[str, ...] = ("urgent", "high", "medium", "standard")

# Common spellings in force exports, mapped onto the vocabulary. Anything else outside the
# vocabulary is quarantined (reason "invalid_<column>"), never guessed.
SOURCE_ALIASES: dict[str, str] = {
    "school": "education",
    "schools": "education",
    "la": "local_authority",
    "council": "local_authority",
    "social_care": "local_authority",
    "nhs": "health",
    "member_of_public": "public",
    "family": "public",
    "anonymous": "public",
}
SUBJECT_ALIASES: dict[str, str] = {"children": "child", "adults": "adult", "young_person": "child"}
PRIORITY_ALIASES: dict[str, str] = {
    "red": "urgent",
    "amber": "high",
    "green": "standard",
    "routine": "standard",
    "low": "standard",
    "high_risk": "high",
    "medium_risk": "medium",
}

# --- Aggregated counts (CONTRACTS.md section 2) ------------------------------------------
DATE = "date"
CONTACTS = "contacts"
COUNT_REQUIRED: tuple[str, ...] = (HUB, DATE, CONTACTS)

# --- Drivers (CONTRACTS.md section 3) -----------------------------------------------------
YEAR = "year"
AGE_BAND = "age_band"
POPULATION = "population"
KIND = "kind"
VARIANT = "variant"
NET_ADDITIONAL_DWELLINGS = "net_additional_dwellings"
POPULATION_REQUIRED: tuple[str, ...] = (HUB, YEAR, AGE_BAND, POPULATION, KIND)
HOUSING_REQUIRED: tuple[str, ...] = (HUB, YEAR, NET_ADDITIONAL_DWELLINGS, KIND)
AGE_BANDS: tuple[str, ...] = ("0-17", "18+", "all")
POPULATION_KINDS: tuple[str, ...] = ("estimate", "projection")
VARIANTS: tuple[str, ...] = ("principal", "low", "high")
HOUSING_KINDS: tuple[str, ...] = ("actual", "planned")

# --- Store-side names ---------------------------------------------------------------------
RECEIVED_AT_UTC = "received_at_utc"
RECEIVED_DATE = "received_date"  # local (Europe/London) calendar date
RECEIVED_HOUR = "received_hour"  # local hour of day, 0-23
DECIDED_AT_UTC = "decided_at_utc"

# --- Forecast output (CONTRACTS.md section 4) ---------------------------------------------
YHAT = "yhat"
INTERVAL_COLUMNS: tuple[str, ...] = ("lo80", "hi80", "lo95", "hi95")
FORCE_TOTAL = "ALL"
#: Between the hub and the split values in a series id (``reading|police|child``).
SPLIT_SEP = "|"

UK_TZ = "Europe/London"


class SchemaError(MashdemandError, ValueError):
    """Input does not have the columns or values a stage needs."""


def missing_columns(found: Iterable[str], required: Iterable[str]) -> list[str]:
    """Return the required columns absent from ``found``, in required order.

    >>> missing_columns(["hub", "date"], ["hub", "date", "contacts"])
    ['contacts']
    """
    have = set(found)
    return [c for c in required if c not in have]


def _require(df: pd.DataFrame, required: Iterable[str], what: str) -> None:
    required = tuple(required)
    missing = missing_columns(df.columns, required)
    if missing:
        raise SchemaError(
            f"{what}: missing column(s) {', '.join(missing)}; "
            f"required {', '.join(required)}; found {', '.join(map(str, df.columns)) or 'none'}"
        )


def validate_contacts(df: pd.DataFrame) -> pd.DataFrame:
    """Check a canonical contact log has the required columns; return it unchanged."""
    _require(df, CONTACT_REQUIRED, "contact log")
    return df


def validate_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Check an aggregated-counts frame has ``hub, date, contacts``; return it unchanged."""
    _require(df, COUNT_REQUIRED, "aggregated counts")
    return df


def validate_population(df: pd.DataFrame) -> pd.DataFrame:
    """Check a population driver frame (CONTRACTS.md section 3); return it unchanged."""
    _require(df, POPULATION_REQUIRED, "population")
    return df


def validate_housing(df: pd.DataFrame) -> pd.DataFrame:
    """Check a housing driver frame (CONTRACTS.md section 3); return it unchanged."""
    _require(df, HOUSING_REQUIRED, "housing")
    return df

"""A seeded, deterministic synthetic force: nine Thames Valley hubs' contact logs.

The sample force lets every stage (ingest, forecast, staffing, report) be run, tested and
demonstrated without real, personal data. It is synthetic: volumes and patterns are chosen to
look like the published descriptions in DOMAIN.md, not fitted to any force's records.

Generating process
------------------
For each hub ``h``, source ``s`` (police, education, health, local_authority, public, other)
and local UK day ``d`` the expected number of contacts is a product of effects::

    lambda[h, s, d] = rate[s] * population[h] / 1000 * need[h]
                      * growth[h, s](d) * confidence(d) * day_of_week[s](d)
                      * school_term[s](d) * bank_holiday[s](d) * late_december[s](d)
                      * covid[s](d) * process_changes[h, s](d) * scale

* ``rate[s]`` -- contacts per 1,000 residents per weekday at mid-2023 levels
  (:data:`SOURCE_RATE`), calibrated so that Oxfordshire receives about 5,000-5,800 contacts a
  month in 2023-2026 ("over 5000 contacts each month") and the sources' shares of all contacts
  are police ~47%, education ~17%, health ~12%, local authority ~10%, public ~8%, other ~6%.
* ``population[h]`` -- ONS mid-2023 population (:data:`HUB_DRIVERS`); ``need[h]`` a mild
  synthetic contact-rate multiplier (:data:`HUB_NEED`), so Berkshire unitaries receive about
  900-1,700 contacts a month.
* ``growth`` -- population relative to mid-2023: log-linear between the ONS mid-2017 and
  mid-2023 estimates (extrapolated before 2017), then after mid-2023 growing by the hub's mean
  MHCLG net additional dwellings (2017-18 to 2023-24) times 2.4 residents per dwelling.
  Education contacts follow the child (0-17) population instead.
* ``confidence`` -- public confidence in reporting: +2% a year (1.02 ** years since mid-2023).
* ``day_of_week`` -- police every day (weekends ~77% of a weekday); public every day
  (weekends ~82%); education, health and local authority on working days with a small weekend
  trickle (:data:`DAY_OF_WEEK`).
* ``school_term`` -- education only: 8% of normal in school holidays
  (:func:`mashdemand.calendar.school_holidays`), +20% in the last week before each break, and
  a September surge of +30% on the day pupils return, fading linearly over 30 days.
* ``bank_holiday`` -- police unaffected; public 80%, other 40%, education/health/local
  authority 10-15% of a normal weekday. ``late_december`` -- health and local authority 60%
  and public 90% on the working days between Christmas and New Year.
* ``covid`` -- dates from :func:`mashdemand.calendar.load_interventions`, effects by source in
  :data:`COVID_EFFECTS`: the first lockdown cuts education by 80% while schools were closed
  (55% after the partial reopening on 1 June 2020) and health/local authority by 30%, police
  slightly up (+3%, more domestic abuse: 8% of police contacts in the window are re-labelled
  domestic abuse); the 2021 school closure cuts education by 65%. After each school closure,
  education rebounds: +25% on the return day (2 September 2020, 8 March 2021), fading
  linearly over 8 weeks (local authority +10%).
* ``process_changes`` -- permanent steps (:data:`PROCESS_CHANGES`): training that raised
  officers' identification of risk (police +12% from 1 October 2019, force-wide) and
  police-contact triage in Oxfordshire (police contacts reaching the hub -15% from 1 April
  2022). Robotic Process Automation goes live on 1 June 2021 (:data:`RPA_GO_LIVE`): from then
  85% of contacts have ``rpa`` true; it does not change volumes.

Counts are negative binomial: ``lambda`` times a gamma day-level factor (shape
:data:`OVERDISPERSION_SHAPE`, mean 1, coefficient of variation ~16%), then Poisson.

Each contact then gets, by vectorised draws (no Python loop per contact): an arrival time from
the source's hour-of-day profile (:data:`HOUR_PROFILE`; police round the clock with an
evening peak, education 08:00-16:00 peaking after drop-off and mid-afternoon, health and local
authority office hours, public daytime and evenings; times in the spring DST gap are moved an
hour forward), a subject (child ~75%), a priority (urgent ~2%, high ~6%, medium ~14%,
standard ~78%; ~95% of police contacts medium or standard), a category by source, the
decision time (urgent: log-normal calendar delay, median 90 minutes, ~5% beyond 4 hours;
high, medium and standard: gamma delays in working time, 08:00-16:00 Monday-Thursday and to
15:30 on Friday, outside bank holidays, with means of 3 hours, 1.25 days and 2 days so that
a small share breaches the 1-, 3- and 7-day standards) and an outcome whose mix depends on
priority (strategy discussions mostly for urgent contacts).

Every hub has its own random stream (``numpy.random.default_rng([seed, hub position])``), so
a hub's log does not depend on which other hubs are generated.

A sample nation
---------------
:func:`write_nation` (``mashdemand sample --hubs N``) writes N hubs, one contact log each, in
turn: the first nine are the Thames Valley hubs, the others synthetic (``synthetic-010``...,
:func:`synthetic_hub`) with the same generating process and their own population drawn
log-uniform in :data:`SYNTHETIC_POPULATION`, growth in :data:`SYNTHETIC_GROWTH` and need in
:data:`SYNTHETIC_NEED`, from a parameter stream ``[seed, position, 1]`` of their own.
:func:`nation_daily_counts` draws the nation's daily counts by hub and priority without
making records, and :func:`nation_expected_contacts` gives each hub's expected total.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mashdemand import calendar as cal
from mashdemand import schema
from mashdemand.errors import MashdemandError
from mashdemand.hubs import (
    FIRST_SYNTHETIC,
    HUB_SLUGS,
    display_name,
    synthetic_number,
    synthetic_slug,
)
from mashdemand.progress import progress_argument
from mashdemand.safety import make_private, private_umask

__all__ = [
    "CATEGORIES",
    "HUB_DRIVERS",
    "OUTCOMES",
    "PROCESS_CHANGES",
    "SampleHub",
    "daily_counts",
    "default_end",
    "expected_daily",
    "generate_contacts",
    "nation_daily_counts",
    "nation_expected_contacts",
    "nation_hubs",
    "nation_population",
    "synthetic_hubs",
    "write_nation",
    "write_sample",
]

DEFAULT_SEED = 20170101
DEFAULT_START = "2017-01-01"
#: Last day of the committed sample force (data/sample): ``--sample`` makes the same one.
SAMPLE_END = "2026-09-30"
#: Real driver tables and the invented establishment, shipped with the package so that
#: ``write_sample`` and ``ensure_sample`` give a complete sample folder from any install.
DRIVER_FILES: tuple[str, ...] = ("population.csv", "housing.csv", "establishment.csv")
_SHIPPED = Path(__file__).resolve().parent / "defaults" / "sample"
#: Environment variable naming the cache folder (default ``$XDG_CACHE_HOME/mashdemand`` or
#: ``~/.cache/mashdemand``).
CACHE_ENV = "MASHDEMAND_CACHE"

CATEGORIES: tuple[str, ...] = (
    "domestic_abuse",
    "neglect",
    "physical_abuse",
    "sexual_abuse",
    "emotional_abuse",
    "mental_health",
    "exploitation",
    "missing",
    "substance_misuse",
    "other",
)
OUTCOMES: tuple[str, ...] = ("nfa", "early_help", "social_care", "strategy_discussion")


# --- Drivers (hard-coded so the package does not need /work/shared at run time) ------------
@dataclass(frozen=True)
class HubDrivers:
    """Population and housing figures for one hub.

    Attributes
    ----------
    population_2017, population_2023 : int
        ONS mid-year estimates, all ages [people].
    children_2017, children_2023 : int
        ONS mid-year estimates, aged 0-17 [people].
    dwellings_per_year : float
        Mean MHCLG net additional dwellings, financial years 2017-18 to 2023-24 [dwellings/year].
    """

    population_2017: int
    population_2023: int
    children_2017: int
    children_2023: int
    dwellings_per_year: float


#: Sources: ONS mid-year population estimates, all ages, April 2023 geography
#: (``ons_population_all_ages_2001_2023.csv``: Oxfordshire is the sum of its five districts
#: E07000177-E07000181; Buckinghamshire is E06000060, which sums its four former districts);
#: ONS mid-year estimates of children aged 0-17 as published by DfE
#: (``ons_child_population_2012_2024.csv``: Buckinghamshire 2017 under E10000002);
#: MHCLG Live Table 122 net additional dwellings (``mhclg_net_additional_dwellings_2001_2023.csv``,
#: columns 2017-2023 = financial years 2017-18 to 2023-24; Buckinghamshire = E10000002 to
#: 2019-20 then E06000060; Oxfordshire = county E10000025). Read once on 2026-11-24.
HUB_DRIVERS: dict[str, HubDrivers] = {
    "bracknell-forest": HubDrivers(120_164, 128_351, 27_321, 28_886, 822.0),
    "reading": HubDrivers(173_047, 178_196, 37_270, 38_261, 802.0),
    "slough": HubDrivers(154_573, 160_713, 42_480, 45_545, 548.0),
    "west-berkshire": HubDrivers(160_729, 163_367, 35_544, 35_612, 588.0),
    "windsor-and-maidenhead": HubDrivers(152_648, 155_239, 34_094, 34_462, 475.0),
    "wokingham": HubDrivers(165_664, 183_870, 38_272, 43_596, 1249.0),
    "buckinghamshire": HubDrivers(538_762, 566_694, 121_026, 128_126, 2711.0),
    "milton-keynes": HubDrivers(276_588, 298_270, 67_970, 73_164, 2074.0),
    "oxfordshire": HubDrivers(696_188, 750_230, 142_703, 153_988, 4699.0),
}
RESIDENTS_PER_DWELLING = 2.4  # England average household size is about 2.4 (ONS, Census 2021)

#: Synthetic contact-rate multiplier per hub (need relative to the force) [dimensionless].
HUB_NEED: dict[str, float] = {
    "bracknell-forest": 1.00,
    "reading": 1.10,
    "slough": 1.15,
    "west-berkshire": 0.95,
    "windsor-and-maidenhead": 0.90,
    "wokingham": 0.85,
    "buckinghamshire": 0.95,
    "milton-keynes": 1.05,
    "oxfordshire": 1.00,
}
HUB_PREFIX: dict[str, str] = {
    "bracknell-forest": "BF",
    "reading": "RD",
    "slough": "SL",
    "west-berkshire": "WB",
    "windsor-and-maidenhead": "WM",
    "wokingham": "WK",
    "buckinghamshire": "BK",
    "milton-keynes": "MK",
    "oxfordshire": "OX",
}


class SampleError(MashdemandError, ValueError):
    """A bad argument to the sample generator (one-line message)."""


@dataclass(frozen=True)
class SampleHub:
    """Everything the generating process needs to know about one hub.

    Attributes
    ----------
    slug : str
        As in the contact log (``oxfordshire``, ``synthetic-010``).
    position : int
        0-based position in the nation (0-8 the Thames Valley hubs, 9 for ``synthetic-010``);
        the hub's random stream is ``[seed, position]``.
    drivers : HubDrivers
        Population and housing [people], [dwellings/year].
    need : float
        Contact-rate multiplier relative to the force [dimensionless].
    prefix : str
        Start of the hub's contact ids (``OX``, ``S010``): unique across hubs.
    """

    slug: str
    position: int
    drivers: HubDrivers
    need: float
    prefix: str

    @property
    def name(self) -> str:
        """The display name (``Oxfordshire``, ``Synthetic hub 10``)."""
        return display_name(self.slug)


#: Synthetic hubs' mid-2023 population, drawn log-uniform in this range [people]: English
#: upper-tier authorities run from about 40,000 to over a million; this keeps most hubs
#: nearer the Thames Valley unitaries, so 150 hubs give about 20 million contacts a decade.
SYNTHETIC_POPULATION: tuple[float, float] = (40_000.0, 400_000.0)
#: Synthetic hubs' population growth, uniform in this range [1/year] (ONS mid-2017 to mid-2023
#: local-authority growth was mostly between about -0.3% and +1.5% a year).
SYNTHETIC_GROWTH: tuple[float, float] = (-0.003, 0.015)
#: Share of residents aged 0-17, uniform in this range (ONS mid-2023: about 19-25%).
SYNTHETIC_CHILD_SHARE: tuple[float, float] = (0.19, 0.25)
#: Contact-rate multiplier (:data:`HUB_NEED`), uniform in this range [dimensionless].
SYNTHETIC_NEED: tuple[float, float] = (0.80, 1.25)
#: Third word of a synthetic hub's parameter stream ``[seed, position, 1]``, apart from its
#: contacts' stream ``[seed, position]``.
_PARAMETER_STREAM = 1


def synthetic_hub(number: int, seed: int = DEFAULT_SEED) -> SampleHub:
    """Synthetic hub ``number`` (10, 11, ...): size, growth and need drawn from the seed.

    The draw depends on ``seed`` and ``number`` only, so ``synthetic-010`` is the same hub in
    a nation of 12 hubs or of 150.

    Parameters
    ----------
    number : int
        The hub's number in the nation, from 10 (:data:`mashdemand.hubs.FIRST_SYNTHETIC`).
    seed : int
        Seed of the nation.

    Returns
    -------
    SampleHub
        Population log-uniform in :data:`SYNTHETIC_POPULATION`; growth, child share and need
        uniform in :data:`SYNTHETIC_GROWTH`, :data:`SYNTHETIC_CHILD_SHARE` and
        :data:`SYNTHETIC_NEED`. Population 2017 is 2023 discounted at the growth rate; after
        mid-2023 the population keeps that rate through housing (dwellings = growth x
        population / :data:`RESIDENTS_PER_DWELLING`).

    Examples
    --------
    >>> h = synthetic_hub(10, seed=1)
    >>> h.slug, h.name, h.prefix
    ('synthetic-010', 'Synthetic hub 10', 'S010')
    >>> 40_000 <= h.drivers.population_2023 <= 400_000
    True
    """
    slug = synthetic_slug(number)
    rng = np.random.default_rng([seed, number - 1, _PARAMETER_STREAM])
    lo, hi = np.log(SYNTHETIC_POPULATION)
    pop23 = float(np.exp(rng.uniform(lo, hi)))
    growth = float(rng.uniform(*SYNTHETIC_GROWTH))
    child_share = float(rng.uniform(*SYNTHETIC_CHILD_SHARE))
    need = float(rng.uniform(*SYNTHETIC_NEED))
    back = (1.0 + growth) ** -6.0  # mid-2017 relative to mid-2023
    drivers = HubDrivers(
        population_2017=round(pop23 * back),
        population_2023=round(pop23),
        children_2017=round(pop23 * child_share * back),
        children_2023=round(pop23 * child_share),
        dwellings_per_year=growth * pop23 / RESIDENTS_PER_DWELLING,
    )
    return SampleHub(slug, number - 1, drivers, round(need, 3), f"S{number:03d}")


def sample_hub(slug: str, seed: int = DEFAULT_SEED) -> SampleHub:
    """The :class:`SampleHub` of a Thames Valley hub or of a synthetic one (by its slug)."""
    if slug in HUB_SLUGS:
        return SampleHub(
            slug, HUB_SLUGS.index(slug), HUB_DRIVERS[slug], HUB_NEED[slug], HUB_PREFIX[slug]
        )
    number = synthetic_number(slug)
    if number is None:
        raise SampleError(f"unknown hub {slug!r}: not a Thames Valley hub nor synthetic-NNN")
    return synthetic_hub(number, seed)


def synthetic_hubs(n_hubs: int, seed: int = DEFAULT_SEED) -> list[SampleHub]:
    """The synthetic hubs of a nation of ``n_hubs``: numbers 10 to ``n_hubs`` (none up to 9).

    >>> [h.slug for h in synthetic_hubs(11)]
    ['synthetic-010', 'synthetic-011']
    """
    return [synthetic_hub(k, seed) for k in range(FIRST_SYNTHETIC, n_hubs + 1)]


def nation_hubs(n_hubs: int, seed: int = DEFAULT_SEED) -> list[SampleHub]:
    """The hubs of a sample nation: the first ``min(n_hubs, 9)`` Thames Valley hubs, then
    synthetic ones up to ``n_hubs``.

    >>> [h.slug for h in nation_hubs(2)], len(nation_hubs(150))
    (['bracknell-forest', 'reading'], 150)
    """
    if n_hubs < 1:
        raise SampleError(f"--hubs must be at least 1, not {n_hubs}")
    tv = [sample_hub(h) for h in HUB_SLUGS[:n_hubs]]
    return tv + synthetic_hubs(n_hubs, seed)


# --- Rates and profiles -------------------------------------------------------------------
SOURCES = schema.SOURCES
#: Contacts per 1,000 residents per weekday at mid-2023 levels, before calendar effects.
SOURCE_RATE: dict[str, float] = {
    "police": 0.1129,
    "education": 0.0718,
    "health": 0.0402,
    "local_authority": 0.0344,
    "public": 0.0206,
    "other": 0.0179,
}
#: Day-of-week multipliers, Monday..Sunday.
DAY_OF_WEEK: dict[str, tuple[float, ...]] = {
    "police": (1.00, 1.00, 1.00, 1.00, 1.03, 0.80, 0.74),
    "education": (1.00, 1.03, 1.03, 1.00, 0.94, 0.03, 0.02),
    "health": (1.06, 1.00, 1.00, 1.00, 0.94, 0.12, 0.10),
    "local_authority": (1.06, 1.00, 1.00, 1.00, 0.94, 0.06, 0.05),
    "public": (1.00, 1.00, 1.00, 1.00, 1.00, 0.85, 0.80),
    "other": (1.00, 1.00, 1.00, 1.00, 0.95, 0.40, 0.35),
}
BANK_HOLIDAY: dict[str, float] = {
    "police": 1.00,
    "education": 0.10,
    "health": 0.15,
    "local_authority": 0.10,
    "public": 0.80,
    "other": 0.40,
}
LATE_DECEMBER: dict[str, float] = {"health": 0.6, "local_authority": 0.6, "public": 0.9}
SCHOOL_HOLIDAY_EDUCATION = 0.08
PRE_BREAK_EDUCATION = 1.20
SEPTEMBER_SURGE = 0.30  # +30% on return day, fading linearly
SEPTEMBER_SURGE_DAYS = 30
CONFIDENCE_GROWTH = 0.02  # per year
OVERDISPERSION_SHAPE = 40.0

#: COVID-19 multipliers by intervention name and source. ``education_closed`` applies to
#: education while schools were closed to most pupils; ``education`` after that in the window.
COVID_EFFECTS: dict[str, dict[str, float]] = {
    "covid_lockdown_1": {
        "police": 1.03,
        "education_closed": 0.20,
        "education": 0.45,
        "health": 0.70,
        "local_authority": 0.70,
        "public": 1.10,
        "other": 0.80,
    },
    "covid_lockdown_2": {
        "education": 0.95,
        "health": 0.90,
        "local_authority": 0.90,
        "other": 0.90,
    },
    "covid_school_closure_2021": {
        "police": 1.02,
        "education_closed": 0.35,
        "health": 0.80,
        "local_authority": 0.85,
        "public": 1.05,
        "other": 0.85,
    },
}
REBOUND: dict[str, float] = {"education": 0.25, "local_authority": 0.10}
REBOUND_DAYS = 56
LOCKDOWN_DOMESTIC_ABUSE_SHIFT = 0.08


@dataclass(frozen=True)
class ProcessChange:
    """A permanent step change in the contacts reaching a hub (synthetic)."""

    name: str
    start: str
    source: str
    multiplier: float
    hub: str = ""  # "" = force-wide
    note: str = ""


PROCESS_CHANGES: tuple[ProcessChange, ...] = (
    ProcessChange(
        "police_risk_identification_training",
        "2019-10-01",
        "police",
        1.12,
        note="Training that raised officers' identification of risk, force-wide.",
    ),
    ProcessChange(
        "oxfordshire_police_contact_triage",
        "2022-04-01",
        "police",
        0.85,
        hub="oxfordshire",
        note="Police-contact triage before the hub; fewer low-level contacts reach it.",
    ),
)
RPA_GO_LIVE = "2021-06-01"
RPA_SHARE = 0.85


def _profile(weights: dict[int, float]) -> np.ndarray:
    p = np.array([weights.get(h, 0.0) for h in range(24)], dtype=float)
    return p / p.sum()


#: Hour-of-day arrival probabilities (local time) by source.
HOUR_PROFILE: dict[str, np.ndarray] = {
    "police": _profile(
        dict(
            enumerate(
                [
                    2.2,
                    1.8,
                    1.5,
                    1.2,
                    1.0,
                    1.0,
                    1.4,
                    2.4,
                    3.6,
                    4.6,
                    5.0,
                    5.1,
                    5.2,
                    5.2,
                    5.4,
                    5.6,
                    5.9,
                    6.3,
                    6.6,
                    6.7,
                    6.4,
                    5.6,
                    4.3,
                    3.0,
                ]
            )
        )
    ),
    "education": _profile(
        {
            7: 0.5,
            8: 6,
            9: 14,
            10: 13,
            11: 9,
            12: 7,
            13: 10,
            14: 13,
            15: 12,
            16: 7,
            17: 3,
            18: 1.5,
            19: 0.8,
            20: 0.4,
            21: 0.2,
        }
    ),
    "health": _profile(
        {
            0: 0.3,
            1: 0.2,
            2: 0.2,
            3: 0.2,
            4: 0.2,
            5: 0.3,
            6: 0.5,
            7: 1.2,
            8: 5,
            9: 10,
            10: 12,
            11: 11,
            12: 8,
            13: 9,
            14: 11,
            15: 10,
            16: 7,
            17: 3.5,
            18: 1.5,
            19: 1,
            20: 0.8,
            21: 0.6,
            22: 0.5,
            23: 0.4,
        }
    ),
    "local_authority": _profile(
        {
            7: 0.5,
            8: 6,
            9: 12,
            10: 13,
            11: 12,
            12: 8,
            13: 9,
            14: 12,
            15: 12,
            16: 8,
            17: 4,
            18: 1,
            19: 0.5,
            20: 0.3,
        }
    ),
    "public": _profile(
        dict(
            enumerate(
                [
                    0.8,
                    0.5,
                    0.3,
                    0.2,
                    0.2,
                    0.3,
                    0.8,
                    2.0,
                    4.0,
                    6.0,
                    6.5,
                    6.5,
                    6.3,
                    6.3,
                    6.3,
                    6.2,
                    6.3,
                    6.5,
                    6.8,
                    7.0,
                    6.5,
                    5.0,
                    3.0,
                    1.5,
                ]
            )
        )
    ),
    "other": _profile(
        {
            0: 0.5,
            1: 0.3,
            2: 0.3,
            3: 0.3,
            4: 0.3,
            5: 0.4,
            6: 0.8,
            7: 2,
            8: 6,
            9: 10,
            10: 11,
            11: 10,
            12: 8,
            13: 9,
            14: 10,
            15: 9,
            16: 7,
            17: 4,
            18: 2.5,
            19: 2,
            20: 1.5,
            21: 1.2,
            22: 0.9,
            23: 0.7,
        }
    ),
}

#: Share of contacts about a child, by source.
CHILD_SHARE: dict[str, float] = {
    "police": 0.66,
    "education": 0.985,
    "health": 0.68,
    "local_authority": 0.78,
    "public": 0.74,
    "other": 0.70,
}
#: Priority mix (urgent, high, medium, standard) by source.
PRIORITY_MIX: dict[str, tuple[float, float, float, float]] = {
    "police": (0.010, 0.040, 0.080, 0.870),
    "education": (0.030, 0.080, 0.200, 0.690),
    "health": (0.030, 0.080, 0.180, 0.710),
    "local_authority": (0.030, 0.090, 0.200, 0.680),
    "public": (0.020, 0.060, 0.160, 0.760),
    "other": (0.020, 0.060, 0.160, 0.760),
}
#: Category mix by source, in the order of :data:`CATEGORIES`.
CATEGORY_MIX: dict[str, tuple[float, ...]] = {
    "police": (0.40, 0.08, 0.08, 0.05, 0.04, 0.08, 0.06, 0.10, 0.05, 0.06),
    "education": (0.08, 0.25, 0.15, 0.06, 0.18, 0.12, 0.04, 0.02, 0.02, 0.08),
    "health": (0.10, 0.18, 0.10, 0.04, 0.08, 0.30, 0.03, 0.01, 0.10, 0.06),
    "local_authority": (0.15, 0.25, 0.08, 0.05, 0.12, 0.12, 0.06, 0.04, 0.05, 0.08),
    "public": (0.20, 0.30, 0.12, 0.05, 0.10, 0.08, 0.03, 0.02, 0.04, 0.06),
    "other": (0.15, 0.20, 0.10, 0.05, 0.10, 0.15, 0.05, 0.05, 0.05, 0.10),
}
#: Outcome mix (nfa, early_help, social_care, strategy_discussion) by priority.
OUTCOME_MIX: dict[str, tuple[float, float, float, float]] = {
    "urgent": (0.10, 0.07, 0.33, 0.50),
    "high": (0.25, 0.20, 0.40, 0.15),
    "medium": (0.36, 0.35, 0.25, 0.04),
    "standard": (0.665, 0.25, 0.08, 0.005),
}
#: Decision delay: urgent in calendar minutes (log-normal median, sigma); others in working
#: minutes (gamma shape, mean).
URGENT_DELAY = (90.0, 0.6)
WORKING_DELAY: dict[str, tuple[float, float]] = {
    "high": (1.5, 180.0),
    "medium": (1.5, 600.0),
    "standard": (2.5, 960.0),
}
WORK_START_MIN = 8 * 60
WORK_END_MIN = 16 * 60
FRIDAY_END_MIN = 15 * 60 + 30


# --- Helpers ------------------------------------------------------------------------------
def default_end(today: pd.Timestamp | None = None) -> pd.Timestamp:
    """Last day of the latest complete calendar quarter before ``today``.

    >>> default_end(pd.Timestamp("2026-11-24")).date()
    datetime.date(2026, 9, 30)
    >>> default_end(pd.Timestamp("2026-10-01")).date()
    datetime.date(2026, 9, 30)
    """
    today = pd.Timestamp.today() if today is None else pd.Timestamp(today)
    q = today.to_period("Q") - 1
    return q.end_time.normalize()


def _hubs(hubs: Iterable[str] | str | None) -> list[str]:
    if hubs is None:
        return list(HUB_SLUGS)
    if isinstance(hubs, str):
        hubs = [hubs]
    hubs = list(hubs)
    unknown = [h for h in hubs if h not in HUB_SLUGS and synthetic_number(h) is None]
    if unknown:
        raise ValueError(
            f"unknown hub(s) {', '.join(unknown)}; known: {', '.join(HUB_SLUGS)} "
            "and synthetic-010, synthetic-011, ..."
        )
    return hubs


def _decimal_year(days: pd.DatetimeIndex) -> np.ndarray:
    return days.year.to_numpy() + (days.day_of_year.to_numpy() - 0.5) / 365.25


@dataclass(frozen=True)
class _Calendar:
    """Per-day calendar effects shared by all hubs: arrays of shape (n_sources, n_days)."""

    days: pd.DatetimeIndex
    effects: np.ndarray  # (S, D) product of calendar, covid and confidence effects
    lockdown: np.ndarray  # (D,) bool: in a lockdown window (for the domestic abuse shift)
    dst_start: np.ndarray  # (D,) bool: spring DST change day


def _calendar(start: pd.Timestamp, end: pd.Timestamp) -> _Calendar:
    days = pd.date_range(start, end, freq="D", name="date", unit="s")
    n = len(days)
    dow = days.day_of_week.to_numpy()
    bh = days.isin(cal.bank_holidays(start, end))
    hol = cal.school_holidays(start, end).to_numpy()
    years = _decimal_year(days)
    eff = np.ones((len(SOURCES), n))
    for i, s in enumerate(SOURCES):
        eff[i] *= np.asarray(DAY_OF_WEEK[s])[dow]
        eff[i] = np.where(bh, np.minimum(eff[i], 1.0) * BANK_HOLIDAY[s], eff[i])
        late_dec = (days.month == 12) & (days.day >= 24) & (dow < 5) & ~bh
        eff[i] = np.where(late_dec, eff[i] * LATE_DECEMBER.get(s, 1.0), eff[i])
        eff[i] *= (1.0 + CONFIDENCE_GROWTH) ** (years - 2023.5)

    # School terms (education only).
    edu = SOURCES.index("education")
    term = np.where(hol, SCHOOL_HOLIDAY_EDUCATION, 1.0)
    # Last five school days before each break of a week or more.
    breaks = np.flatnonzero(hol & ~np.r_[False, hol[:-1]])
    for b in breaks:
        run = np.argmax(~hol[b:]) if (~hol[b:]).any() else n - b
        if run >= 7:
            term[max(b - 7, 0) : b] *= PRE_BREAK_EDUCATION
    # September surge from the first day back after the summer holiday.
    returns = np.flatnonzero(~hol & np.r_[False, hol[:-1]] & (days.month == 9))
    for r in returns:
        k = np.arange(min(SEPTEMBER_SURGE_DAYS, n - r))
        term[r : r + len(k)] *= 1.0 + SEPTEMBER_SURGE * (1.0 - k / SEPTEMBER_SURGE_DAYS)
    eff[edu] *= term

    # COVID-19 windows and rebounds.
    lockdown = np.zeros(n, dtype=bool)
    for iv in cal.load_interventions().itertuples(index=False):
        effects = COVID_EFFECTS.get(iv.name)
        if effects is None:
            continue
        in_win = (days >= iv.start) & (days <= (iv.end if pd.notna(iv.end) else days[-1]))
        lockdown |= in_win
        closed = in_win & (
            days <= iv.schools_closed_until if pd.notna(iv.schools_closed_until) else False
        )
        for i, s in enumerate(SOURCES):
            m = np.where(in_win, effects.get(s, 1.0), 1.0)
            if s == "education" and "education_closed" in effects:
                m = np.where(closed, effects["education_closed"], m)
            eff[i] *= m
        if pd.notna(iv.rebound_from):
            k = (days - iv.rebound_from).days.to_numpy()
            ramp = np.where((k >= 0) & (k < REBOUND_DAYS), 1.0 - k / REBOUND_DAYS, 0.0)
            for s, size in REBOUND.items():
                eff[SOURCES.index(s)] *= 1.0 + size * ramp

    # Spring DST change: last Sunday of March.
    dst = (days.month == 3) & (dow == 6) & (days.day >= 25)
    return _Calendar(days, eff, lockdown, np.asarray(dst))


def _growth(hub: SampleHub, days: pd.DatetimeIndex) -> np.ndarray:
    """Population index relative to mid-2023, (2, D): row 0 all ages, row 1 children."""
    return _population_index(hub.drivers, _decimal_year(days))


def _population_index(d: HubDrivers, t: np.ndarray) -> np.ndarray:
    """Population relative to mid-2023 at decimal years ``t``, (2, len(t)): all ages, 0-17."""
    out = np.empty((2, len(t)))
    for row, (p17, p23) in enumerate(
        ((d.population_2017, d.population_2023), (d.children_2017, d.children_2023))
    ):
        before = (p17 / p23) ** ((2023.5 - t) / 6.0)
        # After mid-2023, all-age population grows with housing; children in proportion.
        after = 1.0 + d.dwellings_per_year * RESIDENTS_PER_DWELLING * (t - 2023.5) / (
            d.population_2023
        )
        out[row] = np.where(t <= 2023.5, before, after)
    return out


def _rates(hub: SampleHub, c: _Calendar, scale: float) -> np.ndarray:
    """Expected contacts per day, shape (n_sources, n_days) [contacts/day]."""
    d = hub.drivers
    g = _growth(hub, c.days)
    base = np.array([SOURCE_RATE[s] for s in SOURCES]) * d.population_2023 / 1000.0
    lam = base[:, None] * hub.need * scale * c.effects
    edu = SOURCES.index("education")
    growth = np.repeat(g[:1], len(SOURCES), axis=0)
    growth[edu] = g[1]
    lam = lam * growth
    for pc in PROCESS_CHANGES:
        if pc.hub and pc.hub != hub.slug:
            continue
        lam[SOURCES.index(pc.source), c.days >= pd.Timestamp(pc.start)] *= pc.multiplier
    return lam


def _window(start: str | pd.Timestamp, end: str | pd.Timestamp | None) -> tuple:
    lo = pd.Timestamp(start).normalize()
    hi = default_end() if end is None else pd.Timestamp(end).normalize()
    if hi < lo:
        raise ValueError(f"end {hi.date()} is before start {lo.date()}")
    return lo, hi


def expected_daily(
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    hubs: Iterable[str] | str | None = None,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Expected contacts per hub, day and source under the sample force's generating process.

    Parameters
    ----------
    start, end : date-like
        Local UK dates (inclusive); ``end=None`` is :func:`default_end`.
    hubs : iterable of str, optional
        Hub slugs; all nine by default. Synthetic hubs (``synthetic-010``...) are allowed.
    scale : float
        Multiplier on every rate.
    seed : int
        Seed of the synthetic hubs' sizes and growth (:func:`synthetic_hubs`); the nine
        Thames Valley hubs do not depend on it.

    Returns
    -------
    pandas.DataFrame
        Columns ``hub, date, source, expected`` [contacts/day], the mean of the counts that
        :func:`generate_contacts` draws (before overdispersion, which has mean 1).

    Examples
    --------
    >>> e = expected_daily("2024-01-01", "2024-12-31", hubs="oxfordshire")
    >>> bool(5000 < e["expected"].sum() / 12 < 6000)
    True
    """
    lo, hi = _window(start, end)
    c = _calendar(lo, hi)
    frames = []
    for hub in _hubs(hubs):
        lam = _rates(sample_hub(hub, seed), c, scale)
        frames.append(
            pd.DataFrame(
                {
                    schema.HUB: hub,
                    schema.DATE: np.tile(c.days.to_numpy(), len(SOURCES)),
                    schema.SOURCE: np.repeat(np.array(SOURCES), len(c.days)),
                    "expected": lam.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _draw(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Draw one category index per row from ``table[group[row]]`` (rows sum to 1)."""
    cdf = np.cumsum(table, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(len(group))
    out = np.empty(len(group), dtype=np.int8)
    for g in np.unique(group):
        sel = group == g
        out[sel] = np.searchsorted(cdf[g], u[sel], side="right")
    return out


def _working_calendar(start: pd.Timestamp, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative working minutes at the start and end of each day from ``start``."""
    days = pd.date_range(start, periods=n_days, freq="D", unit="s")
    work = cal.working_days(days[0], days[-1]).to_numpy()
    length = np.where(days.day_of_week == 4, FRIDAY_END_MIN, WORK_END_MIN) - WORK_START_MIN
    length = np.where(work, length, 0)
    ends = np.cumsum(length)
    return ends - length, ends


def _generate_hub(hub: SampleHub, c: _Calendar, scale: float, seed: int) -> pd.DataFrame:
    """One hub's contact log from its own random stream (``[seed, hub.position]``)."""
    rng = np.random.default_rng([seed, hub.position])
    lam = _rates(hub, c, scale)
    n_src, n_day = lam.shape
    noise = rng.gamma(OVERDISPERSION_SHAPE, 1.0 / OVERDISPERSION_SHAPE, size=lam.shape)
    counts = rng.poisson(lam * noise).ravel()
    src = np.repeat(np.repeat(np.arange(n_src, dtype=np.int8), n_day), counts)
    day = np.repeat(np.tile(np.arange(n_day, dtype=np.int32), n_src), counts)
    n = len(src)

    # Arrival time: hour from the source profile, then uniform seconds within the hour.
    hour = _draw(rng, src, np.stack([HOUR_PROFILE[s] for s in SOURCES])).astype(np.int64)
    hour = np.where(c.dst_start[day] & (hour == 1), 2, hour)  # no time in the DST gap
    secs = rng.integers(0, 3600, size=n)
    day0 = c.days[0].as_unit("s").asm8.astype(np.int64)
    received = day0 + day.astype(np.int64) * 86400 + hour * 3600 + secs
    order = np.argsort(received, kind="stable")
    src, day, received = src[order], day[order], received[order]
    minute_of_day = (received % 86400) // 60

    subject = (rng.random(n) >= np.array([CHILD_SHARE[s] for s in SOURCES])[src]).astype(np.int8)
    priority = _draw(rng, src, np.array([PRIORITY_MIX[s] for s in SOURCES]))
    category = _draw(rng, src, np.array([CATEGORY_MIX[s] for s in SOURCES]))
    police_lock = (src == SOURCES.index("police")) & c.lockdown[day]
    shift = police_lock & (rng.random(n) < LOCKDOWN_DOMESTIC_ABUSE_SHIFT)
    category[shift] = CATEGORIES.index("domestic_abuse")
    rpa = (c.days[day] >= pd.Timestamp(RPA_GO_LIVE)) & (rng.random(n) < RPA_SHARE)
    outcome = _draw(rng, priority, np.array([OUTCOME_MIX[p] for p in schema.PRIORITIES]))

    # Decision time.
    starts, ends = _working_calendar(c.days[0], n_day + 120)
    day_len = ends - starts
    into = np.clip(minute_of_day - WORK_START_MIN, 0, day_len[day])
    w_received = starts[day] + into
    delay_w = np.zeros(n)
    for p, (shape, mean) in WORKING_DELAY.items():
        sel = priority == schema.PRIORITIES.index(p)
        delay_w[sel] = rng.gamma(shape, mean / shape, size=int(sel.sum()))
    w_decided = w_received + np.maximum(np.ceil(delay_w), 5)
    j = np.searchsorted(ends, w_decided, side="left")
    decided = (
        day0
        + j.astype(np.int64) * 86400
        + (WORK_START_MIN + (w_decided - starts[j])).astype(np.int64) * 60
        + rng.integers(0, 60, size=n)
    )
    urgent = priority == schema.PRIORITIES.index("urgent")
    median, sigma = URGENT_DELAY
    urgent_delay = np.exp(np.log(median) + sigma * rng.standard_normal(int(urgent.sum())))
    decided[urgent] = received[urgent] + np.maximum(urgent_delay * 60, 300).astype(np.int64)
    decided = np.maximum(decided, received + 60)

    # Identifiers: <prefix>-<year>-<sequence within hub and year>, in arrival order.
    year = c.days.year.to_numpy()[day]
    first = np.r_[0, np.flatnonzero(np.diff(year)) + 1]
    seq = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n])) + 1
    ids = np.strings.add(
        np.strings.add(f"{hub.prefix}-", year.astype(str)),
        np.strings.add("-", np.strings.zfill(seq.astype(str), 7)),
    )

    # The nine hubs share one category list (the sample force's frames concatenate cleanly).
    hub_codes = HUB_SLUGS if hub.slug in HUB_SLUGS else (hub.slug,)

    def cat(codes: np.ndarray, values: Sequence[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(values))

    return pd.DataFrame(
        {
            schema.CONTACT_ID: pd.array(ids, dtype="str"),
            schema.RECEIVED_AT: received.astype("datetime64[s]"),
            schema.HUB: cat(np.full(n, hub_codes.index(hub.slug)), hub_codes),
            schema.SOURCE: cat(src, SOURCES),
            schema.SUBJECT: cat(subject, schema.SUBJECTS),
            schema.PRIORITY: cat(priority, schema.PRIORITIES),
            schema.CATEGORY: cat(category, CATEGORIES),
            schema.RPA: rpa,
            schema.DECIDED_AT: decided.astype("datetime64[s]"),
            schema.OUTCOME: cat(outcome, OUTCOMES),
        }
    )


def generate_contacts(
    seed: int = DEFAULT_SEED,
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    hubs: Iterable[str] | str | None = None,
    scale: float = 1.0,
    progress: bool = False,
    show_progress: bool | None = None,
) -> pd.DataFrame:
    """Generate the sample force's canonical contact log (see the module docstring).

    Parameters
    ----------
    seed : int
        Seed; the same seed, window, hubs and scale give an identical frame.
    start, end : date-like
        First and last local UK day (inclusive). ``end=None`` is the last day of the latest
        complete calendar quarter before today (:func:`default_end`).
    hubs : iterable of str, optional
        Hub slugs (:data:`mashdemand.hubs.HUB_SLUGS`, or synthetic ``synthetic-010``...); all
        nine by default. Each hub has its own random stream, so a hub's contacts do not depend
        on the others requested.
    scale : float
        Multiplier on every rate (e.g. 0.1 for a light test force).
    progress : bool
        Show a tqdm progress bar over hubs.
    show_progress : bool, optional
        Deprecated name of ``progress``.

    Returns
    -------
    pandas.DataFrame
        Every column of :data:`mashdemand.schema.CONTACT_COLUMNS`. ``received_at`` and
        ``decided_at`` are tz-naive UK local times at seconds resolution; text columns other
        than ``contact_id`` are categoricals. Rows are ordered by hub, then ``received_at``.

    Examples
    --------
    >>> df = generate_contacts(1, "2024-01-01", "2024-01-07", hubs="slough", scale=0.5)
    >>> list(df.columns) == list(schema.CONTACT_COLUMNS)
    True
    >>> bool((df.decided_at > df.received_at).all())
    True
    """
    progress = progress_argument(progress, show_progress, "generate_contacts")
    lo, hi = _window(start, end)
    hub_list = _hubs(hubs)
    c = _calendar(lo, hi)
    iterator: Iterable[str] = hub_list
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(hub_list, desc="sample force", unit="hub")
    frames = [_generate_hub(sample_hub(h, seed), c, scale, seed) for h in iterator]
    return pd.concat(frames, ignore_index=True)


def daily_counts(
    contacts: pd.DataFrame, by: Sequence[str] = (schema.HUB, schema.SOURCE)
) -> pd.DataFrame:
    """Count contacts per local day and the ``by`` dimensions, zero-filling missing days.

    Parameters
    ----------
    contacts : pandas.DataFrame
        A canonical contact log (at least ``received_at`` and the ``by`` columns).
    by : sequence of str
        Dimensions to split by. ``hub`` is always included.

    Returns
    -------
    pandas.DataFrame
        Columns ``hub, date, <other by dims>, contacts`` [contacts/day], one row for every day
        from the first to the last day in the log and every combination of the values seen.
    """
    dims = [schema.HUB] + [b for b in by if b != schema.HUB]
    missing = schema.missing_columns(contacts.columns, [schema.RECEIVED_AT, *dims])
    if missing:
        raise schema.SchemaError(f"daily_counts: missing column(s) {', '.join(missing)}")
    date = pd.to_datetime(contacts[schema.RECEIVED_AT]).dt.normalize().rename(schema.DATE)
    keys = [contacts[d] for d in dims] + [date]
    counts = contacts.groupby(keys, observed=True).size()
    levels = [pd.unique(contacts[d].astype(object)) for d in dims]
    levels = [
        [v for v in contacts[d].cat.categories if v in set(lv)]
        if isinstance(contacts[d].dtype, pd.CategoricalDtype)
        else sorted(lv)
        for d, lv in zip(dims, levels, strict=True)
    ]
    span = pd.date_range(date.min(), date.max(), freq="D", unit=date.dt.unit)
    full = pd.MultiIndex.from_product([*levels, span], names=[*dims, schema.DATE])
    counts.index = counts.index.set_levels(
        [counts.index.levels[i].astype(object) for i in range(len(dims))]
        + [counts.index.levels[-1]]
    )
    out = counts.reindex(full, fill_value=0).rename(schema.CONTACTS).reset_index()
    cols = [schema.HUB, schema.DATE] + dims[1:] + [schema.CONTACTS]
    return out[cols].astype({schema.CONTACTS: "int64"})


def monthly_counts(daily: pd.DataFrame) -> pd.DataFrame:
    """Sum :func:`daily_counts` output into calendar months (``date`` = first of the month)."""
    dims = [c for c in daily.columns if c not in (schema.DATE, schema.CONTACTS)]
    month = daily[schema.DATE].dt.to_period("M").dt.start_time.rename(schema.DATE)
    out = daily.groupby([*[daily[d] for d in dims], month], observed=True)[schema.CONTACTS].sum()
    out = out.reset_index()
    return out[[schema.HUB, schema.DATE, *[d for d in dims if d != schema.HUB], schema.CONTACTS]]


def write_sample(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    end: str | pd.Timestamp | None = None,
    record_hubs: Sequence[str] = ("bracknell-forest", "slough", "milton-keynes"),
    full: bool = False,
    progress: bool = False,
    start: str | pd.Timestamp = DEFAULT_START,
    show_progress: bool | None = None,
) -> dict[str, Path]:
    """Write the committed sample data set to ``out_dir``.

    Files
    -----
    ``contacts_<hub>.parquet``
        Record-level logs for ``record_hubs`` (zstd, categoricals).
    ``daily_counts.csv``
        ``hub, date, source, contacts`` for all nine hubs (aggregated-counts input).
    ``contacts_small.csv``
        The first 2,000 contacts of the last month for the record hub with most contacts in
        that month, UTF-8, ISO 8601 times: a quick demo of the contact-log input.
    ``contacts_full.csv``
        Only with ``full=True``: the whole force, record level (for benchmarks; not committed).

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if needed).
    seed, end, start
        As :func:`generate_contacts` (all nine hubs are generated).
    record_hubs : sequence of str
        Hubs written record level; the default keeps the committed folder under 12 MB.
    full : bool
        Also write ``contacts_full.csv``.
    progress : bool
        Show a progress bar while generating.
    show_progress : bool, optional
        Deprecated name of ``progress``.

    Returns
    -------
    dict of str to Path
        File role to path.
    """
    progress = progress_argument(progress, show_progress, "write_sample")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    contacts = generate_contacts(seed, start, end, progress=progress)
    paths: dict[str, Path] = {}
    for hub in record_hubs:
        sub = contacts[contacts[schema.HUB] == hub].reset_index(drop=True)
        sub[schema.HUB] = sub[schema.HUB].cat.remove_unused_categories()
        p = out / f"contacts_{hub}.parquet"
        _to_parquet(sub, p)
        paths[f"contacts_{hub}"] = p

    daily = daily_counts(contacts, by=(schema.HUB, schema.SOURCE))
    p = out / "daily_counts.csv"
    daily.to_csv(p, index=False, date_format="%Y-%m-%d", lineterminator="\n")
    paths["daily_counts"] = p

    # The record hub (else any hub) with the most contacts in the last month: 2,000 of them.
    last = contacts[schema.RECEIVED_AT].max().to_period("M")
    recent = contacts[contacts[schema.RECEIVED_AT].dt.to_period("M") == last]
    per_hub = recent[schema.HUB].value_counts()
    pool = per_hub[per_hub.index.isin(record_hubs)] if len(record_hubs) else per_hub
    small = recent[recent[schema.HUB] == pool.idxmax()].head(2000)
    p = out / "contacts_small.csv"
    _to_iso_csv(small, p)
    paths["contacts_small"] = p

    if full:
        p = out / "contacts_full.csv"
        _to_iso_csv(contacts, p)
        paths["contacts_full"] = p
    for name in DRIVER_FILES:
        p = out / name
        p.write_bytes((_SHIPPED / name).read_bytes())
        paths[name.removesuffix(".csv")] = p
    return paths


#: Formats of a nation's contact logs: file extension by ``fmt``.
NATION_FORMATS: dict[str, str] = {"csv": ".csv", "parquet": ".parquet"}
#: zstd level of a nation's Parquet files: quick to write (the committed sample uses 19, for
#: size; 3 is within about 15% of that size at a tenth of the time).
NATION_PARQUET_LEVEL = 3
#: Folder of a nation's contact logs inside ``out_dir``: only contact logs, so that
#: ``mashdemand ingest DIR/contacts`` takes every file in it.
NATION_CONTACTS_DIR = "contacts"
#: Third word of the random stream of :func:`nation_daily_counts`, ``[seed, position, 2]``.
_COUNTS_STREAM = 2
#: Population rows written for a synthetic hub: estimates to 2023, principal projections after.
_ESTIMATE_YEARS = range(2012, 2024)
_PROJECTION_YEARS = range(2024, 2031)


def nation_daily_counts(
    n_hubs: int,
    seed: int = DEFAULT_SEED,
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    scale: float = 1.0,
    expected: bool = False,
) -> pd.DataFrame:
    """Daily contacts per hub and priority of a sample nation, drawn without making records.

    The counts follow the records' generating process (module docstring): per hub, source and
    day a negative-binomial count around :func:`expected_daily` (gamma day factor with shape
    :data:`OVERDISPERSION_SHAPE`, then Poisson), split into priorities by a multinomial draw
    from :data:`PRIORITY_MIX`. The random stream is the hub's own (``[seed, position, 2]``),
    so the draws are not those of :func:`generate_contacts` but have the same distribution,
    at a tiny fraction of the cost (150 hubs x 4 priorities x 10 years in about a second).

    Parameters
    ----------
    n_hubs : int
        Hubs in the nation (:func:`nation_hubs`).
    seed : int
        Seed: the same seed, hubs and window give an identical frame.
    start, end : date-like
        First and last local UK day (inclusive); ``end=None`` is :func:`default_end`.
    scale : float
        Multiplier on every rate.
    expected : bool
        Also return the column ``expected``, the mean of ``contacts`` [contacts/day].

    Returns
    -------
    pandas.DataFrame
        Columns ``hub, date, priority, contacts`` [contacts/day] (as :func:`daily_counts`
        with ``by=("hub", "priority")``), one row per hub, priority and day, ordered by hub,
        priority and date.

    Examples
    --------
    >>> d = nation_daily_counts(12, seed=1, start="2024-01-01", end="2024-01-31")
    >>> list(d.columns), len(d) == 12 * 4 * 31
    (['hub', 'date', 'priority', 'contacts'], True)
    """
    lo, hi = _window(start, end)
    c = _calendar(lo, hi)
    n_day = len(c.days)
    mix = np.array([PRIORITY_MIX[s] for s in SOURCES])  # (S, P)
    n_pri = len(schema.PRIORITIES)
    hubs = nation_hubs(n_hubs, seed)
    counts = np.empty((len(hubs), n_pri, n_day), dtype=np.int64)
    means = np.empty((len(hubs), n_pri, n_day)) if expected else None
    for i, hub in enumerate(hubs):
        rng = np.random.default_rng([seed, hub.position, _COUNTS_STREAM])
        lam = _rates(hub, c, scale)  # (S, D)
        noise = rng.gamma(OVERDISPERSION_SHAPE, 1.0 / OVERDISPERSION_SHAPE, size=lam.shape)
        by_source = rng.poisson(lam * noise)
        split = sum(rng.multinomial(by_source[k], mix[k]) for k in range(len(SOURCES)))
        counts[i] = np.asarray(split).T
        if means is not None:
            means[i] = mix.T @ lam
    n_series = len(hubs) * n_pri
    out = pd.DataFrame(
        {
            schema.HUB: np.repeat([h.slug for h in hubs], n_pri * n_day),
            schema.DATE: np.tile(c.days.to_numpy(), n_series),
            schema.PRIORITY: np.tile(np.repeat(np.array(schema.PRIORITIES), n_day), len(hubs)),
            schema.CONTACTS: counts.ravel(),
        }
    )
    if means is not None:
        out["expected"] = means.ravel()
    return out


def nation_expected_contacts(
    n_hubs: int,
    seed: int = DEFAULT_SEED,
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    scale: float = 1.0,
) -> pd.Series:
    """Expected contacts of each hub of a sample nation over the window, without drawing any.

    For sizing a nation (e.g. the hubs that give about 20 million contacts).

    Returns
    -------
    pandas.Series
        Expected contacts per hub over ``start`` to ``end`` [contacts], indexed by hub slug in
        nation order.

    Examples
    --------
    >>> e = nation_expected_contacts(10, start="2024-01-01", end="2024-12-31")
    >>> list(e.index[-2:]), bool(60_000 < e["oxfordshire"] < 70_000)
    (['oxfordshire', 'synthetic-010'], True)
    """
    lo, hi = _window(start, end)
    c = _calendar(lo, hi)
    hubs = nation_hubs(n_hubs, seed)
    return pd.Series(
        [float(_rates(h, c, scale).sum()) for h in hubs],
        index=pd.Index([h.slug for h in hubs], name=schema.HUB),
        name="expected",
    )


def write_nation(
    out_dir: str | Path,
    n_hubs: int,
    seed: int = DEFAULT_SEED,
    fmt: str = "parquet",
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    progress: bool = False,
    scale: float = 1.0,
) -> dict[str, Path]:
    """Write a sample nation of ``n_hubs`` hubs, one hub at a time (memory stays flat).

    Files (each readable by its owner only, ``0600``; folders ``0700``)
    -------------------------------------------------------------------
    ``contacts/contacts_<hub>.csv`` or ``.parquet``
        One record-level contact log per hub (CSV: UTF-8, ISO 8601 local times, as
        ``contacts_small.csv``; Parquet: zstd, as the committed sample's logs). The folder
        holds nothing else, so ``mashdemand ingest DIR/contacts`` loads the nation.
    ``population.csv``
        Population drivers of every hub (CONTRACTS.md section 3): the real ONS figures for the
        Thames Valley hubs, and for synthetic hubs estimates 2012-2023 and principal
        projections 2024-2030 from their drawn size and growth.
    ``hubs.csv``
        ``hub, name, population_2017, population_2023, need``: what was drawn for each hub.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if needed). Its ``contacts`` folder may hold only the
        files this call writes (they are replaced), else :class:`SampleError`: a stray log
        there would be ingested with the nation.
    n_hubs : int
        Hubs (:func:`nation_hubs`): up to 9 takes the first Thames Valley hubs, more adds
        ``synthetic-010``... of varied size and growth.
    seed, start, end, scale
        As :func:`generate_contacts`; a hub's contacts are the same whatever ``n_hubs``.
    fmt : {"csv", "parquet"}
        Format of the contact logs.
    progress : bool
        Show a progress bar over hubs.

    Returns
    -------
    dict of str to Path
        File role (``contacts_<hub>``, ``population``, ``hubs``) to path.
    """
    if fmt not in NATION_FORMATS:
        raise SampleError(f"--format must be one of {', '.join(NATION_FORMATS)}, not {fmt!r}")
    hubs = nation_hubs(n_hubs, seed)
    lo, hi = _window(start, end)
    c = _calendar(lo, hi)
    out = Path(out_dir)
    folder = out / NATION_CONTACTS_DIR
    names = {f"contacts_{h.slug}{NATION_FORMATS[fmt]}" for h in hubs}
    stray = (
        sorted(p.name for p in folder.iterdir() if p.name not in names) if folder.is_dir() else []
    )
    if stray:  # `mashdemand ingest DIR/contacts` would load them too
        raise SampleError(
            f"{folder} holds files this nation does not write ({', '.join(stray[:3])}"
            f"{', ...' if len(stray) > 3 else ''}); choose an empty --out folder"
        )
    paths: dict[str, Path] = {}
    iterator: Iterable[SampleHub] = hubs
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(hubs, desc="sample nation", unit="hub")
    with private_umask():
        folder.mkdir(parents=True, exist_ok=True)
        for hub in iterator:
            df = _generate_hub(hub, c, scale, seed)
            df[schema.HUB] = df[schema.HUB].cat.remove_unused_categories()
            p = folder / f"contacts_{hub.slug}{NATION_FORMATS[fmt]}"
            if fmt == "csv":
                _to_iso_csv(df, p)
            else:
                _to_parquet(df, p, level=NATION_PARQUET_LEVEL)
            paths[f"contacts_{hub.slug}"] = p
            del df
        p = out / "population.csv"
        nation_population(hubs).to_csv(p, index=False, lineterminator="\n")
        paths["population"] = p
        p = out / "hubs.csv"
        pd.DataFrame(
            {
                schema.HUB: [h.slug for h in hubs],
                "name": [h.name for h in hubs],
                "population_2017": [h.drivers.population_2017 for h in hubs],
                "population_2023": [h.drivers.population_2023 for h in hubs],
                "need": [h.need for h in hubs],
            }
        ).to_csv(p, index=False, lineterminator="\n")
        paths["hubs"] = p
    for q in (out, folder, *paths.values()):
        make_private(q)
    return paths


def nation_population(hubs: Sequence[SampleHub]) -> pd.DataFrame:
    """``population.csv`` rows (CONTRACTS.md section 3) for the given hubs.

    Thames Valley hubs keep the shipped ONS rows; a synthetic hub gets estimates for
    2012-2023 and principal projections for 2024-2030 from its drivers (the growth of
    :func:`_population_index` at mid-year), for ages ``0-17``, ``18+`` and ``all`` [people].
    """
    shipped = pd.read_csv(_SHIPPED / "population.csv", dtype={"variant": "string"})
    frames = [shipped[shipped[schema.HUB].isin([h.slug for h in hubs])]]
    years = np.array([*_ESTIMATE_YEARS, *_PROJECTION_YEARS])
    kind = np.where(years < _PROJECTION_YEARS.start, "estimate", "projection")
    variant = np.where(years < _PROJECTION_YEARS.start, "", "principal")
    for h in hubs:
        if h.slug in HUB_SLUGS:
            continue
        idx = _population_index(h.drivers, years + 0.5)
        total = np.round(h.drivers.population_2023 * idx[0]).astype(np.int64)
        child = np.round(h.drivers.children_2023 * idx[1]).astype(np.int64)
        for band, values in (("0-17", child), ("18+", total - child), ("all", total)):
            frames.append(
                pd.DataFrame(
                    {
                        schema.HUB: h.slug,
                        "year": years,
                        "age_band": band,
                        "population": values,
                        "kind": kind,
                        "variant": variant,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def cache_dir() -> Path:
    """Where mashdemand keeps files it can make again (``MASHDEMAND_CACHE``, else the user's
    cache folder)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mashdemand"


def ensure_sample(
    folder: str | Path | None = None,
    *,
    seed: int = DEFAULT_SEED,
    start: str = DEFAULT_START,
    end: str = SAMPLE_END,
    progress: bool = False,
    show_progress: bool | None = None,
) -> Path:
    """The sample force's folder, made on first use (a wheel ships no ``data/sample``).

    The sample is generated deterministically (:func:`write_sample`), so the folder made here
    holds the same data as the checkout's ``data/sample``. It is written to a temporary folder
    beside it and renamed into place whole, so an interrupted run leaves nothing half made.

    Parameters
    ----------
    folder : path, optional
        Default ``cache_dir() / f"sample-{seed}-{end}"``.
    seed, start, end
        As :func:`generate_contacts`.
    progress : bool
        Show a progress bar while generating.
    show_progress : bool, optional
        Deprecated name of ``progress``.

    Returns
    -------
    Path
        A folder with every file of :func:`write_sample`.
    """
    progress = progress_argument(progress, show_progress, "ensure_sample")
    target = Path(folder) if folder else cache_dir() / f"sample-{seed}-{end}"
    if (target / "daily_counts.csv").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=target.parent))
    try:
        write_sample(tmp, seed=seed, start=start, end=end, progress=progress)
        try:
            tmp.rename(target)
        except OSError:  # made meanwhile by another run: keep theirs
            if not (target / "daily_counts.csv").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _to_parquet(df: pd.DataFrame, path: Path, level: int = 19) -> None:
    # Delta encoding halves the size of the (sorted) timestamp columns; readers (pyarrow,
    # DuckDB) decode it transparently.
    times = [schema.RECEIVED_AT, schema.DECIDED_AT]
    df.to_parquet(
        path,
        compression="zstd",
        compression_level=level,
        index=False,
        use_dictionary=[c for c in df.columns if c not in (schema.CONTACT_ID, *times)],
        column_encoding=dict.fromkeys(times, "DELTA_BINARY_PACKED"),
    )


def _to_iso_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(
        path, index=False, date_format="%Y-%m-%dT%H:%M:%S", lineterminator="\n", encoding="utf-8"
    )

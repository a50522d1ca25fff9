"""Hubs: the one rule that turns a raw hub value into its slug, and the sample force's hubs.

The hub rule (:func:`hub_slug`, :func:`validate_hubs`) applies wherever a hub enters: contact
logs (the ingest's SQL, in :mod:`mashdemand.sql`, is built from the same constants),
aggregated counts, population and housing drivers and the FMS establishment file. A raw value:

1. loses surrounding spaces (and no-break spaces, which spreadsheets add invisibly);
2. has each run of inner spaces and underscores replaced by one hyphen;
3. must then be ASCII letters, digits and hyphens, starting with a letter or digit
   (:data:`HUB_FORM`), else it is not a hub: ingest quarantines the row as ``invalid_hub``,
   every other reader refuses the file naming the row and column;
4. is lower-cased (after the check, so that no non-ASCII letter lower-cases into a slug:
   Python and DuckDB disagree on some, e.g. ``"İ"``).

So ``Milton Keynes`` and ``milton_keynes`` are ``milton-keynes``, while ``north|south`` (the
forecast joins series keys with ``|``), ``=HYPERLINK(...)`` (a spreadsheet formula), a tab or a
line break are refused rather than renamed.

The Thames Valley hubs used by the sample force: slug, local authority name and ONS codes.
One MASH per local authority (DOMAIN.md). Codes are ONS GSS codes (April 2023 geography);
Buckinghamshire became a unitary authority in April 2020 (E06000060, formerly county E10000002
with districts E07000004-E07000007), and Oxfordshire is a county council whose population is
the sum of its five districts.

Synthetic hubs (``mashdemand sample --hubs N`` beyond the nine) are recognised by their slug
alone, ``synthetic-NNN`` with NNN >= 10 (:func:`synthetic_slug`, :func:`synthetic_number`), and
read as "Synthetic hub NNN": no table to keep in step, whatever N was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from os import PathLike

from mashdemand.schema import FORCE_TOTAL, SPLIT_SEP

HUB_TRIM = " \u00a0"
"""Characters removed from both ends of a raw hub value: space and no-break space."""
HUB_SEPARATORS = "[ _]+"
"""A run of these inside a hub value becomes one hyphen (regex, same in Python and DuckDB)."""
HUB_FORM = "[A-Za-z0-9][A-Za-z0-9-]*"
"""What a hub must look like after :data:`HUB_SEPARATORS`, before lower-casing (full match).
Explicit ASCII classes, no flags: Python ``re`` and DuckDB's RE2 read it identically."""
HUB_SLUG_PATTERN = "[a-z0-9][a-z0-9-]*"
"""A stored hub slug (full match)."""
FORCE_TOTAL_NAME = "Force total"
"""Display name of the force total row (``ALL``)."""

_SEPARATORS = re.compile(HUB_SEPARATORS)
_FORM = re.compile(HUB_FORM)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_SHOWN = 60


@dataclass(frozen=True)
class Hub:
    """One MASH: its slug (as in the contact log), its authority's name and ONS codes."""

    slug: str
    name: str
    code: str
    former_codes: tuple[str, ...] = ()
    district_codes: tuple[str, ...] = ()


TVP_HUBS: tuple[Hub, ...] = (
    Hub("bracknell-forest", "Bracknell Forest", "E06000036"),
    Hub("reading", "Reading", "E06000038"),
    Hub("slough", "Slough", "E06000039"),
    Hub("west-berkshire", "West Berkshire", "E06000037"),
    Hub("windsor-and-maidenhead", "Windsor and Maidenhead", "E06000040"),
    Hub("wokingham", "Wokingham", "E06000041"),
    Hub(
        "buckinghamshire",
        "Buckinghamshire",
        "E06000060",
        former_codes=("E10000002",),
        district_codes=("E07000004", "E07000005", "E07000006", "E07000007"),
    ),
    Hub("milton-keynes", "Milton Keynes", "E06000042"),
    Hub(
        "oxfordshire",
        "Oxfordshire",
        "E10000025",
        district_codes=("E07000177", "E07000178", "E07000179", "E07000180", "E07000181"),
    ),
)

HUB_SLUGS: tuple[str, ...] = tuple(h.slug for h in TVP_HUBS)

SYNTHETIC_PREFIX = "synthetic-"
"""Slug prefix of the sample's synthetic hubs: ``synthetic-010``, ``synthetic-011``, ..."""
FIRST_SYNTHETIC = len(TVP_HUBS) + 1
"""Number of the first synthetic hub (10): hubs 1-9 are the Thames Valley ones."""
_SYNTHETIC = re.compile(re.escape(SYNTHETIC_PREFIX) + r"([0-9]{3,})")


def synthetic_slug(number: int) -> str:
    """The slug of synthetic hub ``number`` (its position in a sample nation, from 10).

    >>> synthetic_slug(10), synthetic_slug(150), synthetic_slug(1234)
    ('synthetic-010', 'synthetic-150', 'synthetic-1234')
    """
    if number < FIRST_SYNTHETIC:
        raise ValueError(f"synthetic hubs are numbered from {FIRST_SYNTHETIC}, not {number}")
    return f"{SYNTHETIC_PREFIX}{number:03d}"


def synthetic_number(slug: str) -> int | None:
    """The number of a synthetic hub's slug, ``None`` for any other slug.

    >>> [synthetic_number(s) for s in ("synthetic-010", "reading", "synthetic-003")]
    [10, None, None]
    """
    m = _SYNTHETIC.fullmatch(slug)
    if m is None or int(m.group(1)) < FIRST_SYNTHETIC or synthetic_slug(int(m.group(1))) != slug:
        return None
    return int(m.group(1))


# --- The hub rule ------------------------------------------------------------------------------
def hub_text(value: object) -> str | None:
    """A raw hub value trimmed and with separators made hyphens; ``None`` when it is missing.

    The first two steps of the rule, before the check (ingest's ``_hub_slug``).

    >>> hub_text("  Milton Keynes "), hub_text("north__east"), hub_text(" "), hub_text(None)
    ('Milton-Keynes', 'north-east', None, None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = _SEPARATORS.sub("-", str(value).strip(HUB_TRIM))
    return text or None


def hub_slug(value: object) -> str | None:
    """The slug of a raw hub value, exactly as ingest makes it; ``None`` if it has none.

    >>> hub_slug("Milton Keynes"), hub_slug("west_berkshire"), hub_slug("reading")
    ('milton-keynes', 'west-berkshire', 'reading')
    >>> hub_slug("north|south"), hub_slug('=HYPERLINK("http://x","y")'), hub_slug("-a")
    (None, None, None)
    """
    text = hub_text(value)
    if text is None or _FORM.fullmatch(text) is None:
        return None
    return text.lower()


def hub_problem(value: object) -> str | None:
    """What is wrong with a raw hub value, in words; ``None`` when it makes a slug.

    >>> hub_problem("reading") is None
    True
    >>> hub_problem("north|south")
    "'north|south' contains '|', which separates series in the forecast"
    """
    text = hub_text(value)
    if text is None:
        return "missing hub"
    if _FORM.fullmatch(text) is not None:
        return None
    shown = _shown(value)
    if SPLIT_SEP in text:
        return f"{shown} contains '{SPLIT_SEP}', which separates series in the forecast"
    if _CONTROL.search(str(value)):
        return f"{shown} contains a control character (tab, line break or similar)"
    return (
        f"{shown} is not a hub slug: use letters, digits, spaces, hyphens or underscores, "
        "starting with a letter or digit (e.g. milton-keynes)"
    )


def validate_hubs(
    values: Iterable[object],
    source: str | PathLike[str],
    *,
    column: str = "hub",
    first_row: int = 2,
    error: Callable[[str], Exception] = ValueError,
) -> list[str]:
    """The slugs of a whole hub column, or a one-line error naming file, row and column.

    Parameters
    ----------
    values : iterable
        The raw hub values, in file order.
    source : str or path-like
        The file they came from (named in the error).
    column : str
        The column name (named in the error).
    first_row : int
        Row number of the first value: 2 in spreadsheet numbering (header row 1).
    error : callable
        The exception class to raise (the reader's own, e.g. ``CountsError``).

    Returns
    -------
    list of str
        One slug per value.

    Raises
    ------
    Exception
        ``error("<source>: row <n>, column <column>: <what is wrong>")`` for the first value
        that is empty, contains ``|`` or a control character, or otherwise breaks the rule.

    >>> validate_hubs(["Reading", "milton_keynes"], "counts.csv")
    ['reading', 'milton-keynes']
    >>> validate_hubs(["reading", "=1+2"], "counts.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: counts.csv: row 3, column hub: '=1+2' is not a hub slug: ...
    """
    slugs: list[str] = []
    seen: dict[tuple[type, object], str | None] = {}  # a column holds a handful of hubs
    for row, value in enumerate(values, start=first_row):
        key = (type(value), value)
        try:
            if key not in seen:
                seen[key] = hub_slug(value)
            slug = seen[key]
        except TypeError:  # an unhashable value
            slug = hub_slug(value)
        if slug is None:
            raise error(f"{source}: row {row}, column {column}: {hub_problem(value)}")
        slugs.append(slug)
    return slugs


def display_name(slug: str) -> str:
    """How a hub is named to readers: the authority's name for known hubs, "Synthetic hub N"
    for the sample's synthetic hubs, else a title.

    >>> display_name("bracknell-forest"), display_name("north-east"), display_name("ALL")
    ('Bracknell Forest', 'North East', 'Force total')
    >>> display_name("synthetic-010")
    'Synthetic hub 10'
    """
    if slug == FORCE_TOTAL:
        return FORCE_TOTAL_NAME
    known = _NAMES.get(slug)
    if known is not None:
        return known
    number = synthetic_number(slug)
    if number is not None:
        return f"Synthetic hub {number}"
    return " ".join(word.capitalize() for word in slug.split("-") if word)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 4] + "...'"


_NAMES: dict[str, str] = {h.slug: h.name for h in TVP_HUBS}

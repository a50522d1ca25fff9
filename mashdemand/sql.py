"""SQL shared by the store and the ingest: literals, the time-zone macros and the hub rule.

The store (:mod:`mashdemand.store`) defines the macros on every connection it opens and
normalises hub text in its housekeeping queries; the ingest (:mod:`mashdemand.ingest.parsing`)
builds its parsing SQL from the same pieces. Both import from here, so the data layer does not
depend on the ingest.

The UK summer-time rule as arithmetic on naive timestamps (ICU time-zone calls cost ~1 us a
row; this is vectorised arithmetic): summer time runs from 01:00 UTC on the last Sunday of March
to 01:00 UTC on the last Sunday of October (the rule in force since 1996; tests check it hour by
hour against tzdata). For a local wall-clock time, BST applies from 02:00 local on the spring
day (01:00-01:59 never happens: it is read one hour on, i.e. as GMT) to 02:00 local on the
autumn day (01:00-01:59 happens twice: the first, BST, occurrence is taken).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from mashdemand.hubs import HUB_FORM, HUB_SEPARATORS, HUB_TRIM

if TYPE_CHECKING:
    import duckdb


def _last_sunday_1am(year: int, month: int) -> str:
    """The last Sunday of ``month`` (March or October) at 01:00, as an SQL timestamp."""
    last = date(year, month, 31)
    day = last - timedelta(days=last.isoweekday() % 7)
    return f"TIMESTAMP '{day.isoformat()} 01:00:00'"


#: Years whose summer-time bounds are looked up in a list (a vectorised index, about three
#: times cheaper per row than the date arithmetic, which serves any other year).
BST_YEARS = range(1970, 2101)
_STARTS = "[" + ", ".join(_last_sunday_1am(y, 3) for y in BST_YEARS) + "]"
_ENDS = "[" + ", ".join(_last_sunday_1am(y, 10) for y in BST_YEARS) + "]"
_FIRST = BST_YEARS[0] - 1  # DuckDB lists are 1-based

MACROS = f"""
CREATE OR REPLACE TEMP MACRO md_bst_start(y) AS
    CASE WHEN y BETWEEN {BST_YEARS[0]} AND {BST_YEARS[-1]} THEN {_STARTS}[y - {_FIRST}]
         ELSE make_timestamp(y, 3, 31, 1, 0, 0) - to_days(dayofweek(make_date(y, 3, 31))) END;
CREATE OR REPLACE TEMP MACRO md_bst_end(y) AS
    CASE WHEN y BETWEEN {BST_YEARS[0]} AND {BST_YEARS[-1]} THEN {_ENDS}[y - {_FIRST}]
         ELSE make_timestamp(y, 10, 31, 1, 0, 0) - to_days(dayofweek(make_date(y, 10, 31))) END;
CREATE OR REPLACE TEMP MACRO md_local_to_utc(ts) AS
    CASE WHEN ts >= md_bst_start(year(ts)) + INTERVAL 1 HOUR
          AND ts < md_bst_end(year(ts)) + INTERVAL 1 HOUR
         THEN ts - INTERVAL 1 HOUR ELSE ts END;
CREATE OR REPLACE TEMP MACRO md_utc_to_local(ts) AS
    CASE WHEN ts >= md_bst_start(year(ts)) AND ts < md_bst_end(year(ts))
         THEN ts + INTERVAL 1 HOUR ELSE ts END;
CREATE OR REPLACE TEMP MACRO md_text(x) AS nullif(trim(CAST(x AS VARCHAR)), '');
CREATE OR REPLACE TEMP MACRO md_token(x) AS
    nullif(regexp_replace(lower(md_text(x)), '[\\s\\-]+', '_', 'g'), '');
"""
"""Macros ``md_local_to_utc``, ``md_utc_to_local`` (the rule above), ``md_text`` (trimmed text,
NULL when empty) and ``md_token`` (lower case, runs of spaces and hyphens to ``_``)."""


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define :data:`MACROS` on a connection (temporary: never stored in the file)."""
    con.execute(MACROS)


def quote(text: str) -> str:
    """An SQL string literal.

    >>> quote("St John's")
    "'St John''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def sql_list(items: tuple[str, ...] | list[str]) -> str:
    """An SQL list literal of strings.

    >>> sql_list(["a", "b"])
    "['a', 'b']"
    """
    return "[" + ", ".join(quote(i) for i in items) + "]"


# The hub rule of mashdemand.hubs, from its constants (one rule, no drift): HUB_TEXT_SQL is
# hubs.hub_text (NULL = missing hub); HUB_SQL is hubs.hub_slug (NULL = invalid_hub).
HUB_TEXT_SQL = (
    f"nullif(regexp_replace(trim(CAST({{c}} AS VARCHAR), {quote(HUB_TRIM)}), "
    f"{quote(HUB_SEPARATORS)}, '-', 'g'), '')"
)
"""A raw hub value ``{c}`` trimmed, inner separators as hyphens (``hubs.hub_text``)."""
HUB_SQL = f"CASE WHEN regexp_full_match({{t}}, {quote(HUB_FORM)}) THEN lower({{t}}) END"
"""The slug of hub text ``{t}`` (from :data:`HUB_TEXT_SQL`), NULL when it breaks the rule."""

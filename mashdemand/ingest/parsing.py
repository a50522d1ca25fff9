"""Parse and normalise contact-log values, vectorised. Pure functions, no I/O.

Rules (documented in the README, section "Loading your own force's export"):

- Timestamps: ISO 8601 (``2024-03-05T14:30:00``, ``2024-03-05 14:30``, optional fraction and
  offset ``Z``/``+01:00``) or UK day-first (``05/03/2024 14:30[:ss]``, ``05/03/2024``,
  also with ``-`` or ``.`` separators). Day-first always: ``04/05/2024`` is 4 May.
- A timestamp without an offset is Europe/London local time. In the spring-forward gap
  (e.g. 01:30 on 31/03/2024, which never happened) it is moved forward by the gap, to 02:30
  BST = 01:30 UTC; in the autumn overlap (01:00-01:59 happens twice) it is taken as the first
  occurrence, in BST. Offsets, where given, are honoured.
- Closed vocabularies (source, subject, priority) are normalised: case, surrounding spaces,
  inner spaces and hyphens to underscores, then common aliases (schema.py). An unknown
  ``source`` becomes ``other`` (the vocabulary has that bucket; counted in the summary);
  an unknown ``subject`` or ``priority`` has no safe bucket and quarantines the row.
- ``rpa`` accepts true/false, yes/no, y/n, 1/0 (any case); anything else quarantines the row.
- ``hub`` becomes a slug: lower case, spaces and underscores to hyphens.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mashdemand import schema

# Formats parsed by Arrow's C++ strptime (fast), with where the day is written. strptime
# rolls impossible dates over (31/02 -> 2 March), so a value is taken only when the parsed day
# equals the day written; any rollover changes the day. Everything else (fractions, offsets,
# other separators, unpadded ISO) takes the careful pandas path below.
DAY_FIRST, ISO_DAY = "day_first", "iso"
FAST_FORMATS: tuple[tuple[str, str], ...] = (
    ("%d/%m/%Y %H:%M", DAY_FIRST),
    ("%d/%m/%Y %H:%M:%S", DAY_FIRST),
    ("%d/%m/%Y", DAY_FIRST),
    ("%Y-%m-%dT%H:%M:%S", ISO_DAY),
    ("%Y-%m-%d %H:%M:%S", ISO_DAY),
    ("%Y-%m-%dT%H:%M", ISO_DAY),
    ("%Y-%m-%d %H:%M", ISO_DAY),
)

_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO_OFFSET = _ISO + r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_ISO_NAIVE = _ISO + r"$"
_UK = r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text, missing/blank as <NA>."""
    s = values.astype("string").str.strip()
    return s.mask(s == "")


def parse_local_timestamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse timestamps to UTC.

    Parameters
    ----------
    values : pd.Series
        Text in the formats of the module docstring, or datetimes (naive = UK local time).

    Returns
    -------
    utc : pd.Series
        ``datetime64[us, UTC]``; NaT where missing or unparseable.
    bad : pd.Series
        Boolean, True where a value was present but could not be parsed.

    Examples
    --------
    >>> s = pd.Series(["04/05/2024 09:00", "2024-03-31T01:30", "2024-10-27 01:30", "x", None])
    >>> utc, bad = parse_local_timestamps(s)
    >>> [str(t) for t in utc[:3]]
    ['2024-05-04 08:00:00+00:00', '2024-03-31 01:30:00+00:00', '2024-10-27 00:30:00+00:00']
    >>> bad.tolist()
    [False, False, False, True, False]
    """
    n = len(values)
    index = values.index
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        ts = pd.Series(values.to_numpy(), index=index)
        if getattr(values.dtype, "tz", None) is not None:
            return values.dt.tz_convert("UTC").astype("datetime64[us, UTC]"), pd.Series(
                False, index=index
            )
        return _localise(ts.astype("datetime64[us]")), pd.Series(False, index=index)

    if values.dtype == object:
        # Spreadsheets give datetime objects in some cells, text in others.
        is_dt = values.map(
            lambda v: isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "tzinfo")
        )
        if is_dt.any():
            out_dt = pd.to_datetime(values[is_dt], errors="coerce")
            rest_utc, rest_bad = parse_local_timestamps(values[~is_dt].astype("string"))
            utc = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
            utc[is_dt] = _localise(out_dt.astype("datetime64[us]"))
            utc[~is_dt] = rest_utc
            bad = pd.Series(False, index=index)
            bad[~is_dt] = rest_bad
            return utc, bad

    s = _as_text(values)
    utc = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
    present = s.notna()
    done = pd.Series(False, index=index)

    naive_fast, fast_ok = _fast_parse(s)
    if fast_ok.all():  # the usual case: one common format throughout
        return _localise(naive_fast), pd.Series(False, index=index)
    if fast_ok.any():
        utc[fast_ok] = _localise(naive_fast[fast_ok])
        done |= fast_ok
    if not (present & ~done).any():
        return utc, pd.Series(False, index=index)

    m_off = present & s.str.match(_ISO_OFFSET, na=False)
    if m_off.any():
        utc[m_off] = pd.to_datetime(
            s[m_off].str.replace(r"\s+(?=[Z+-]\d*:?\d*$)", "", regex=True),
            format="ISO8601",
            utc=True,
            errors="coerce",
        ).astype("datetime64[us, UTC]")
        done |= m_off

    m_iso = present & ~done & s.str.match(_ISO_NAIVE, na=False)
    if m_iso.any():
        naive = pd.to_datetime(s[m_iso], format="ISO8601", errors="coerce")
        utc[m_iso] = _localise(naive.astype("datetime64[us]"))
        done |= m_iso

    m_uk = present & ~done
    if m_uk.any():
        parts = s[m_uk].str.extract(_UK)
        ok = parts[0].notna()
        if ok.any():
            p = parts[ok].astype("float64")
            frame = pd.DataFrame(
                {
                    "year": p[2],
                    "month": p[1],
                    "day": p[0],
                    "hour": p[3].fillna(0),
                    "minute": p[4].fillna(0),
                    "second": p[5].fillna(0),
                }
            )
            naive = pd.to_datetime(frame, errors="coerce")
            utc[naive.index] = _localise(naive.astype("datetime64[us]"))

    bad = present & utc.isna()
    assert len(bad) == n
    return utc, bad


def _fast_parse(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse the common formats with Arrow; returns (naive datetimes, parsed mask)."""
    arr = pa.chunked_array(pa.array(s.astype("string[pyarrow]"))).combine_chunks()
    out = pa.nulls(len(arr), type=pa.timestamp("s"))
    todo = pc.is_valid(arr)
    for fmt, day_at in FAST_FORMATS:
        if not pc.any(todo).as_py():
            break
        cand = pc.if_else(todo, arr, pa.scalar(None, pa.string()))
        parsed = pc.strptime(cand, format=fmt, unit="s", error_is_null=True)
        if day_at == DAY_FIRST:  # "5/..." or "05/...": the digits before the first slash
            written = pc.utf8_rtrim(pc.utf8_slice_codeunits(cand, 0, 2), characters="/")
        else:
            written = pc.utf8_slice_codeunits(cand, 8, 10)
        ok_parse = pc.is_valid(parsed)
        written = pc.if_else(ok_parse, written, pa.scalar(None, pa.string()))
        day_written = _to_int(written)
        take = pc.fill_null(pc.equal(pc.day(parsed), day_written), False)
        out = pc.if_else(take, parsed, out)
        todo = pc.and_(todo, pc.invert(take))
    naive = pd.Series(out.to_pandas(), index=s.index).astype("datetime64[us]")
    return naive, naive.notna()


def _to_int(text: pa.Array) -> pa.Array:
    """Digits to integers; anything else to null."""
    digits = pc.utf8_is_decimal(text)
    return pc.cast(pc.if_else(digits, text, pa.scalar(None, pa.string())), pa.int64())


def _localise(naive: pd.Series) -> pd.Series:
    """UK local wall-clock times (naive) to UTC, with the DST rules of the module docstring."""
    if len(naive) == 0:
        return pd.Series([], index=naive.index, dtype="datetime64[us, UTC]")
    first_occurrence = np.ones(len(naive), dtype=bool)
    return (
        naive.dt.tz_localize(schema.UK_TZ, ambiguous=first_occurrence, nonexistent=pd.Timedelta(hours=1))
        .dt.tz_convert("UTC")
        .astype("datetime64[us, UTC]")
    )


def utc_to_local(utc: pd.Series) -> pd.Series:
    """UTC timestamps to naive Europe/London wall-clock times."""
    return utc.dt.tz_convert(schema.UK_TZ).dt.tz_localize(None)


def _by_uniques(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``fn`` to the distinct values only, then spread the result over all rows.

    Export columns such as source or priority hold a handful of distinct values in a million
    rows, so normalising the distinct values is thousands of times less work.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = fn(pd.Series(uniques, dtype=object)).astype(object)
    mapped_pa = pa.array(mapped.where(mapped.notna(), None).tolist(), type=pa.string())
    taken = mapped_pa.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.arrays.ArrowStringArray(taken), index=values.index)


def normalise_token(values: pd.Series) -> pd.Series:
    """Lower case, trimmed, inner spaces and hyphens to single underscores; blank -> <NA>.

    >>> normalise_token(pd.Series([" Local Authority ", "HIGH", "", None])).tolist()
    ['local_authority', 'high', <NA>, <NA>]
    """
    def norm(u: pd.Series) -> pd.Series:
        return _as_text(u).str.lower().str.replace(r"[\s\-]+", "_", regex=True)

    return _by_uniques(values, norm).astype("string")


def normalise_vocab(
    values: pd.Series, vocab: tuple[str, ...], aliases: dict[str, str]
) -> tuple[pd.Series, pd.Series]:
    """Normalise to a closed vocabulary.

    Returns (normalised values with <NA> for missing or unknown, boolean mask of unknown values).

    >>> v, unknown = normalise_vocab(pd.Series(["School", "Police", "zzz"]), schema.SOURCES,
    ...                              schema.SOURCE_ALIASES)
    >>> v.tolist(), unknown.tolist()
    (['education', 'police', <NA>], [False, False, True])
    """
    s = normalise_token(values)
    s = s.replace(aliases)
    known = s.isin(vocab)
    unknown = s.notna() & ~known
    return s.where(known), unknown


def normalise_hub(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Hub names to slugs. Returns (slugs, invalid mask: present but not sluggable).

    >>> normalise_hub(pd.Series(["Milton Keynes", "reading", "??"]))[0].tolist()
    ['milton-keynes', 'reading', <NA>]
    """
    def slug(u: pd.Series) -> pd.Series:
        t = _as_text(u).str.lower().str.replace(r"[\s_]+", "-", regex=True)
        ok = t.str.fullmatch(r"[a-z0-9][a-z0-9\-]*", na=False)
        return t.where(ok | t.isna(), "\x00invalid")

    s = _by_uniques(values, slug).astype("string")
    bad = (s == "\x00invalid").fillna(False)
    return s.mask(bad), bad


_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse true/false-like values. Returns (boolean Series with <NA>, invalid mask).

    >>> parse_bool(pd.Series(["Yes", "0", "maybe", None]))[0].tolist()
    [True, False, <NA>, <NA>]
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    s = _by_uniques(values, lambda u: _as_text(u).str.lower()).astype("string")
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    t = s.isin(_TRUE)
    f = s.isin(_FALSE)
    out[t] = True
    out[f] = False
    return out, s.notna() & ~t & ~f


def clean_text(values: pd.Series, max_len: int = 200) -> pd.Series:
    """Free text (category, outcome): normalised like vocabularies, truncated; blank -> <NA>."""
    return normalise_token(values).str.slice(0, max_len)

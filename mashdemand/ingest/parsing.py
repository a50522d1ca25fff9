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

import numpy as np
import pandas as pd

from mashdemand import schema

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


def _localise(naive: pd.Series) -> pd.Series:
    """UK local wall-clock times (naive) to UTC, with the DST rules of the module docstring."""
    if len(naive) == 0:
        return naive.astype("datetime64[us, UTC]")
    first_occurrence = np.ones(len(naive), dtype=bool)
    return (
        naive.dt.tz_localize(schema.UK_TZ, ambiguous=first_occurrence, nonexistent="shift_forward")
        .dt.tz_convert("UTC")
        .astype("datetime64[us, UTC]")
    )


def utc_to_local(utc: pd.Series) -> pd.Series:
    """UTC timestamps to naive Europe/London wall-clock times."""
    return utc.dt.tz_convert(schema.UK_TZ).dt.tz_localize(None)


def normalise_token(values: pd.Series) -> pd.Series:
    """Lower case, trimmed, inner spaces and hyphens to single underscores; blank -> <NA>.

    >>> normalise_token(pd.Series([" Local Authority ", "HIGH", "", None])).tolist()
    ['local_authority', 'high', <NA>, <NA>]
    """
    s = _as_text(values).str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    return s


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
    s = _as_text(values).str.lower().str.replace(r"[\s_]+", "-", regex=True)
    ok = s.str.fullmatch(r"[a-z0-9][a-z0-9\-]*", na=False)
    return s.where(ok), s.notna() & ~ok


_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse true/false-like values. Returns (boolean Series with <NA>, invalid mask).

    >>> parse_bool(pd.Series(["Yes", "0", "maybe", None]))[0].tolist()
    [True, False, <NA>, <NA>]
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    s = _as_text(values).str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    t = s.isin(_TRUE)
    f = s.isin(_FALSE)
    out[t] = True
    out[f] = False
    return out, s.notna() & ~t & ~f


def clean_text(values: pd.Series, max_len: int = 200) -> pd.Series:
    """Free text (category, outcome): normalised like vocabularies, truncated; blank -> <NA>."""
    return normalise_token(values).str.slice(0, max_len)

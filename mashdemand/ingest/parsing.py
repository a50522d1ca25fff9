"""Parse and normalise contact-log values: the rules, as DuckDB SQL expressions.

The ingest pipeline runs these expressions over the whole export in one parallel pass
(:func:`parse_sql`); :func:`parse_local_timestamps` and :func:`parse_contacts` run the same
expressions on a pandas Series or frame, for notebooks and tests. One set of rules, one place.

Rules (also in the README, "Loading your own force's export"):

- Timestamps: ISO 8601 (``2024-03-05T14:30:00``, ``2024-03-05 14:30``, optional fraction, or
  with an offset ``Z``/``+01:00``) or UK day-first (``05/03/2024 14:30[:ss]``, ``05/03/2024``,
  also with ``-`` or ``.`` between day, month and year). Day-first always: ``04/05/2024`` is
  4 May. Impossible dates (``31/02/2024``) are unparseable, never rolled over.
- A timestamp without an offset is Europe/London local time. In the spring-forward gap
  (e.g. 01:30 on 31/03/2024, which never happened) it is moved forward by the gap, to 02:30
  BST = 01:30 UTC; in the autumn overlap (01:00-01:59 happens twice) it is taken as the first
  occurrence, in BST. Offsets, where given, are honoured. Typed timestamps (Parquet, Excel)
  without a zone are local time too.
- Closed vocabularies (source, subject, priority) are normalised: case, surrounding spaces,
  inner spaces and hyphens to underscores, then common aliases (schema.py). An unknown
  ``source`` becomes ``other`` (the vocabulary has that bucket; counted in the summary); an
  unknown ``subject`` or ``priority`` has no safe bucket and quarantines the row.
- ``rpa`` accepts true/false, yes/no, y/n, t/f, 1/0 (any case); anything else quarantines.
- ``hub`` becomes a slug by the hub rule of :mod:`mashdemand.hubs` (surrounding spaces
  trimmed, inner spaces and underscores to hyphens, then ASCII letters, digits and hyphens
  starting with a letter or digit, lower-cased); anything else quarantines as ``invalid_hub``.
- Free text (category, outcome) is normalised like a vocabulary and cut at 200 characters.

The time-zone macros (``md_local_to_utc``...) and the hub rule in SQL live in
:mod:`mashdemand.sql`, which the store shares.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from mashdemand import schema
from mashdemand.sql import HUB_SQL, HUB_TEXT_SQL, install_macros, quote, sql_list

if TYPE_CHECKING:
    import pandas as pd

LOCAL_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%d/%m/%Y %H:%M:%S.%f",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
# ISO date-time with an explicit offset: parsed as an instant, not as local time.
ISO_WITH_OFFSET = (
    r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"
)
TRUE_WORDS: tuple[str, ...] = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS: tuple[str, ...] = ("false", "f", "no", "n", "0", "0.0")
MAX_TEXT = 200
#: SQL: the row fingerprint's hash, a UBIGINT: ``md5_number_lower({x})`` (the last 8 bytes of
#: the MD5 digest, as stored by every version), computed as the top 64 bits of
#: ``md5_number``, which DuckDB computes about three times faster (same value, bit for bit:
#: ``tests/test_ingest_hash.py``).
HASH64_SQL = "CAST(CAST(md5_number({x}) AS UHUGEINT) >> 64 AS UBIGINT)"

# Normalisation of the low-cardinality columns, run on each column's distinct values only
# (:func:`pretokenise`); ``{c}`` is the column.
TOKEN_SQL: dict[str, str] = {
    "hub": HUB_TEXT_SQL,
    "source": "md_token({c})",
    "subject": "md_token({c})",
    "priority": "md_token({c})",
    "category": f"left(md_token({{c}}), {MAX_TEXT})",
    "outcome": f"left(md_token({{c}}), {MAX_TEXT})",
    "rpa": "lower(md_text({c}))",
}
#: Columns of unique values that :func:`pretokenise` trims as DuckDB's ``trim`` does (the
#: Unicode space separators, category Zs), about three times faster.
TRIMMED: tuple[str, ...] = ("contact_id", "received_at", "decided_at")
SPACES = " \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"


#: A pretokenised value that is present but breaks its rule (a hub that is not a slug, a word
#: outside a closed vocabulary), as SQL.
INVALID_SQL = "chr(1)"
VOCABULARIES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "source": (schema.SOURCES, schema.SOURCE_ALIASES),
    "subject": (schema.SUBJECTS, schema.SUBJECT_ALIASES),
    "priority": (schema.PRIORITIES, schema.PRIORITY_ALIASES),
}


def checked_sql(c: str, x: str) -> str:
    """SQL: the normalised value of column ``c`` from raw value ``x``; NULL where missing and,
    for the hub and the closed vocabularies, :data:`INVALID_SQL` where it breaks the rule.

    >>> checked_sql("category", "v")
    'left(md_token(v), 200)'
    """
    token = TOKEN_SQL[c].format(c=x)
    if c == "rpa":
        value = f"CASE WHEN {_is_in(token, TRUE_WORDS)} THEN 'true' " + (
            f"WHEN {_is_in(token, FALSE_WORDS)} THEN 'false' END"
        )
    elif c == "hub":
        value = HUB_SQL.format(t=f"({token})")
    elif c in VOCABULARIES:
        value = vocab_sql(f"({token})", *VOCABULARIES[c])[0]
    else:
        return token
    return f"CASE WHEN ({token}) IS NOT NULL THEN coalesce({value}, {INVALID_SQL}) END"


def pretokenise(table: pa.Table, con: duckdb.DuckDBPyConnection) -> tuple[pa.Table, set[str]]:
    """Normalise and check the :data:`TOKEN_SQL` columns of ``table`` on their distinct values
    (:func:`checked_sql`), and trim the :data:`TRIMMED` text columns.

    A million-row export has a handful of distinct sources or priorities: the SQL rule runs
    on the dictionary and the result is spread back with ``take``. Returns the new table and
    the names of the columns now normalised.
    """
    done: set[str] = set()
    for c in TRIMMED:
        if c in table.column_names and pa.types.is_string(table.schema.field(c).type):
            trimmed = pc.utf8_trim(table.column(c), SPACES)
            table = table.set_column(table.column_names.index(c), c, trimmed)
            done.add(c)
    # Every column's distinct values in one table and one query (a query costs a few ms).
    cols: dict[str, pa.ChunkedArray] = {}
    for c in TOKEN_SQL:
        if c not in table.column_names:
            continue
        col = table.column(c)
        if pa.types.is_dictionary(col.type):
            col = col.unify_dictionaries()  # readers build dictionaries while parsing
        elif pa.types.is_string(col.type):
            col = pc.dictionary_encode(col)
        else:
            continue
        if col.num_chunks:
            cols[c] = col
    if not cols:
        return table, done
    dictionaries = [col.chunk(0).dictionary.cast(pa.string()) for col in cols.values()]
    d = pa.table(
        {
            "k": pa.array(
                [k for k, dic in enumerate(dictionaries) for _ in range(len(dic))], pa.int32()
            ),
            "i": pa.array([i for dic in dictionaries for i in range(len(dic))], pa.int32()),
            "v": pa.concat_arrays(dictionaries),
        }
    )
    whens = " ".join(f"WHEN {k} THEN {checked_sql(c, 'v')}" for k, c in enumerate(cols))
    con.register("_dict", d)
    try:
        rows = con.execute(f"SELECT k, CASE k {whens} END FROM _dict ORDER BY k, i").fetchall()
    finally:
        con.unregister("_dict")
    for k, (c, col) in enumerate(cols.items()):
        norm = pa.array([v for kk, v in rows if kk == k], type=pa.string())
        values = pa.chunked_array(
            [pa.DictionaryArray.from_arrays(ch.indices, norm) for ch in col.chunks],
            type=pa.dictionary(col.type.index_type, pa.string()),
        )
        table = table.set_column(table.column_names.index(c), c, values)
        done.add(c)
    return table, done


def _naive_sql(t: str, formats: tuple[str, ...]) -> str:
    return f"try_strptime({t}, {sql_list(formats)})"


def order_formats(sample: list[str]) -> tuple[str, ...]:
    """LOCAL_FORMATS with the formats most common in ``sample`` first (a speed-up only).

    >>> order_formats(["05/03/2024 14:30:00"])[0]
    '%d/%m/%Y %H:%M:%S'
    """
    from datetime import datetime

    hits = dict.fromkeys(LOCAL_FORMATS, 0)
    for v in sample:
        for fmt in LOCAL_FORMATS:
            try:
                datetime.strptime(v.strip(), fmt)
            except ValueError:
                continue
            hits[fmt] += 1
            break
    return tuple(sorted(LOCAL_FORMATS, key=lambda f: -hits[f]))


def _text(col: str, trimmed: bool = False) -> str:
    """SQL: ``col`` as text, NULL when blank (``trimmed``: spaces already cut, by
    :func:`pretokenise`)."""
    return f"nullif({col}, '')" if trimmed else f"md_text({col})"


def _ts_stage0(
    col: str, dtype: pa.DataType | None, formats: tuple[str, ...], trimmed: bool = False
) -> tuple[str, str]:
    """SQL for (naive local TIMESTAMP, naive UTC TIMESTAMP where an offset was given).

    Needs the connection's TimeZone to be UTC (set by the store and by :func:`connect`).
    """
    if dtype is None:
        return "CAST(NULL AS TIMESTAMP)", "CAST(NULL AS TIMESTAMP)"
    if pa.types.is_timestamp(dtype) and dtype.tz is not None:
        return "CAST(NULL AS TIMESTAMP)", f"CAST(CAST({col} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return f"CAST({col} AS TIMESTAMP)", "CAST(NULL AS TIMESTAMP)"
    t = _text(col, trimmed)
    offset = (
        f"CASE WHEN regexp_matches({t}, {quote(ISO_WITH_OFFSET)}) "
        f"THEN CAST(try_cast(regexp_replace({t}, '\\s+([Z+-][0-9:]*)$', '\\1') AS TIMESTAMPTZ)"
        " AS TIMESTAMP) END"
    )
    return _naive_sql(t, formats), offset


def present_sql(col: str, dtype: pa.DataType | None, trimmed: bool = False) -> str:
    """SQL: TRUE where ``col`` holds a value (text: not blank; ``FALSE`` when absent).

    A typed timestamp or date is never blank, so it is tested for NULL without being cast to
    text first (that cast costs as much as parsing it).
    """
    if dtype is None:
        return "FALSE"
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return f"{col} IS NOT NULL"
    return f"{_text(col, trimmed)} IS NOT NULL"


def timestamp_sql(col: str, dtype: pa.DataType | None) -> str:
    """SQL giving the UTC instant (naive UTC TIMESTAMP) of one column."""
    naive, offset = _ts_stage0(col, dtype, LOCAL_FORMATS)
    return f"coalesce({offset}, md_local_to_utc({naive}))"


def _is_in(x: str, words: tuple[str, ...]) -> str:
    """SQL: ``x`` is one of ``words`` (FALSE where ``x`` is NULL).

    Not ``x IN (...)`` (nor ``list_contains``, which DuckDB rewrites to it): DuckDB plans a
    long IN list as a join, which loses the rows' order (and the insert would then have to
    sort them again).
    """
    whens = " ".join(f"WHEN {quote(w)} THEN TRUE" for w in words)
    return f"(CASE {x} {whens} ELSE FALSE END)"


def vocab_sql(col: str | None, vocab: tuple[str, ...], aliases: dict[str, str]) -> tuple[str, str]:
    """SQL for (normalised value or NULL, TRUE where present but unknown).

    ``col`` must already be a token (see ``md_token``).
    """
    if col is None:
        return "CAST(NULL AS VARCHAR)", "FALSE"
    whens = " ".join(f"WHEN {col} = {quote(k)} THEN {quote(v)}" for k, v in aliases.items())
    value = f"CASE WHEN {_is_in(col, vocab)} THEN {col} {whens} END"
    return value, f"({col} IS NOT NULL AND ({value}) IS NULL)"


def bool_sql(col: str | None, dtype: pa.DataType | None, checked: bool = False) -> tuple[str, str]:
    """SQL for (BOOLEAN or NULL, TRUE where present but not a yes/no value).

    ``checked``: ``col`` went through :func:`pretokenise` (``'true'``, ``'false'``, NULL or
    the :data:`INVALID_SQL` mark).
    """
    if col is None:
        return "CAST(NULL AS BOOLEAN)", "FALSE"
    if dtype is not None and pa.types.is_boolean(dtype):
        return col, "FALSE"
    if checked:
        value = f"CASE {col} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
        return value, f"coalesce({col} = {INVALID_SQL}, FALSE)"
    t = f"lower(md_text({col}))"
    value = f"CASE WHEN {_is_in(t, TRUE_WORDS)} THEN TRUE " + (
        f"WHEN {_is_in(t, FALSE_WORDS)} THEN FALSE END"
    )
    return value, f"({t} IS NOT NULL AND ({value}) IS NULL)"


def parse_sql(
    relation: str,
    types: dict[str, pa.DataType],
    now_utc: datetime,
    formats: tuple[str, ...] = LOCAL_FORMATS,
    pretokenised: frozenset[str] | set[str] = frozenset(),
) -> str:
    """A SELECT that parses ``relation`` (canonical columns + ``row_number``).

    Columns named in ``pretokenised`` already went through :func:`pretokenise`.

    Output columns: the store's contact columns (naive UTC timestamps), ``reason``
    (the first failed check, NULL for a usable row), ``reasons`` (all, ``;``-joined),
    ``source_unknown`` and ``row_hash`` (a content fingerprint, UBIGINT). Every value is
    computed once, in stages (DuckDB would otherwise re-evaluate a reused expression).
    """

    def typ(c: str) -> pa.DataType | None:
        return types.get(c)

    def raw(c: str) -> str:
        return c if c in types else "CAST(NULL AS VARCHAR)"

    def tok(c: str) -> str:
        if c not in types:
            return "CAST(NULL AS VARCHAR)"
        return c if c in pretokenised else TOKEN_SQL[c].format(c=c)

    def trimmed(c: str) -> bool:
        return c in pretokenised

    # s0 parses the local formats and passes the raw column on; s1 looks for an offset only
    # where no local format matched (none allows one), so the regular expression runs on the
    # odd row, not on every row.
    rec_naive, rec_off = _ts_stage0(
        "received_at", typ("received_at"), formats, trimmed("received_at")
    )
    dec_naive, dec_off = _ts_stage0("decided_at", typ("decided_at"), formats, trimmed("decided_at"))
    rpa, rpa_bad = bool_sql("rpa" if "rpa" in types else None, typ("rpa"), "rpa" in pretokenised)

    def checked(c: str, col: str) -> tuple[str, str]:
        """(value, TRUE where present but invalid) of s0's token column ``col``."""
        if c in pretokenised:  # checked already: NULL, a valid value or the INVALID mark
            return f"nullif({col}, {INVALID_SQL})", f"coalesce({col} = {INVALID_SQL}, FALSE)"
        if c == "hub":
            value = HUB_SQL.format(t=col)
            return value, f"({col} IS NOT NULL AND ({value}) IS NULL)"
        return vocab_sql(col, *VOCABULARIES[c])

    src, src_unknown = checked("source", "_tsource")
    subj, subj_bad = checked("subject", "_tsubject")
    pri, pri_bad = checked("priority", "_tpriority")
    hub, _ = checked("hub", "_hub_slug")
    slug = tok("hub")
    now = quote(now_utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    checks = [
        ("missing_contact_id", "_cid IS NULL"),
        ("missing_received_at", "NOT _rec_present"),
        ("unparseable_received_at", "_rec_present AND _rec IS NULL"),
        ("received_at_before_2000", "_rec < TIMESTAMP '2000-01-01 00:00:00'"),
        ("received_at_in_future", f"_rec > TIMESTAMP {now} + INTERVAL 5 MINUTE"),
        ("missing_hub", "_hub_slug IS NULL"),
        ("invalid_hub", "_hub_slug IS NOT NULL AND _hub IS NULL"),
        ("invalid_subject", "_subject_bad"),
        ("invalid_priority", "_priority_bad"),
        ("invalid_rpa", "_rpa_bad"),
        ("unparseable_decided_at", "_dec_present AND _dec IS NULL"),
        ("decided_before_received", "_dec < _rec"),
    ]
    # The failed checks' names, NULL where passed: the first is the reason, all of them
    # (``concat_ws`` skips NULLs) the reasons. Plain expressions: a list per row costs more.
    flags = ", ".join(f"CASE WHEN coalesce({c}, FALSE) THEN {quote(n)} END" for n, c in checks)
    # Whether any check failed: the names are put together for those rows only.
    failed = " OR ".join(f"coalesce({c}, FALSE)" for _, c in checks)
    fields = [
        "_cid",
        "_hub",
        "CAST(epoch_us(_rec) AS VARCHAR)",
        "_source",
        "_subject",
        "_priority",
        "_category",
        "CAST(_rpa AS VARCHAR)",
        "CAST(epoch_us(_dec) AS VARCHAR)",
        "_outcome",
    ]
    fingerprint = ", ".join(f"coalesce({f}, chr(1))" for f in fields)
    return f"""
    WITH s0 AS MATERIALIZED (
        SELECT row_number, {_text("contact_id", trimmed("contact_id"))} AS _cid,
               {present_sql("received_at", typ("received_at"), trimmed("received_at"))}
                   AS _rec_present,
               {rec_naive} AS _rec_naive, {raw("received_at")} AS received_at,
               {present_sql("decided_at", typ("decided_at"), trimmed("decided_at"))}
                   AS _dec_present,
               {dec_naive} AS _dec_naive, {raw("decided_at")} AS decided_at,
               {slug} AS _hub_slug, {tok("source")} AS _tsource, {tok("subject")} AS _tsubject,
               {tok("priority")} AS _tpriority, {rpa} AS _rpa, {rpa_bad} AS _rpa_bad,
               {tok("category")} AS _category, {tok("outcome")} AS _outcome
        FROM {relation}
    ), s1 AS (
        SELECT row_number, _cid, _rec_present, _dec_present, _hub_slug, _rpa, _rpa_bad,
               _category, _outcome,
               CASE WHEN _rec_naive IS NULL THEN {rec_off}
                    ELSE md_local_to_utc(_rec_naive) END AS _rec,
               CASE WHEN _dec_naive IS NULL THEN {dec_off}
                    ELSE md_local_to_utc(_dec_naive) END AS _dec,
               {hub} AS _hub,
               {src_unknown} AS source_unknown,
               CASE WHEN {src_unknown} THEN 'other' ELSE {src} END AS _source,
               {subj} AS _subject, {subj_bad} AS _subject_bad,
               {pri} AS _priority, {pri_bad} AS _priority_bad
        FROM s0
    ), s2 AS (
        SELECT *, ({failed}) AS _failed, md_utc_to_local(_rec) AS _local
        FROM s1
    ), s3 AS (
        SELECT *, CASE WHEN _failed THEN coalesce({flags}) END AS _reason,
               CASE WHEN _failed THEN concat_ws(';', {flags}) END AS _reasons
        FROM s2
    )
    SELECT row_number,
           _cid AS contact_id, _hub AS hub,
           _rec AS received_at_utc,
           CAST(_local AS DATE) AS received_date,
           CAST(hour(_local) AS TINYINT) AS received_hour,
           _source AS source, _subject AS subject, _priority AS priority,
           _category AS category, _rpa AS rpa, _dec AS decided_at_utc, _outcome AS outcome,
           _reason AS reason, nullif(_reasons, '') AS reasons,
           source_unknown,
           {HASH64_SQL.format(x=f"concat_ws(chr(31), {fingerprint})")} AS row_hash
    FROM s3
    """


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for the parsing SQL: UTC session time zone, macros."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    install_macros(con)
    return con


def parse_contacts(raw: pd.DataFrame | pa.Table, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Parse a frame of canonical columns (+ ``row_number``) in memory; see :func:`parse_sql`.

    UTC timestamps come back as tz-aware pandas datetimes; ``received_date`` is the local date.
    """
    import pandas as pd

    table = raw if isinstance(raw, pa.Table) else pa.Table.from_pandas(raw, preserve_index=False)
    if "row_number" not in table.column_names:
        table = table.append_column("row_number", pa.array(range(2, table.num_rows + 2)))
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    types = {f.name: f.type for f in table.schema}
    con = connect()
    try:
        con.register("_raw", table)
        out = con.execute(parse_sql("_raw", types, now) + " ORDER BY row_number").df()
    finally:
        con.close()
    out["received_date"] = pd.to_datetime(out["received_date"])
    for c in ("received_at_utc", "decided_at_utc"):
        out[c] = pd.to_datetime(out[c]).dt.tz_localize("UTC")
    return out


def parse_local_timestamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse timestamps (rules in the module docstring) to UTC.

    Returns (UTC ``datetime64[us, UTC]`` with NaT where missing or unparseable, boolean mask
    of values present but unparseable).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["04/05/2024 09:00", "31/03/2024 01:30", "27/10/2024 01:30", "x", None])
    >>> utc, bad = parse_local_timestamps(s)
    >>> [str(t) for t in utc[:3]]
    ['2024-05-04 08:00:00+00:00', '2024-03-31 01:30:00+00:00', '2024-10-27 00:30:00+00:00']
    >>> bad.tolist()
    [False, False, False, True, False]
    """
    import pandas as pd

    arr = pa.array(values.astype(object).where(values.notna(), None).tolist())
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    table = pa.table({"v": arr})
    con = connect()
    try:
        con.register("_v", table)
        sql = (
            f"SELECT {timestamp_sql('v', arr.type)} AS utc, md_text(v) IS NOT NULL AS present "
            "FROM _v"
        )
        out = con.execute(sql).df()
    finally:
        con.close()
    utc = pd.Series(out["utc"].to_numpy(), index=values.index)
    utc = pd.to_datetime(utc).dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    bad = pd.Series(out["present"].to_numpy(dtype=bool), index=values.index) & utc.isna()
    return utc, bad

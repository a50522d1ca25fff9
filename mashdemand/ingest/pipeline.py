"""Ingest pipeline: read, parse, validate, deduplicate, quarantine, store, summarise.

Every row read ends in exactly one of three places, so that
``rows_read == rows_accepted + rows_duplicate + rows_quarantined`` always holds:

- accepted: stored in ``contacts``;
- duplicate: its ``contact_id`` is already stored (or appears earlier in the same run) with
  identical content; nothing is added;
- quarantined: kept in ``quarantine`` with its reason. This includes *conflicts*: the same
  ``contact_id`` with different content. The stored row is kept, never overwritten, and the
  conflict is also recorded in ``conflicts``.

All files named in one call are processed in one transaction: a file that cannot be read at all
leaves the store untouched, whichever file it is. Each file is read and parsed while the one
before it is stored, and dropped once stored (paths, extensions and folders are checked before
any is read), so at most two files are held and memory does not grow with the number of files:
20 million contacts in 139 files load in 1.1 GB (``benchmarks/ingest_scale.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from mashdemand import schema
from mashdemand.ingest import parsing
from mashdemand.ingest.readers import (
    IngestError,
    RawTable,
    contact_files,
    load_mapping,
    read_table,
)
from mashdemand.safety import (
    Interrupted,
    SignalGuard,
    make_private,
    private_umask,
    stop_on_signals,
)
from mashdemand.sql import quote
from mashdemand.store import (
    CONTACT_TABLE_COLUMNS,
    Store,
    StoreError,
    StoreFullError,
    check_store_file,
    is_disk_full,
)

# Quarantine reasons, in the order a row's primary reason is chosen (see parsing.parse_sql).
REASONS: tuple[str, ...] = (
    "unbalanced_quote",
    "malformed_row",
    "missing_contact_id",
    "missing_received_at",
    "unparseable_received_at",
    "received_at_before_2000",
    "received_at_in_future",
    "missing_hub",
    "invalid_hub",
    "invalid_subject",
    "invalid_priority",
    "invalid_rpa",
    "unparseable_decided_at",
    "decided_before_received",
    "conflict_with_stored_contact",
    "conflict_within_file",
)


@dataclass
class FileSummary:
    """What happened to one file. Counts are rows [rows]."""

    file: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rows_conflict: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)
    values_mapped_to_other: dict[str, int] = field(default_factory=dict)
    min_received_at: str | None = None
    max_received_at: str | None = None


@dataclass
class IngestSummary:
    """The result of :func:`ingest_contacts`, as CONTRACTS.md's summary JSON plus extras.

    ``min_received_at``/``max_received_at`` are over the rows accepted in this run, as
    ISO 8601 Europe/London local times with their UTC offset.
    """

    store: str
    rows_read: int
    rows_accepted: int
    rows_duplicate: int
    rows_quarantined: int
    rows_conflict: int
    quarantine_reasons: dict[str, int]
    dropped_columns: list[str]
    values_mapped_to_other: dict[str, int]
    min_received_at: str | None
    max_received_at: str | None
    files: list[FileSummary]

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, path: str | Path | None = None) -> str:
        """The summary as JSON text; with ``path``, also written there, readable by its owner
        only (``0600``; a folder it creates ``0700``)."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with private_umask():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                Path(path).write_text(text + "\n", encoding="utf-8")
            make_private(path)
        return text


def _iso_local(ts: datetime | None) -> str | None:
    """A UTC instant (naive = UTC) as ISO 8601 Europe/London local time with its offset."""
    if ts is None:
        return None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
    return ts.astimezone(ZoneInfo(schema.UK_TZ)).isoformat()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


RAW_TEXT = ", ".join(f"CAST(r.{c} AS VARCHAR) AS {c}" for c in schema.CONTACT_COLUMNS)
#: The raw values in a quarantined row's key (NULL as chr(1)).
RAW_FIELDS = ", ".join(f"coalesce(CAST(r.{c} AS VARCHAR), chr(1))" for c in schema.CONTACT_COLUMNS)
#: What a file's rows are checked against: the stored contacts, which inside the run's
#: transaction include the rows accepted from the run's earlier files.
STORED_SQL = "SELECT contact_id, row_hash FROM contacts"


@dataclass
class _Parsed:
    """One file's rows as read (``raw``: quarantine keeps these values), with every canonical
    column (``table``: missing ones as NULL text), and parsed and checked (``parsed``)."""

    raw: RawTable
    table: pa.Table
    parsed: pa.Table
    #: No ``contact_id`` twice among the parsed rows (NULLs aside).
    ids_unique: bool
    #: The parsed rows are in file order.
    in_order: bool


def _parse_file(raw: RawTable, now: datetime, con: duckdb.DuckDBPyConnection) -> _Parsed:
    """Parse and check one file's rows on ``con``, an in-memory DuckDB (one parallel pass).

    Needs no store, so the ingest parses the next file on a thread while it stores this one;
    what the store's side only reads (are the ids unique, are the rows in order) is worked
    out here too.
    The result is Arrow tables, not DuckDB temporary tables: a temporary table dropped inside
    the run's transaction is kept by DuckDB until the commit (about 220 bytes a contact,
    spilled to disk beyond the memory cap), an Arrow table is freed when it is let go.
    """
    table = raw.table
    # Columns the file lacks are NULL text, so every statement sees all canonical columns.
    for c in schema.CONTACT_COLUMNS:
        if c not in table.column_names:
            table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
    types = {f.name: f.type for f in raw.table.schema}
    formats = parsing.LOCAL_FORMATS
    if pa.types.is_string(table.schema.field(schema.RECEIVED_AT).type):
        head = table.column(schema.RECEIVED_AT).slice(0, 2000).drop_null().to_pylist()
        formats = parsing.order_formats(head[:200])
    # DuckDB finds the table by its local name (a replacement scan).
    _in, pretokenised = parsing.pretokenise(table, con)
    sql = parsing.parse_sql("_in", types, now, formats, pretokenised)
    parsed = con.sql(sql).to_arrow_table()
    return _Parsed(raw, table, parsed, _ids_unique(parsed, con), _in_row_order(parsed))


def _read_and_parse(
    path: Path, mapping: dict[str, str], now: datetime, con: duckdb.DuckDBPyConnection
) -> _Parsed:
    return _parse_file(read_table(path, mapping), now, con)


def _process(
    file_rows: _Parsed,
    con: duckdb.DuckDBPyConnection,
    ingest_id: int,
    sha256: Future[str],
) -> FileSummary:
    """Deduplicate one parsed file's rows against the store and themselves; store its
    accepted rows, quarantine and conflicts.

    The accepted rows are inserted at once, so the run holds no file's rows after it is done
    (DuckDB writes full row groups of a large transaction to the store file as they fill, so
    they need no memory either) and each file is checked against one table, ``contacts``,
    whatever the number of files before it.
    """
    raw = file_rows.raw
    file = str(raw.path)
    table = file_rows.table
    # DuckDB finds the file's tables by these local names (a replacement scan). Registered
    # with ``con.register`` they would be held by the transaction until it ends, and a run of
    # many files would keep every file's table in memory.
    _raw = table  # as read: quarantine keeps these raw values
    _parsed = file_rows.parsed
    usable = _parsed.column("reason").null_count
    # Usable rows that are not new (duplicates and conflicts), with their status; every
    # other usable row is accepted. The first occurrence of an id in the file is checked
    # against the store, later occurrences against the first.
    if file_rows.ids_unique:  # the usual export: no id twice, so only the store to check
        status_sql = f"""
            SELECT u.row_number, u.row_hash,
                   CASE WHEN c.row_hash = u.row_hash THEN 'duplicate'
                        ELSE 'conflict_with_stored_contact' END AS status,
                   c.row_hash AS stored_hash
            FROM _parsed u JOIN ({STORED_SQL}) c USING (contact_id)
            WHERE u.reason IS NULL
            """
    else:
        status_sql = f"""
            WITH u AS (
                SELECT row_number, contact_id, row_hash,
                       row_number() OVER w AS occ, first_value(row_hash) OVER w AS first_hash
                FROM _parsed WHERE reason IS NULL
                WINDOW w AS (PARTITION BY contact_id ORDER BY row_number)
            ), s AS (
                SELECT u.row_number, u.row_hash,
                       CASE WHEN u.occ > 1 AND u.row_hash = u.first_hash THEN 'duplicate'
                            WHEN u.occ > 1 THEN 'conflict_within_file'
                            WHEN c.row_hash = u.row_hash THEN 'duplicate'
                            WHEN c.contact_id IS NOT NULL THEN 'conflict_with_stored_contact'
                            END AS status,
                       CASE WHEN u.occ > 1 THEN u.first_hash ELSE c.row_hash END AS stored_hash
                FROM u LEFT JOIN ({STORED_SQL}) c
                    ON u.occ = 1 AND c.contact_id = u.contact_id
            )
            SELECT * FROM s WHERE status IS NOT NULL
            """
    _status = con.sql(status_sql).to_arrow_table()
    # The usable rows not in _status: this file's new contacts.
    new = "p.reason IS NULL"
    if _status.num_rows:
        new += " AND p.row_number NOT IN (SELECT row_number FROM _status)"
    # The min/max and the count of sources mapped to 'other' before the insert, while
    # the accepted rows are easy to tell from the stored ones.
    lo, hi, other = con.execute(
        f"""
        SELECT min(p.received_at_utc), max(p.received_at_utc),
               count(*) FILTER (WHERE p.source_unknown)
        FROM _parsed p WHERE {new}
        """
    ).fetchall()[0]
    cols = ", ".join(CONTACT_TABLE_COLUMNS)
    # In row order: the store's row groups compress best (and read back in file order) with
    # it. The parse keeps the order of the rows it reads (DuckDB preserves insertion order,
    # and the parse SQL avoids plans that do not), so the sort is a fallback.
    order = "" if file_rows.in_order else " ORDER BY p.row_number"
    con.execute(
        f"""
        INSERT INTO contacts ({cols})
        SELECT p.contact_id, p.hub, p.received_at_utc, p.received_date, p.received_hour,
               p.source, p.subject, p.priority, p.category, p.rpa, p.decided_at_utc,
               p.outcome, p.row_hash, {ingest_id} AS ingest_id, p.row_number
        FROM _parsed p WHERE {new}{order}
        """
    )
    # Quarantine: rows failing a check, and conflicts. Raw text of contract columns only.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _q AS
        SELECT row_number, reason, reasons, CAST(NULL AS UBIGINT) AS stored_hash,
               CAST(NULL AS UBIGINT) AS new_hash
        FROM _parsed WHERE reason IS NOT NULL
        UNION ALL
        SELECT row_number, status, status, stored_hash, row_hash
        FROM _status WHERE status LIKE 'conflict%'
        """
    )
    # Rows the reader could not split into columns: row number and reason only.
    for reason, rows in (
        ("malformed_row", raw.malformed),
        ("unbalanced_quote", raw.unbalanced),
    ):
        if rows:
            _bad = pa.table({"row_number": pa.array(rows, pa.int64())})  # noqa: F841
            con.execute(
                f"INSERT INTO _q SELECT row_number, '{reason}', '{reason}', NULL, NULL FROM _bad"
            )
    reasons = dict(
        con.execute("SELECT reason, count(*) FROM _q GROUP BY ALL ORDER BY 2 DESC").fetchall()
    )
    if reasons:  # a clean file skips the two joins over all its rows
        sha = sha256.result()
        con.execute(
            f"""
            INSERT INTO quarantine
            SELECT * FROM (
                SELECT {ingest_id} AS ingest_id, {quote(file)} AS file, q.row_number,
                       q.reason, q.reasons, {RAW_TEXT},
                       md5_number_lower(concat_ws(chr(31), {quote(sha)}, q.row_number,
                           q.reason, {RAW_FIELDS})) AS raw_hash
                FROM _q q LEFT JOIN _raw r USING (row_number)
            ) n
            WHERE NOT EXISTS (SELECT 1 FROM quarantine t WHERE t.raw_hash = n.raw_hash)
            """
        )
        con.execute(
            f"""
            INSERT INTO conflicts
            SELECT {ingest_id}, {quote(file)}, q.row_number, p.contact_id,
                   q.stored_hash, q.new_hash
            FROM _q q JOIN _parsed p USING (row_number)
            WHERE q.reason LIKE 'conflict%' AND NOT EXISTS (
                SELECT 1 FROM conflicts t WHERE t.contact_id = p.contact_id
                AND t.stored_hash = q.stored_hash AND t.new_hash = q.new_hash)
            """
        )
    statuses = dict(con.execute("SELECT status, count(*) FROM _status GROUP BY ALL").fetchall())
    statuses["accepted"] = usable - _status.num_rows
    con.execute("DROP TABLE IF EXISTS _q")
    quarantined = sum(reasons.values())
    return FileSummary(
        file=file,
        rows_read=table.num_rows + len(raw.malformed) + len(raw.unbalanced),
        rows_accepted=int(statuses.get("accepted", 0)),
        rows_duplicate=int(statuses.get("duplicate", 0)),
        rows_quarantined=int(quarantined),
        rows_conflict=int(
            reasons.get("conflict_within_file", 0) + reasons.get("conflict_with_stored_contact", 0)
        ),
        quarantine_reasons={str(k): int(v) for k, v in reasons.items()},
        dropped_columns=list(raw.dropped_columns),
        values_mapped_to_other={"source": int(other or 0)},
        min_received_at=_iso_local(lo),
        max_received_at=_iso_local(hi),
    )


def _ids_unique(table: pa.Table, con: duckdb.DuckDBPyConnection) -> bool:
    """True where no ``contact_id`` appears twice in ``table`` (NULLs aside).

    Exports usually number their contacts in order: ids that increase row by row are
    unique, which one pass of comparisons shows (~20 times faster than counting them).
    """
    ids = table.column("contact_id")
    if ids.null_count == 0 and len(ids) > 1:
        ids = ids.combine_chunks()
        if pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py():
            return True
    _ids = table.select(["contact_id"])  # noqa: F841 (DuckDB finds it by name)
    ((unique,),) = con.execute(
        "SELECT count(DISTINCT contact_id) = count(contact_id) FROM _ids"
    ).fetchall()
    return bool(unique)


def _in_row_order(table: pa.Table) -> bool:
    """True where ``table``'s row numbers strictly increase."""
    rows = table.column("row_number").to_numpy()
    return bool((rows[1:] > rows[:-1]).all())


def ingest_contacts(
    paths: str | Path | Iterable[str | Path],
    store: str | Path | Store = "data/mashdemand.duckdb",
    mapping: str | Path | dict[str, str] | None = None,
    now: datetime | None = None,
    wait: float = 0,
) -> IngestSummary:
    """Load contact-log exports into the store (CONTRACTS.md ``ingest``).

    All files are read and written in one transaction: the run is stored whole or not at all.
    SIGINT (Ctrl-C) and SIGTERM stop the running query, roll back and raise
    :class:`~mashdemand.safety.Interrupted`; a full disk rolls back and raises
    :class:`~mashdemand.store.StoreFullError`. A store file created by a run that stored
    nothing is removed again.

    Parameters
    ----------
    paths : path or iterable of paths
        CSV, XLSX or Parquet exports, or folders: a folder stands for every export directly
        in it, in name order (:func:`~mashdemand.ingest.readers.contact_files`).
    store : path or Store
        The DuckDB file (created if missing) or an open :class:`~mashdemand.store.Store`.
    mapping : path, dict or None
        Column mapping (TOML file ``[columns] canonical = "Export Name"``, or the dict).
    now : datetime, optional
        UTC time used to reject future dates (default: now).
    wait : float
        Seconds to wait for another process to release the store [s] (default: refuse at once).

    Returns
    -------
    IngestSummary

    Raises
    ------
    IngestError
        A file cannot be read at all; nothing is written.
    StoreError
        The store cannot be opened, is in use (:class:`~mashdemand.store.StoreInUseError`) or
        the disk is full (:class:`~mashdemand.store.StoreFullError`); nothing is written.
    Interrupted
        SIGINT or SIGTERM arrived; nothing is written.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    own = not isinstance(store, Store)
    if own and str(store) != ":memory:":
        check_store_file(Path(store))  # before spending time reading the files
    with stop_on_signals() as guard:
        cols = mapping if isinstance(mapping, dict) else load_mapping(mapping)
        files_in = contact_files(paths)  # every path checked before any is read
        if not files_in:
            raise IngestError("no files given")
        # The first file is read before the store is opened (a single bad export leaves the
        # store unopened); the others inside the run, each read and parsed while the one
        # before it is stored, and dropped once stored.
        first = read_table(files_in[0], cols)
        now = datetime.now(UTC) if now is None else now
        st = Store(store, wait=wait) if own else store
        guard.on_signal = st.interrupt
        stored = False
        try:
            guard.check()
            with _ingest_settings(st):
                files = _store_files(st, files_in, first, cols, now, guard)
            stored = True
        except Exception as exc:
            if is_disk_full(exc) and not isinstance(exc, StoreError):
                raise StoreFullError(
                    f"no space left on device writing {st.path}; nothing was stored"
                ) from None
            raise
        finally:
            guard.on_signal = None
            if own:
                _close(st, stored)
        if guard.signum is not None:  # arrived while committing: the commit stands
            raise Interrupted(guard.signum, "the run had just been committed and is stored")
    return _combine(str(st.path), files)


#: DuckDB's memory limit while an ingest writes to a store file [bytes, DuckDB units]. Rows
#: stored are written to the file as row groups fill; what DuckDB must keep until the run
#: commits (each file's dropped table of quarantined rows; the parsed rows are Arrow tables,
#: freed file by file) spills to
#: ``<store>.tmp`` beyond the limit, instead of growing towards DuckDB's default of 80% of
#: the machine's memory. With the Arrow tables of the two files held, 20 million contacts
#: stay well under 4 GB resident (``benchmarks/ingest_scale.py``).
INGEST_MEMORY_LIMIT = "1GiB"


#: DuckDB threads of the store's connection while an ingest writes: one. A row group filled by
#: one thread is written to the store file as it fills; several threads leave part-filled row
#: groups, which the commit writes to the write-ahead log (1.5 GB for 20 million contacts)
#: and closing writes again, ~25% slower overall and a 45% larger file. The other core
#: reads and parses the next file meanwhile.
INGEST_THREADS = 1


@contextlib.contextmanager
def _ingest_settings(st: Store) -> Iterator[None]:
    """Cap DuckDB's memory at :data:`INGEST_MEMORY_LIMIT` (store files only: an in-memory
    store cannot drop what it holds) and its threads at :data:`INGEST_THREADS` for the block,
    then restore the connection's own settings."""
    settings = {"threads": str(INGEST_THREADS)}
    if st.path != ":memory:":
        settings["memory_limit"] = INGEST_MEMORY_LIMIT
    before = {}
    for name, value in settings.items():
        before[name] = st.con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]
        st.con.execute(f"SET {name} = {quote(value)}")
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # a failed run's connection may refuse
            for name, value in before.items():
                # DuckDB's default exactly (its text rounds), else the value the caller set.
                st.con.execute(f"RESET {name}")
                now = st.con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]
                if str(now) != str(value):
                    st.con.execute(f"SET {name} = {quote(str(value))}")


def _store_files(
    st: Store,
    paths: list[Path],
    first: RawTable,
    mapping: dict[str, str],
    now: datetime,
    guard: SignalGuard,
) -> list[FileSummary]:
    """Process every file inside one transaction; commit only if no signal has arrived.

    Two threads work beside the store: one hashes the files (for the ingest log and the
    quarantine keys), one reads and parses the next file while this one is stored (DuckDB,
    pyarrow and hashlib release the GIL). At most two files' rows are held at a time.
    """
    files = []
    with st.transaction():
        hashing = ThreadPoolExecutor(max_workers=1)
        shas = [hashing.submit(_sha256, Path(p)) for p in paths]
        hashing.shutdown(wait=False)
        ahead = ThreadPoolExecutor(max_workers=1)
        parse_con = parsing.connect()  # the reading thread's, for every file in turn
        nxt: Future[_Parsed] | None = ahead.submit(_parse_file, first, now, parse_con)
        del first
        try:
            for i, sha_future in enumerate(shas):
                assert nxt is not None
                file_rows = nxt.result()
                nxt = None
                if i + 1 < len(paths):
                    nxt = ahead.submit(_read_and_parse, paths[i + 1], mapping, now, parse_con)
                ingest_id = st.next_ingest_id()
                fs = _process(file_rows, st.con, ingest_id, sha_future)
                del file_rows
                _record_ingest(st, ingest_id, fs, sha_future.result())
                files.append(fs)
                guard.check()
        finally:
            for f in [*shas, nxt]:  # a failed run hashes and reads no more files
                if f is not None:
                    f.cancel()
            parse_con.interrupt()  # a file still being parsed stops at once
            ahead.shutdown(wait=True)
            parse_con.close()
        guard.hold()  # from here the COMMIT runs to its end
    return files


def _record_ingest(st: Store, ingest_id: int, fs: FileSummary, sha: str) -> None:
    st.con.execute(
        "INSERT INTO ingests VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?)",
        [
            ingest_id,
            fs.file,
            sha,
            fs.rows_read,
            fs.rows_accepted,
            fs.rows_duplicate,
            fs.rows_quarantined,
            fs.rows_conflict,
            fs.dropped_columns,
            _version(),
        ],
    )


def _close(st: Store, stored: bool) -> None:
    """Close a store this call opened; after a failed run, a store file the run created is
    removed again (it holds nothing), and an error on closing does not hide the first one."""
    try:
        st.close()
    except duckdb.Error:
        if stored:
            raise
    if st.created and not stored:
        _remove_store(Path(st.path))


def _remove_store(path: Path) -> None:
    """Delete a store file this run created and left empty, with DuckDB's side files."""
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _combine(store: str, files: list[FileSummary]) -> IngestSummary:
    reasons: dict[str, int] = {}
    other: dict[str, int] = {}
    dropped: list[str] = []
    for f in files:
        for k, v in f.quarantine_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        for k, v in f.values_mapped_to_other.items():
            other[k] = other.get(k, 0) + v
        dropped += [c for c in f.dropped_columns if c not in dropped]
    mins = [datetime.fromisoformat(f.min_received_at) for f in files if f.min_received_at]
    maxs = [datetime.fromisoformat(f.max_received_at) for f in files if f.max_received_at]
    return IngestSummary(
        store=store,
        rows_read=sum(f.rows_read for f in files),
        rows_accepted=sum(f.rows_accepted for f in files),
        rows_duplicate=sum(f.rows_duplicate for f in files),
        rows_quarantined=sum(f.rows_quarantined for f in files),
        rows_conflict=sum(f.rows_conflict for f in files),
        quarantine_reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        dropped_columns=dropped,
        values_mapped_to_other=other,
        min_received_at=_iso_local(min(mins)) if mins else None,
        max_received_at=_iso_local(max(maxs)) if maxs else None,
        files=files,
    )


def _version() -> str:
    from mashdemand import __version__

    return __version__

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
leaves the store untouched, whichever file it is. Files are read one at a time and each is
processed and dropped before the next is read (paths, extensions and folders are checked before
any), so memory does not grow with the number of files: 20 million contacts in 150 files load
in well under 4 GB (``benchmarks/ingest_scale.py``).
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
#: What a file's rows are checked against: the stored contacts, which inside the run's
#: transaction include the rows accepted from the run's earlier files.
STORED_SQL = "SELECT contact_id, row_hash FROM contacts"


def _process(
    raw: RawTable,
    con: duckdb.DuckDBPyConnection,
    ingest_id: int,
    now: datetime,
    sha256: Future[str],
) -> FileSummary:
    """Parse, check and dedupe one file's rows, all inside DuckDB (one parallel pass); store
    its accepted rows, quarantine and conflicts; its parsed rows are freed on return.

    The accepted rows are inserted at once, so the run holds no file's rows after it is done
    (DuckDB writes full row groups of a large transaction to the store file as they fill, so
    they need no memory either) and each file is checked against one table, ``contacts``,
    whatever the number of files before it.
    """
    file = str(raw.path)
    table = raw.table
    # Columns the file lacks are NULL text, so every statement below sees all canonical columns.
    for c in schema.CONTACT_COLUMNS:
        if c not in table.column_names:
            table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
    types = {f.name: f.type for f in raw.table.schema}
    formats = parsing.LOCAL_FORMATS
    if pa.types.is_string(table.schema.field(schema.RECEIVED_AT).type):
        head = table.column(schema.RECEIVED_AT).slice(0, 2000).drop_null().to_pylist()
        formats = parsing.order_formats(head[:200])
    # DuckDB finds the file's tables by these local names (a replacement scan). Registered
    # with ``con.register`` they would be held by the transaction until it ends, and a run of
    # many files would keep every file's table in memory.
    _raw = table  # as read: quarantine keeps these raw values
    _in, pretokenised = parsing.pretokenise(table, con)
    # The parsed rows and their status are Arrow tables, not DuckDB temporary tables: a
    # temporary table dropped inside the run's transaction is kept by DuckDB until the commit
    # (about 220 bytes a contact, spilled to disk beyond the memory cap), an Arrow table is
    # freed when this function returns.
    _parsed = con.sql(parsing.parse_sql("_in", types, now, formats, pretokenised)).to_arrow_table()
    # Status of each usable row: the first occurrence of an id in the file is checked
    # against the store; later occurrences against the first.
    _status = con.sql(
        f"""
        WITH u AS (
            SELECT row_number, contact_id, row_hash,
                   row_number() OVER w AS occ, first_value(row_hash) OVER w AS first_hash
            FROM _parsed WHERE reason IS NULL
            WINDOW w AS (PARTITION BY contact_id ORDER BY row_number)
        )
        SELECT u.row_number, u.row_hash,
               CASE WHEN u.occ > 1 AND u.row_hash = u.first_hash THEN 'duplicate'
                    WHEN u.occ > 1 THEN 'conflict_within_file'
                    WHEN c.row_hash = u.row_hash THEN 'duplicate'
                    WHEN c.contact_id IS NOT NULL THEN 'conflict_with_stored_contact'
                    ELSE 'accepted' END AS status,
               CASE WHEN u.occ > 1 THEN u.first_hash ELSE c.row_hash END AS stored_hash
        FROM u LEFT JOIN ({STORED_SQL}) c
            ON u.occ = 1 AND c.contact_id = u.contact_id
        """
    ).to_arrow_table()
    select = (
        "SELECT p.contact_id, p.hub, p.received_at_utc, p.received_date, p.received_hour, "
        "p.source, p.subject, p.priority, p.category, p.rpa, p.decided_at_utc, p.outcome, "
        f"p.row_hash, {ingest_id} AS ingest_id, p.row_number FROM _parsed p"
    )
    (not_accepted,) = con.execute(
        "SELECT count(*) FROM _status WHERE status <> 'accepted'"
    ).fetchone()
    # The min/max and the count of sources mapped to 'other' before the insert, while
    # the accepted rows are easy to tell from the stored ones.
    lo, hi, other = con.execute(
        """
        SELECT min(p.received_at_utc), max(p.received_at_utc),
               count(*) FILTER (WHERE p.source_unknown)
        FROM _parsed p JOIN _status s USING (row_number) WHERE s.status = 'accepted'
        """
    ).fetchall()[0]
    cols = ", ".join(CONTACT_TABLE_COLUMNS)
    if not_accepted == 0:  # the usual first load: every usable row is new
        accepted = f"{select} WHERE p.reason IS NULL"
    else:
        accepted = f"{select} JOIN _status s USING (row_number) WHERE s.status = 'accepted'"
    # In row order: the parallel parse does not keep it, and the store's row groups
    # compress best (and read back in file order) with it.
    con.execute(f"INSERT INTO contacts ({cols}) {accepted} ORDER BY p.row_number")
    # Quarantine: rows failing a check, and conflicts. Raw text of contract columns only.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _q AS
        SELECT p.row_number,
               coalesce(p.reason, s.status) AS reason,
               coalesce(p.reasons, s.status) AS reasons,
               s.stored_hash, s.row_hash AS new_hash
        FROM _parsed p LEFT JOIN _status s USING (row_number)
        WHERE p.reason IS NOT NULL OR s.status LIKE 'conflict%'
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
    sha = sha256.result()
    con.execute(
        f"""
        INSERT INTO quarantine
        SELECT * FROM (
            SELECT {ingest_id} AS ingest_id, {quote(file)} AS file, q.row_number,
                   q.reason, q.reasons, {RAW_TEXT},
                   md5_number_lower(concat_ws(chr(31), {quote(sha)}, q.row_number,
                       q.reason, {
            ", ".join(f"coalesce(CAST(r.{c} AS VARCHAR), chr(1))" for c in schema.CONTACT_COLUMNS)
        })) AS raw_hash
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
    reasons = dict(
        con.execute("SELECT reason, count(*) FROM _q GROUP BY ALL ORDER BY 2 DESC").fetchall()
    )
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
        reading = _read_each(files_in, cols, guard)
        # The first file is read before the store is opened (a single bad export leaves the
        # store unopened); the others one at a time inside the run, each dropped once stored.
        pending = [next(reading)]
        now = datetime.now(UTC) if now is None else now
        st = Store(store, wait=wait) if own else store
        guard.on_signal = st.interrupt
        stored = False
        try:
            guard.check()
            with _memory_cap(st):
                files = _store_files(st, files_in, _chain(pending, reading), now, guard)
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
#: the machine's memory. With pyarrow's table of the one file being read, 20 million contacts
#: stay well under 4 GB resident (``benchmarks/ingest_scale.py``).
INGEST_MEMORY_LIMIT = "1GiB"


@contextlib.contextmanager
def _memory_cap(st: Store) -> Iterator[None]:
    """Cap DuckDB's memory at :data:`INGEST_MEMORY_LIMIT` for the block (store files only: an
    in-memory store cannot drop what it holds), then restore the connection's own limit."""
    if st.path == ":memory:":
        yield
        return
    query = "SELECT current_setting('memory_limit')"
    (before,) = st.con.execute(query).fetchone()
    st.con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        with contextlib.suppress(duckdb.Error):  # a failed run's connection may refuse
            # DuckDB's default exactly (its text rounds), else the value the caller had set.
            st.con.execute("RESET memory_limit")
            if st.con.execute(query).fetchone()[0] != before:
                st.con.execute(f"SET memory_limit = {quote(before)}")


def _read_each(
    paths: list[Path], mapping: dict[str, str], guard: SignalGuard
) -> Iterator[RawTable]:
    """Read the exports one at a time (the generator keeps no reference to a table it gave)."""
    for p in paths:
        yield read_table(p, mapping)
        guard.check()


def _chain(first: list[RawTable], rest: Iterator[RawTable]) -> Iterator[RawTable]:
    """``first``'s tables (emptied as they are given), then ``rest``."""
    while first:
        yield first.pop(0)
    yield from rest


def _store_files(
    st: Store, paths: list[Path], raws: Iterator[RawTable], now: datetime, guard: SignalGuard
) -> list[FileSummary]:
    """Process every file inside one transaction; commit only if no signal has arrived."""
    files = []
    with st.transaction():
        # File checksums (for the ingest log and quarantine keys) are computed on a thread
        # while DuckDB parses: hashlib releases the GIL.
        pool = ThreadPoolExecutor(max_workers=1)
        shas = [pool.submit(_sha256, Path(p)) for p in paths]
        pool.shutdown(wait=False)
        try:
            for sha_future in shas:
                raw = next(raws)  # read here, so that at most one file's table is held
                ingest_id = st.next_ingest_id()
                fs = _process(raw, st.con, ingest_id, now, sha_future)
                del raw
                _record_ingest(st, ingest_id, fs, sha_future.result())
                files.append(fs)
                guard.check()
        finally:
            for f in shas:  # a failed run hashes no more files
                f.cancel()
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

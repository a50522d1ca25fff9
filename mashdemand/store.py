"""The embedded store: one DuckDB file with a versioned schema and forward migrations.

Tables (version 1):

``contacts``
    One row per accepted contact, canonical values only: ``received_at_utc`` and
    ``decided_at_utc`` are naive UTC timestamps; ``received_date`` and ``received_hour`` are the
    Europe/London local date and hour. ``row_hash`` fingerprints the normalised content, so a
    re-ingested row is recognised as a duplicate and a changed one as a conflict.
``quarantine``
    Rows that could not be used: file, spreadsheet row number, primary reason, all reasons and
    the raw text of the canonical columns only (never of dropped columns).
``conflicts``
    Rows whose ``contact_id`` is already stored with different content; the stored row is kept.
``ingests``
    One row per file per run: counts, dropped column *names*, file checksum.
``schema_version``
    Migrations applied, newest last.

Added in version 2, the forecast archive (so a report can later judge its forecast honestly):

``forecast_runs``
    One row per archived forecast: when it was made, the data window it saw, its period,
    scenario and models, and ``kind``: ``archived`` (made by a report run) or
    ``reconstructed`` (made afterwards from the data available before the quarter, when no
    forecast had been archived; labelled as such wherever it is shown).
``forecast_archive``
    The forecast itself: ``run_id, hub, date, yhat, lo80, hi80, lo95, hi95`` (hub totals and
    ``ALL``; no splits).

Queries return tidy frames for the later stages (:meth:`Store.daily_counts`).
"""

from __future__ import annotations

import contextlib
import errno
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import pyarrow as pa

from mashdemand import schema
from mashdemand.errors import MashdemandError
from mashdemand.safety import make_private, private_umask
from mashdemand.sql import HUB_TEXT_SQL, install_macros, quote

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_STORE = Path("data/mashdemand.duckdb")

# Forward migrations: (version, description, statements). Append only; never edit a released one.
MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "contacts, quarantine, conflicts, ingests",
        (
            """CREATE TABLE ingests (
                ingest_id INTEGER, file VARCHAR, file_sha256 VARCHAR,
                started_at TIMESTAMP, rows_read BIGINT, rows_accepted BIGINT,
                rows_duplicate BIGINT, rows_quarantined BIGINT, rows_conflict BIGINT,
                dropped_columns VARCHAR[], package_version VARCHAR)""",
            """CREATE TABLE contacts (
                contact_id VARCHAR NOT NULL, hub VARCHAR NOT NULL,
                received_at_utc TIMESTAMP NOT NULL, received_date DATE NOT NULL,
                received_hour TINYINT NOT NULL, source VARCHAR, subject VARCHAR,
                priority VARCHAR, category VARCHAR, rpa BOOLEAN, decided_at_utc TIMESTAMP,
                outcome VARCHAR, row_hash UBIGINT NOT NULL, ingest_id INTEGER NOT NULL,
                row_number BIGINT)""",
            """CREATE TABLE quarantine (
                ingest_id INTEGER, file VARCHAR, row_number BIGINT, reason VARCHAR,
                reasons VARCHAR, contact_id VARCHAR, received_at VARCHAR, hub VARCHAR,
                source VARCHAR, subject VARCHAR, priority VARCHAR, category VARCHAR,
                rpa VARCHAR, decided_at VARCHAR, outcome VARCHAR, raw_hash UBIGINT)""",
            """CREATE TABLE conflicts (
                ingest_id INTEGER, file VARCHAR, row_number BIGINT, contact_id VARCHAR,
                stored_hash UBIGINT, new_hash UBIGINT)""",
        ),
    ),
    (
        2,
        "forecast archive",
        (
            """CREATE TABLE forecast_runs (
                run_id INTEGER, created_at TIMESTAMP, kind VARCHAR, report_quarter VARCHAR,
                freq VARCHAR, data_start DATE, data_end DATE, scenario VARCHAR,
                models VARCHAR, package_version VARCHAR)""",
            """CREATE TABLE forecast_archive (
                run_id INTEGER, hub VARCHAR, date DATE, yhat DOUBLE, lo80 DOUBLE,
                hi80 DOUBLE, lo95 DOUBLE, hi95 DOUBLE)""",
        ),
    ),
    (
        3,
        "audit trail of housekeeping",
        (
            """CREATE TABLE audit (
                audit_id INTEGER, created_at TIMESTAMP, action VARCHAR, hub VARCHAR,
                rows_affected BIGINT, reason VARCHAR, package_version VARCHAR)""",
        ),
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

CONTACT_TABLE_COLUMNS: tuple[str, ...] = (
    schema.CONTACT_ID,
    schema.HUB,
    schema.RECEIVED_AT_UTC,
    schema.RECEIVED_DATE,
    schema.RECEIVED_HOUR,
    schema.SOURCE,
    schema.SUBJECT,
    schema.PRIORITY,
    schema.CATEGORY,
    schema.RPA,
    schema.DECIDED_AT_UTC,
    schema.OUTCOME,
    "row_hash",
    "ingest_id",
    "row_number",
)
QUARANTINE_COLUMNS: tuple[str, ...] = (
    "ingest_id",
    "file",
    "row_number",
    "reason",
    "reasons",
    *schema.CONTACT_COLUMNS,
    "raw_hash",
)
SPLIT_DIMENSIONS: tuple[str, ...] = (schema.SOURCE, schema.PRIORITY, schema.SUBJECT)
UNKNOWN = "unknown"
TABLES = frozenset(
    {
        "contacts",
        "quarantine",
        "conflicts",
        "ingests",
        "schema_version",
        "forecast_runs",
        "forecast_archive",
        "audit",
    }
)
ARCHIVE_COLUMNS: tuple[str, ...] = (
    schema.HUB,
    schema.DATE,
    schema.YHAT,
    "lo80",
    "hi80",
    "lo95",
    "hi95",
)


class StoreError(MashdemandError):
    """The store cannot be opened or is of an unknown schema version (one-line message)."""


class StoreInUseError(StoreError):
    """Another process holds the store (DuckDB allows one writer, or many readers)."""


class StoreFullError(StoreError):
    """The disk filled while writing the store; the transaction was rolled back."""


# A DuckDB database file carries this magic at byte 8 (after the 8-byte checksum).
DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_OFFSET = 8
# Every connection: never download or load an extension behind the user's back (a store path
# naming an SQLite or Parquet file must not fetch a scanner).
CONNECT_CONFIG: dict[str, object] = {
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}
LOCK_RETRY_SECONDS = 0.2
T = TypeVar("T")
_LOCK_PID = re.compile(r"\(PID (\d+)\)")
_SOURCE = "_snapshot_source"
"""The name a store file is attached under while :meth:`Store.snapshot_of` copies it."""


def _looks_like(head: bytes) -> str:
    """What a file that is not a DuckDB database seems to be, from its first bytes."""
    if head.startswith(b"SQLite format 3\0"):
        return "an SQLite database"
    if head.startswith(b"PAR1"):
        return "Parquet"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP/XLSX file"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "JSON"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "an unknown binary file"
    return "CSV/text"


def check_store_file(path: Path) -> None:
    """Refuse a path that exists and is not a DuckDB database file.

    DuckDB would otherwise open a CSV, Parquet or JSON file as a read-only view (an ingest
    "succeeds" and stores nothing) or try to load a scanner for an SQLite file.

    Raises
    ------
    StoreError
        ``"x.csv: not a DuckDB store (looks like CSV/text); choose a .duckdb path"``.
    """
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a DuckDB store; name a .duckdb file")
    if not path.exists():
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the store ({exc.strerror})") from None
    if not head:  # an empty file (e.g. from mktemp): DuckDB initialises it
        return
    if head[DUCKDB_MAGIC_OFFSET : DUCKDB_MAGIC_OFFSET + 4] != DUCKDB_MAGIC:
        raise StoreError(
            f"{path}: not a DuckDB store (looks like {_looks_like(head)}); "
            "choose a new path or an existing .duckdb store"
        )


def is_disk_full(exc: BaseException) -> bool:
    """True when an error (DuckDB's or the OS's) says the disk is full."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return "no space left on device" in str(exc).lower()


def _in_use_message(path: str, exc: BaseException) -> str:
    found = _LOCK_PID.search(str(exc))
    holder = f" (pid {found.group(1)})" if found else ""
    return (
        f"{path} is in use by another mashdemand process{holder}; try again when it finishes, "
        "or use --wait SECONDS"
    )


def _retry_while_locked(path: str, wait: float, open_it: Callable[[], T]) -> T:
    """``open_it()``, retried every 0.2 s while another process holds the file ``path``, for
    up to ``wait`` seconds [s]; then :class:`StoreInUseError`."""
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return open_it()
        except duckdb.Error as exc:
            if "could not set lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise StoreInUseError(_in_use_message(path, exc)) from None
            time.sleep(LOCK_RETRY_SECONDS)


def _connect(path: str, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with our config, retrying while another process holds the file
    (:func:`_retry_while_locked`)."""
    return _retry_while_locked(
        path, wait, lambda: duckdb.connect(path, read_only=read_only, config=dict(CONNECT_CONFIG))
    )


def _refuse_newer(path: str, version: int) -> None:
    """A :class:`StoreError` for a store of a schema version newer than this package's."""
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: store schema version {version} is newer than this mashdemand "
            f"understands ({SCHEMA_VERSION}); upgrade mashdemand"
        )


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _remove_spill_files(path: Path) -> None:
    """Delete what a killed process left in DuckDB's spill folder ``<store>.tmp``.

    Called only while holding the write lock, so no other process can be using the folder.
    """
    spill = path.with_name(path.name + ".tmp")
    if spill.is_dir():
        shutil.rmtree(spill, ignore_errors=True)


def _open_error(path: str, exc: BaseException) -> str:
    """The one-line message for a file DuckDB cannot open."""
    text = " ".join(str(exc).split())
    if "corrupt" in text.lower() or "could not read enough bytes" in text.lower():
        return f"{path}: damaged DuckDB store, cannot be opened ({text}); restore it from a backup"
    return f"{path}: cannot open as a DuckDB store ({text})"


class Store:
    """A DuckDB file holding contacts, quarantine and ingest history.

    Parameters
    ----------
    path : str or Path
        The DuckDB file; created (with its folder) if missing, readable by its owner only
        (``0600``, folders ``0700``). An existing file that is not a DuckDB database (a CSV,
        Parquet, JSON or SQLite file) is refused. ``":memory:"`` for a throwaway store.
    read_only : bool
        Open without write access (no migrations are applied).
    wait : float
        Seconds to keep retrying (every 0.2 s) while another process holds the store
        [s]; 0 refuses at once with :class:`StoreInUseError`.

    Attributes
    ----------
    created : bool
        True when this call created the file.

    Examples
    --------
    >>> with Store(":memory:") as st:
    ...     st.schema_version()
    3
    """

    def __init__(
        self, path: str | Path = DEFAULT_STORE, read_only: bool = False, wait: float = 0
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.created = False
        if self.path != ":memory:":
            self._prepare_file(Path(self.path))
        try:
            with private_umask() if self.created else contextlib.nullcontext():
                self.con = _connect(self.path, read_only, wait)
        except StoreError:
            raise
        except duckdb.Error as exc:
            raise StoreError(_open_error(self.path, exc)) from None
        try:
            self._configure()
            if self.created:
                make_private(self.path)
            if not read_only:
                self.migrate()
                if self.path != ":memory:":
                    _remove_spill_files(Path(self.path))
            else:
                self._check_version()
        except BaseException:
            self.con.close()
            raise

    def _prepare_file(self, p: Path) -> None:
        """Check the path before DuckDB touches it; create missing folders privately."""
        check_store_file(p)
        if self.read_only and not p.exists():
            raise StoreError(f"{p}: store not found")
        self.created = not p.exists() or p.stat().st_size == 0
        for folder in _missing_folders(p.parent):
            folder.mkdir(exist_ok=True)
            make_private(folder)

    def _configure(self) -> None:
        try:
            try:  # quiet in terminals; in Jupyter DuckDB refuses without ipywidgets
                self.con.execute("SET enable_progress_bar = false")
            except duckdb.Error:
                pass
            # TIMESTAMP columns hold UTC: casts from TIMESTAMPTZ must not use the machine's zone.
            self.con.execute("SET TimeZone = 'UTC'")
            install_macros(self.con)
        except duckdb.Error as exc:
            raise StoreError(_open_error(self.path, exc)) from None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (releasing the file for other processes)."""
        self.con.close()
        if self.path != ":memory:" and not self.read_only:
            make_private(self.path + ".wal")  # created by DuckDB under the process umask

    def interrupt(self) -> None:
        """Stop the running query at once (safe from a signal handler); it raises
        ``duckdb.InterruptException`` and the transaction can be rolled back."""
        self.con.interrupt()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: committed at its end, rolled back on any error.

        A failed COMMIT leaves no transaction to roll back (DuckDB has already aborted it);
        that is not an error of its own. A full disk raises :class:`StoreFullError`.
        """
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            if is_disk_full(exc):
                raise StoreFullError(
                    f"no space left on device writing {self.path}; nothing was stored "
                    "(free some space and run it again)"
                ) from None
            raise

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # "no transaction is active", or invalidated
            self.con.execute("ROLLBACK")

    def scalar(self, sql: str, params: Sequence[object] = ()) -> object:
        """First value of a query (fetching every row: DuckDB 2 keeps unfinished results)."""
        rows = self.con.execute(sql, list(params)).fetchall()
        return rows[0][0] if rows else None

    # -- schema ----------------------------------------------------------------------------
    def schema_version(self) -> int:
        """Highest migration applied (0 for a new file)."""
        exists = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        )
        if not exists:
            return 0
        v = self.scalar("SELECT max(version) FROM schema_version")
        return int(v or 0)

    def _check_version(self) -> int:
        v = self.schema_version()
        _refuse_newer(self.path, v)
        return v

    def migrate(self) -> int:
        """Apply pending forward migrations in one transaction; return the new version."""
        current = self._check_version()
        pending = [m for m in MIGRATIONS if m[0] > current]
        if not pending:
            return current
        with self.transaction():
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER, description VARCHAR, applied_at TIMESTAMP)"
            )
            for version, description, statements in pending:
                for sql in statements:
                    self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)",
                    [version, description],
                )
        return SCHEMA_VERSION

    # -- writes (used by the ingest pipeline) ----------------------------------------------
    def next_ingest_id(self) -> int:
        return int(self.scalar("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests"))

    def stored_hashes(self, ids: pd.DataFrame) -> pd.DataFrame:
        """Stored ``row_hash`` for the ``contact_id`` values in ``ids`` (inner join)."""
        self.con.register("_ids", ids[[schema.CONTACT_ID]])
        try:
            return self.con.execute(
                "SELECT c.contact_id, c.row_hash AS stored_hash FROM contacts c "
                "JOIN _ids USING (contact_id)"
            ).df()
        finally:
            self.con.unregister("_ids")

    def append(
        self,
        table: str,
        frame: pd.DataFrame,
        columns: Sequence[str],
        unless_exists: Sequence[str] = (),
    ) -> int:
        """Append ``frame[columns]`` to ``table`` (columns by name); return rows added.

        With ``unless_exists``, rows whose values in those columns are already in the table
        are skipped, so that recording the same quarantined row or conflict twice adds nothing.
        """
        if len(frame) == 0:
            return 0
        # Arrow scans faster than pandas' object and string columns.
        self.con.register("_new", pa.Table.from_pandas(frame[list(columns)], preserve_index=False))
        try:
            cols = ", ".join(columns)
            sql = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _new"
            if unless_exists:
                keys = " AND ".join(f"t.{k} IS NOT DISTINCT FROM _new.{k}" for k in unless_exists)
                sql += f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {keys})"
            before = self.count(table)
            self.con.execute(sql)
            return self.count(table) - before
        finally:
            self.con.unregister("_new")

    # -- reads: tidy frames for later stages -----------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        """A whole table as a frame (for inspection and tests)."""
        if name not in TABLES:
            raise StoreError(f"unknown table {name!r}")
        return self.con.execute(f"SELECT * FROM {name}").df()

    def count(self, table: str = "contacts") -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table}"))

    def hubs(self) -> list[str]:
        return [
            r[0]
            for r in self.con.execute("SELECT DISTINCT hub FROM contacts ORDER BY hub").fetchall()
        ]

    def daily_counts(
        self,
        by: Iterable[str] = (),
        hubs: Iterable[str] | None = None,
        start: str | pd.Timestamp | None = None,
        end: str | pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Contacts per local day, by hub and optional split dimensions, zero-filled.

        Parameters
        ----------
        by : iterable of str
            Extra dimensions among ``source``, ``priority``, ``subject``. Missing values are
            counted under ``"unknown"`` so that splits always add up to the hub total.
        hubs : iterable of str, optional
            Restrict to these hubs.
        start, end : date-like, optional
            Local-date window (inclusive).

        Returns
        -------
        pd.DataFrame
            ``hub, [by...], date, contacts`` [contacts/day]. Each hub's series run from its
            first to its last day with contacts (within the window); every series of a hub
            (each combination seen in that hub) has a row for every day, zero where none.
        """
        import pandas as pd

        dims = list(by)
        bad = [d for d in dims if d not in SPLIT_DIMENSIONS]
        if bad:
            raise StoreError(
                f"cannot split by {', '.join(bad)}; choose from {', '.join(SPLIT_DIMENSIONS)}"
            )
        where, params = self._window(start, end, hubs)
        dim_sel = "".join(f", coalesce({d}, '{UNKNOWN}') AS {d}" for d in dims)
        dim_cols = "".join(f", {d}" for d in dims)
        sql = f"""
        WITH base AS (
            SELECT hub{dim_sel}, received_date AS date FROM contacts WHERE {where}
        ),
        counts AS (SELECT hub{dim_cols}, date, count(*) AS contacts FROM base GROUP BY ALL),
        spans AS (SELECT hub, min(date) AS d0, max(date) AS d1 FROM counts GROUP BY hub),
        series AS (SELECT DISTINCT hub{dim_cols} FROM counts),
        grid AS (
            SELECT s.*, CAST(g.d AS DATE) AS date
            FROM series s JOIN spans USING (hub),
                 LATERAL generate_series(spans.d0::TIMESTAMP, spans.d1::TIMESTAMP,
                                         INTERVAL 1 DAY) AS g(d)
        )
        SELECT grid.hub{"".join(f", grid.{d}" for d in dims)}, grid.date,
               coalesce(counts.contacts, 0)::BIGINT AS contacts
        FROM grid LEFT JOIN counts USING (hub{dim_cols}, date)
        ORDER BY grid.hub{"".join(f", grid.{d}" for d in dims)}, grid.date
        """
        out = self.con.execute(sql, params).df()
        out[schema.DATE] = pd.to_datetime(out[schema.DATE])
        out[schema.CONTACTS] = out[schema.CONTACTS].astype("int64")
        return out.rename(columns={"date": schema.DATE})

    def overview_text(self) -> str:
        """A few lines describing what the store holds (for ``mashdemand summary``)."""
        lines = [f"store {self.path} (schema version {self.schema_version()})"]
        hubs = self.con.execute(
            "SELECT hub, count(*) AS n, min(received_date), max(received_date) "
            "FROM contacts GROUP BY hub ORDER BY hub"
        ).fetchall()
        total = sum(r[1] for r in hubs)
        lines.append(f"{total:,} contacts in {len(hubs)} hub(s)")
        for hub, n, d0, d1 in hubs:
            lines.append(f"  {hub:<24} {n:>10,}  {d0:%d/%m/%Y} to {d1:%d/%m/%Y}")
        q = self.con.execute(
            "SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY 2 DESC"
        ).fetchall()
        lines.append(f"{sum(r[1] for r in q):,} rows in quarantine")
        lines += [f"  {reason}: {n:,}" for reason, n in q]
        return "\n".join(lines)

    def quarantine_summary(self) -> pd.DataFrame:
        """Quarantined rows by file and reason."""
        return self.con.execute(
            "SELECT file, reason, count(*) AS rows FROM quarantine "
            "GROUP BY ALL ORDER BY file, rows DESC"
        ).df()

    # -- record-level reads for the reports and the staffing plan --------------------------
    def _window(
        self,
        start: object | None = None,
        end: object | None = None,
        hubs: Iterable[str] | None = None,
        extra: str = "TRUE",
    ) -> tuple[str, list[object]]:
        """A ``WHERE`` clause on the local received date and hub, with its parameters."""
        import pandas as pd

        where, params = [extra], []
        if start is not None:
            where.append("received_date >= ?")
            params.append(pd.Timestamp(start).date())
        if end is not None:
            where.append("received_date <= ?")
            params.append(pd.Timestamp(end).date())
        if hubs is not None:
            where.append("list_contains(?, hub)")
            params.append(list(hubs))
        return " AND ".join(where), params

    def arrivals(
        self,
        start: object | None = None,
        end: object | None = None,
        hubs: Iterable[str] | None = None,
        with_priority: bool = False,
    ) -> pd.DataFrame:
        """When contacts arrived: ``hub, received_date, received_hour`` (local UK), received from
        ``start`` to ``end`` (inclusive, local dates) at ``hubs``, if given. With
        ``with_priority``, only contacts with a priority, and ``priority, source, rpa`` too (what
        the staffing plan learns its arrival profiles from)."""
        cols = "hub, received_date, received_hour"
        extra = "TRUE"
        if with_priority:
            cols += ", priority, source, rpa"
            extra = "priority IS NOT NULL"
        where, params = self._window(start, end, hubs, extra)
        return self.con.execute(f"SELECT {cols} FROM contacts WHERE {where}", params).df()

    def decisions(self, start: object, end: object, hubs: Iterable[str]) -> pd.DataFrame:
        """Contacts received from ``start`` to ``end`` at ``hubs`` with their decision times:
        ``hub, priority, subject, received_at_utc, decided_at_utc, received_date,
        decided_date`` (local dates), for measuring timeliness."""
        where, params = self._window(start, end, hubs)
        return self.con.execute(
            "SELECT hub, priority, subject, received_at_utc, decided_at_utc, received_date, "
            "CAST(timezone('Europe/London', timezone('UTC', decided_at_utc)) AS DATE) "
            f"AS decided_date FROM contacts WHERE {where}",
            params,
        ).df()

    def counts_by(
        self,
        dim: str,
        start: object | None = None,
        end: object | None = None,
        hubs: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Contacts per hub and ``dim`` (one of the split dimensions or ``category``) received
        from ``start`` to ``end``: ``hub, <dim>, contacts``; missing values counted as
        ``unknown``."""
        if dim not in (*SPLIT_DIMENSIONS, schema.CATEGORY):
            raise StoreError(
                f"cannot count by {dim!r}; choose from {', '.join(SPLIT_DIMENSIONS)}, category"
            )
        where, params = self._window(start, end, hubs)
        return self.con.execute(
            f"SELECT hub, coalesce({dim}, '{UNKNOWN}') AS {dim}, count(*) AS contacts "
            f"FROM contacts WHERE {where} GROUP BY ALL",
            params,
        ).df()

    def quarantine_by_reason(self) -> pd.DataFrame:
        """Quarantined rows by reason: ``reason, rows, files``, largest first."""
        return self.con.execute(
            "SELECT reason, count(*) AS rows, count(DISTINCT file) AS files FROM quarantine "
            "GROUP BY reason ORDER BY rows DESC"
        ).df()

    def rows_read(self) -> int:
        """Rows read by every ingest run so far."""
        return int(self.scalar("SELECT coalesce(sum(rows_read), 0) FROM ingests") or 0)

    # -- the forecast archive (version 2) ---------------------------------------------------
    def archive_forecast(
        self,
        frame: pd.DataFrame,
        *,
        freq: str,
        data_window: tuple[str, str],
        kind: str = "archived",
        report_quarter: str | None = None,
        scenario: str = "",
        models: Sequence[str] = (),
    ) -> int:
        """Keep one forecast (hub totals and ``ALL``) so a later report can compare it with what
        happened; return its ``run_id``. One :class:`ArchiveRun` through :meth:`archive_runs`
        (a forecast with missing values is refused)."""
        run = ArchiveRun(
            frame,
            freq=freq,
            data_window=data_window,
            kind=kind,
            report_quarter=report_quarter,
            scenario=scenario,
            models=tuple(models),
        )
        return self.archive_runs([run])[0]

    def forecast_runs(self) -> pd.DataFrame:
        """Archived forecasts, oldest first: ``run_id, created_at, kind, report_quarter, freq,
        data_start, data_end, scenario, models, package_version``."""
        import pandas as pd

        out = self.con.execute("SELECT * FROM forecast_runs ORDER BY run_id").df()
        for c in ("data_start", "data_end"):
            out[c] = pd.to_datetime(out[c])
        return out

    def archived_forecast(self, run_id: int) -> pd.DataFrame:
        """One archived forecast: ``hub, date, yhat, lo80, hi80, lo95, hi95``."""
        import pandas as pd

        out = self.con.execute(
            f"SELECT {', '.join(ARCHIVE_COLUMNS)} FROM forecast_archive WHERE run_id = ? "
            "ORDER BY hub, date",
            [run_id],
        ).df()
        out[schema.DATE] = pd.to_datetime(out[schema.DATE])
        return out

    # -- snapshots: reports read a copy and leave the file to others (version 3) ------------
    def snapshot(self) -> Store:
        """An in-memory copy of every table, read in one transaction.

        A report works on the copy for minutes while this store can be closed at once, so other
        processes can read and ingest meanwhile. Writing to the copy changes nothing on disk;
        its ``path`` names this store, for messages.

        Returns
        -------
        Store
            A ``":memory:"`` store at the current schema version with this store's rows (tables
            this store does not have yet are empty). Close it when done.
        """
        present = self._present_tables()
        snap = Store(":memory:")
        try:
            self.con.execute("BEGIN TRANSACTION")
            try:
                for name in sorted((TABLES - {"schema_version"}) & present):
                    snap._load_table(name, self.con.sql(f"SELECT * FROM {name}").to_arrow_table())
            finally:
                self.con.execute("ROLLBACK")  # a read: nothing to commit
        except BaseException:
            snap.close()
            raise
        snap.path = self.path
        return snap

    @classmethod
    def snapshot_of(cls, path: str | Path, wait: float = 0) -> Store:
        """An in-memory copy of the store file ``path``, read in one transaction.

        The same copy as :meth:`snapshot`, without opening the file as a store first: the file
        is attached read-only, each table is copied inside DuckDB (no round trip through Arrow)
        and the file is detached, free for other processes, before this returns.

        Parameters
        ----------
        path : str or Path
            The store file.
        wait : float
            Seconds to keep retrying (every 0.2 s) while another process holds the file [s].

        Returns
        -------
        Store
            A ``":memory:"`` store at the current schema version with the file's rows; its
            ``path`` names the file, for messages. Close it when done.

        Raises
        ------
        StoreError
            The file is missing, not a DuckDB store, damaged or of a newer schema version;
            :class:`StoreInUseError` when another process still holds it after ``wait``.
        """
        p = Path(path)
        check_store_file(p)
        if not p.exists():
            raise StoreError(f"{p}: store not found")
        snap = cls(":memory:")
        try:
            snap._copy_file(str(p), wait)
        except BaseException:
            snap.close()
            raise
        snap.path = str(p)
        return snap

    def _copy_file(self, path: str, wait: float) -> None:
        """Copy every table of the store file ``path`` into this store, in one transaction."""
        attach = f"ATTACH {quote(path)} AS {_SOURCE} (READ_ONLY)"
        try:
            _retry_while_locked(path, wait, lambda: self.con.execute(attach))
        except duckdb.Error as exc:
            raise StoreError(_open_error(path, exc)) from None
        try:
            present = self._present_tables(_SOURCE)
            if "schema_version" in present:
                version = self.scalar(f"SELECT max(version) FROM {_SOURCE}.schema_version")
                _refuse_newer(path, int(version or 0))
            with self.transaction():
                for name in sorted((TABLES - {"schema_version"}) & present):
                    self.con.execute(
                        f"INSERT INTO main.{name} BY NAME SELECT * FROM {_SOURCE}.{name}"
                    )
        finally:
            self.con.execute(f"DETACH {_SOURCE}")

    def _present_tables(self, database: str | None = None) -> set[str]:
        """Tables of this store, or of the attached ``database``."""
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = coalesce(?, current_database())",
            [database],
        ).fetchall()
        return {r[0] for r in rows}

    def _load_table(self, name: str, data: pa.Table) -> None:
        self.con.register("_src", data)
        try:
            self.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _src")
        finally:
            self.con.unregister("_src")

    def archive_runs(self, runs: Sequence[ArchiveRun]) -> list[int]:
        """Archive forecasts in one short transaction, all or none; return their ``run_id``.

        Parameters
        ----------
        runs : sequence of ArchiveRun
            Forecasts made by a report, archived only once its files were written.

        Raises
        ------
        StoreError
            Before anything is written, when a run has an unknown kind, lacks a column or has a
            missing value in ``yhat`` or an interval bound: a forecast with holes is never
            archived, so no later report judges against it.
        """
        from mashdemand import __version__

        rows = [run.rows() for run in runs]
        for run, r in zip(runs, rows, strict=True):
            holes = _rows_without_values(r)
            if holes:
                raise StoreError(
                    f"forecast to archive ({run.freq}, {run.kind}): {holes} row(s) without a "
                    "value; not archived"
                )
        if not runs:
            return []
        with self.transaction():
            first = int(self.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM forecast_runs"))
            ids = list(range(first, first + len(runs)))
            for run_id, run, r in zip(ids, runs, rows, strict=True):
                self.con.execute(
                    "INSERT INTO forecast_runs "
                    "VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, *run.record(), __version__],
                )
                r.insert(0, "run_id", run_id)
                self.append("forecast_archive", r, ("run_id", *ARCHIVE_COLUMNS))
        return ids

    # -- housekeeping and its audit trail (version 3) --------------------------------------
    def hub_overview(self) -> pd.DataFrame:
        """Each hub in ``contacts``: ``hub, contacts, first_received, last_received,
        quarantined`` (local dates; quarantined rows whose hub text normalises to the hub,
        including rows kept when a hub was removed)."""
        import pandas as pd

        norm = HUB_TEXT_SQL.format(c="hub")
        out = self.con.execute(
            f"""
            WITH c AS (
                SELECT hub, count(*) AS contacts, min(received_date) AS first_received,
                       max(received_date) AS last_received
                FROM contacts GROUP BY hub
            ),
            q AS (
                SELECT {norm} AS hub, count(*) AS quarantined FROM quarantine
                WHERE hub IS NOT NULL GROUP BY 1
            )
            SELECT c.*, coalesce(q.quarantined, 0)::BIGINT AS quarantined
            FROM c LEFT JOIN q USING (hub) ORDER BY hub
            """
        ).df()
        for c in ("first_received", "last_received"):
            out[c] = pd.to_datetime(out[c])
        return out

    def remove_hub(self, hub: str, reason: str) -> int:
        """Remove every contact of ``hub`` in one transaction; return how many.

        The rows are not lost: they move to ``quarantine`` with reason ``hub_removed`` (the
        canonical columns as text; times as ISO 8601 UTC, so the rows can be read again), and
        the removal is recorded in ``audit`` with ``reason``.

        Raises
        ------
        StoreError
            The hub is not in the store, or the reason is empty.
        """
        reason = " ".join(str(reason).split())
        if not reason:
            raise StoreError("removing a hub needs a reason (--reason)")
        n = int(self.scalar("SELECT count(*) FROM contacts WHERE hub = ?", [hub]))
        if n == 0:
            hubs = ", ".join(self.hubs()) or "none"
            raise StoreError(f"{self.path}: no hub {hub!r} in the store (hubs: {hubs})")
        iso = "strftime({c}, '%Y-%m-%dT%H:%M:%S') || '+00:00'"
        with self.transaction():
            self.con.execute(
                f"""
                INSERT INTO quarantine ({", ".join(QUARANTINE_COLUMNS)})
                SELECT c.ingest_id,
                       (SELECT any_value(i.file) FROM ingests i WHERE i.ingest_id = c.ingest_id),
                       c.row_number, '{HUB_REMOVED}', '{HUB_REMOVED}: ' || ?, c.contact_id,
                       {iso.format(c="c.received_at_utc")}, c.hub, c.source, c.subject,
                       c.priority, c.category, lower(CAST(c.rpa AS VARCHAR)),
                       {iso.format(c="c.decided_at_utc")}, c.outcome, c.row_hash
                FROM contacts c WHERE c.hub = ?
                """,
                [reason, hub],
            )
            self.con.execute("DELETE FROM contacts WHERE hub = ?", [hub])
            self._record_audit("remove_hub", hub, n, reason)
        return n

    def _record_audit(self, action: str, hub: str | None, rows: int, reason: str) -> None:
        from mashdemand import __version__

        self.con.execute(
            "INSERT INTO audit SELECT coalesce(max(audit_id), 0) + 1, now()::TIMESTAMP, ?, ?, ?, "
            "?, ? FROM audit",
            [action, hub, rows, reason, __version__],
        )

    def audit_log(self) -> pd.DataFrame:
        """Housekeeping done to the store, oldest first: ``audit_id, created_at (UTC), action,
        hub, rows_affected, reason, package_version`` (empty for a store from before
        version 3)."""
        import pandas as pd

        if "audit" not in self._present_tables():
            return pd.DataFrame(columns=list(AUDIT_COLUMNS))
        return self.con.execute(
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit ORDER BY audit_id"
        ).df()


HUB_REMOVED = "hub_removed"
"""Quarantine reason of the contacts of a hub removed by :meth:`Store.remove_hub`."""
AUDIT_COLUMNS: tuple[str, ...] = (
    "audit_id",
    "created_at",
    "action",
    schema.HUB,
    "rows_affected",
    "reason",
    "package_version",
)
ARCHIVE_KINDS: tuple[str, ...] = ("archived", "reconstructed")


@dataclass(frozen=True, eq=False)
class ArchiveRun:
    """A forecast waiting to be archived by :meth:`Store.archive_runs`.

    Attributes
    ----------
    frame : DataFrame
        The CONTRACTS.md forecast columns; split rows (a ``priority``, ``source`` or
        ``subject`` other than ``ALL``) are not archived.
    freq : str
        The forecast's period (``day``, ``fy``...).
    data_window : tuple of date-like
        First and last day of the data the forecast saw.
    kind : str
        ``archived`` (made by a report) or ``reconstructed`` (made afterwards from the data
        before the quarter).
    report_quarter, scenario, models
        What made it, as shown in later reports.
    """

    frame: pd.DataFrame
    freq: str
    data_window: tuple[object, object]
    kind: str = "archived"
    report_quarter: str | None = None
    scenario: str = ""
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ARCHIVE_KINDS:
            raise StoreError(f"archive kind {self.kind!r}: use archived or reconstructed")

    def rows(self) -> pd.DataFrame:
        """The rows to archive: hub totals and ``ALL``, ``ARCHIVE_COLUMNS``, dates as dates."""
        import pandas as pd

        rows = self.frame
        for d in SPLIT_DIMENSIONS:
            if d in rows.columns:
                rows = rows[rows[d].astype(str) == schema.FORCE_TOTAL]
        missing = [c for c in ARCHIVE_COLUMNS if c not in rows.columns]
        if missing:
            raise StoreError(f"forecast to archive: missing column(s) {', '.join(missing)}")
        rows = rows[list(ARCHIVE_COLUMNS)].reset_index(drop=True)
        rows[schema.DATE] = pd.to_datetime(rows[schema.DATE]).dt.date
        return rows

    def missing_values(self) -> int:
        """Rows to archive with no ``yhat`` or interval bound (such a run is not archived)."""
        return _rows_without_values(self.rows())

    def record(self) -> list[object]:
        """``kind, report_quarter, freq, data_start, data_end, scenario, models`` as stored."""
        import pandas as pd

        return [
            self.kind,
            self.report_quarter,
            self.freq,
            pd.Timestamp(self.data_window[0]).date(),
            pd.Timestamp(self.data_window[1]).date(),
            self.scenario,
            ",".join(self.models),
        ]


def _rows_without_values(rows: pd.DataFrame) -> int:
    """Rows with no ``yhat`` or interval bound."""
    return int(rows[list(ARCHIVE_COLUMNS[2:])].isna().any(axis=1).sum())

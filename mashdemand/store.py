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

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from mashdemand import schema

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


class StoreError(Exception):
    """The store cannot be opened or is of an unknown schema version."""


class Store:
    """A DuckDB file holding contacts, quarantine and ingest history.

    Parameters
    ----------
    path : str or Path
        The DuckDB file; created (with its folder) if missing. ``":memory:"`` for a
        throwaway store.
    read_only : bool
        Open without write access (no migrations are applied).

    Examples
    --------
    >>> with Store(":memory:") as st:
    ...     st.schema_version()
    2
    """

    def __init__(self, path: str | Path = DEFAULT_STORE, read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            p = Path(self.path)
            if read_only and not p.exists():
                raise StoreError(f"{p}: store not found")
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
            try:  # quiet in terminals; in Jupyter DuckDB refuses without ipywidgets
                self.con.execute("SET enable_progress_bar = false")
            except duckdb.Error:
                pass
            # TIMESTAMP columns hold UTC: casts from TIMESTAMPTZ must not use the machine's zone.
            self.con.execute("SET TimeZone = 'UTC'")
            from mashdemand.ingest.parsing import install_macros

            install_macros(self.con)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open as a DuckDB store ({exc})") from None
        if not read_only:
            self.migrate()
        else:
            self._check_version()

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

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
        if v > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema version {v} is newer than this mashdemand "
                f"understands ({SCHEMA_VERSION}); upgrade mashdemand"
            )
        return v

    def migrate(self) -> int:
        """Apply pending forward migrations in one transaction; return the new version."""
        current = self._check_version()
        pending = [m for m in MIGRATIONS if m[0] > current]
        if not pending:
            return current
        self.con.execute("BEGIN TRANSACTION")
        try:
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
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
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
        where, params = ["TRUE"], []
        if hubs is not None:
            hub_list = list(hubs)
            where.append(f"hub IN ({', '.join('?' * len(hub_list))})")
            params += hub_list
        if start is not None:
            where.append("received_date >= ?")
            params.append(pd.Timestamp(start).date())
        if end is not None:
            where.append("received_date <= ?")
            params.append(pd.Timestamp(end).date())
        dim_sel = "".join(f", coalesce({d}, '{UNKNOWN}') AS {d}" for d in dims)
        dim_cols = "".join(f", {d}" for d in dims)
        sql = f"""
        WITH base AS (
            SELECT hub{dim_sel}, received_date AS date FROM contacts WHERE {" AND ".join(where)}
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
        """Keep a forecast (hub totals and ``ALL``) so a later report can compare it with what
        happened; return its ``run_id``.

        ``frame`` has the CONTRACTS.md forecast columns; split rows (a ``priority``, ``source``
        or ``subject`` column other than ``ALL``) are not archived.
        """
        import pandas as pd

        from mashdemand import __version__

        if kind not in ("archived", "reconstructed"):
            raise StoreError(f"archive kind {kind!r}: use archived or reconstructed")
        rows = frame
        for d in SPLIT_DIMENSIONS:
            if d in rows.columns:
                rows = rows[rows[d].astype(str) == schema.FORCE_TOTAL]
        missing = [c for c in ARCHIVE_COLUMNS if c not in rows.columns]
        if missing:
            raise StoreError(f"forecast to archive: missing column(s) {', '.join(missing)}")
        rows = rows[list(ARCHIVE_COLUMNS)].copy()
        rows[schema.DATE] = pd.to_datetime(rows[schema.DATE]).dt.date
        run_id = int(self.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM forecast_runs"))
        rows.insert(0, "run_id", run_id)
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "INSERT INTO forecast_runs VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    kind,
                    report_quarter,
                    freq,
                    pd.Timestamp(data_window[0]).date(),
                    pd.Timestamp(data_window[1]).date(),
                    scenario,
                    ",".join(models),
                    __version__,
                ],
            )
            self.append("forecast_archive", rows, ("run_id", *ARCHIVE_COLUMNS))
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return run_id

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

"""Ingest pipeline: read, parse, validate, deduplicate, quarantine, store, summarise.

Every row read ends in exactly one of three places, so that
``rows_read == rows_accepted + rows_duplicate + rows_quarantined`` always holds:

- accepted: stored in ``contacts``;
- duplicate: its ``contact_id`` is already stored (or appears earlier in the same run) with
  identical content; nothing is added;
- quarantined: kept in ``quarantine`` with its reason. This includes *conflicts*: the same
  ``contact_id`` with different content. The stored row is kept, never overwritten, and the
  conflict is also recorded in ``conflicts``.

All files named in one call are read and checked before anything is written, and written in one
transaction: a file that cannot be read at all leaves the store untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mashdemand import schema
from mashdemand.ingest import parsing
from mashdemand.ingest.readers import ROW_NUMBER, IngestError, RawTable, load_mapping, read_table
from mashdemand.store import CONTACT_TABLE_COLUMNS, QUARANTINE_COLUMNS, Store

# Dates before this are quarantined as implausible for a MASH contact log.
EARLIEST = pd.Timestamp("2000-01-01", tz="UTC")
# Allowance for clock skew between the exporting system and this machine.
FUTURE_TOLERANCE = pd.Timedelta(minutes=5)

# Quarantine reasons, in the order a row's primary reason is chosen.
REASONS: tuple[str, ...] = (
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

HASH_COLUMNS: tuple[str, ...] = (
    schema.CONTACT_ID,
    schema.HUB,
    schema.RECEIVED_AT_UTC,
    schema.SOURCE,
    schema.SUBJECT,
    schema.PRIORITY,
    schema.CATEGORY,
    schema.RPA,
    schema.DECIDED_AT_UTC,
    schema.OUTCOME,
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
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text


def _iso_local(ts: pd.Timestamp | None) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return ts.tz_convert(schema.UK_TZ).isoformat()


def parse_contacts(raw: pd.DataFrame, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Normalise a frame of canonical columns and attach quarantine reasons.

    Parameters
    ----------
    raw : pd.DataFrame
        Canonical columns as read (text or typed) plus ``row_number``.
    now : pd.Timestamp, optional
        UTC "now" for the future-date check (default: the clock).

    Returns
    -------
    pd.DataFrame
        Store columns (see ``store.CONTACT_TABLE_COLUMNS``) plus ``reason`` (primary, <NA>
        when the row is usable), ``reasons`` (all, ``;``-joined), ``source_unknown``.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    n = len(raw)
    idx = raw.index

    def col(name: str) -> pd.Series:
        if name in raw.columns:
            return raw[name]
        return pd.Series(pd.NA, index=idx, dtype="string")

    out = pd.DataFrame(index=idx)
    checks: list[tuple[str, pd.Series]] = []

    cid = parsing._as_text(col(schema.CONTACT_ID))
    out[schema.CONTACT_ID] = cid
    checks.append(("missing_contact_id", cid.isna()))

    received_raw = col(schema.RECEIVED_AT)
    rec, rec_bad = parsing.parse_local_timestamps(received_raw)
    checks.append(("missing_received_at", rec.isna() & ~rec_bad))
    checks.append(("unparseable_received_at", rec_bad))
    checks.append(("received_at_before_2000", rec < EARLIEST))
    checks.append(("received_at_in_future", rec > now + FUTURE_TOLERANCE))
    out[schema.RECEIVED_AT_UTC] = rec

    hub, hub_bad = parsing.normalise_hub(col(schema.HUB))
    checks.append(("missing_hub", hub.isna() & ~hub_bad))
    checks.append(("invalid_hub", hub_bad))
    out[schema.HUB] = hub

    src, src_unknown = parsing.normalise_vocab(
        col(schema.SOURCE), schema.SOURCES, schema.SOURCE_ALIASES
    )
    out[schema.SOURCE] = src.mask(src_unknown, "other")
    out["source_unknown"] = src_unknown

    subj, subj_bad = parsing.normalise_vocab(
        col(schema.SUBJECT), schema.SUBJECTS, schema.SUBJECT_ALIASES
    )
    checks.append(("invalid_subject", subj_bad))
    out[schema.SUBJECT] = subj

    pri, pri_bad = parsing.normalise_vocab(
        col(schema.PRIORITY), schema.PRIORITIES, schema.PRIORITY_ALIASES
    )
    checks.append(("invalid_priority", pri_bad))
    out[schema.PRIORITY] = pri

    out[schema.CATEGORY] = parsing.clean_text(col(schema.CATEGORY))
    out[schema.OUTCOME] = parsing.clean_text(col(schema.OUTCOME))

    rpa, rpa_bad = parsing.parse_bool(col(schema.RPA))
    checks.append(("invalid_rpa", rpa_bad))
    out[schema.RPA] = rpa

    dec, dec_bad = parsing.parse_local_timestamps(col(schema.DECIDED_AT))
    checks.append(("unparseable_decided_at", dec_bad))
    checks.append(("decided_before_received", (dec < rec).fillna(False)))
    out[schema.DECIDED_AT_UTC] = dec

    local = parsing.utc_to_local(rec)
    out[schema.RECEIVED_DATE] = local.dt.normalize()
    out[schema.RECEIVED_HOUR] = local.dt.hour.astype("Int8")
    out[ROW_NUMBER] = raw[ROW_NUMBER].to_numpy()

    reason = pd.Series(pd.NA, index=idx, dtype="string")
    reasons = pd.Series("", index=idx, dtype="string")
    for name, mask in checks:
        m = mask.fillna(False).astype(bool).to_numpy()
        if not m.any():
            continue
        reason = reason.mask(m & reason.isna().to_numpy(), name)
        reasons = reasons.mask(m, reasons.where(reasons == "", reasons + ";") + name)
    out["reason"] = reason
    out["reasons"] = reasons.mask(reasons == "")
    assert len(out) == n
    return out


def row_hash(frame: pd.DataFrame) -> np.ndarray:
    """Content fingerprint of normalised rows (uint64), independent of the input format."""
    return pd.util.hash_pandas_object(frame[list(HASH_COLUMNS)], index=False).to_numpy()


def _quarantine_frame(
    raw: pd.DataFrame,
    mask: np.ndarray,
    reason: pd.Series,
    reasons: pd.Series,
    file: str,
    ingest_id: int,
) -> pd.DataFrame:
    """Quarantine rows: raw text of the canonical columns only (allow-list)."""
    q = pd.DataFrame(index=raw.index[mask])
    q["ingest_id"] = ingest_id
    q["file"] = file
    q["row_number"] = raw.loc[mask, ROW_NUMBER].to_numpy()
    q["reason"] = reason[mask].to_numpy()
    q["reasons"] = reasons[mask].to_numpy()
    for c in schema.CONTACT_COLUMNS:
        if c in raw.columns:
            q[c] = raw.loc[mask, c].astype("string").to_numpy()
        else:
            q[c] = pd.Series(pd.NA, index=q.index, dtype="string")
    return q


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _process(
    raw: RawTable, store: Store, ingest_id: int, now: pd.Timestamp, sha256: str
) -> FileSummary:
    file = str(raw.path)
    frame = raw.frame.reset_index(drop=True)
    parsed = parse_contacts(frame, now=now)
    usable = parsed["reason"].isna().to_numpy()

    parsed["row_hash"] = np.zeros(len(parsed), dtype="uint64")
    if usable.any():
        parsed.loc[usable, "row_hash"] = row_hash(parsed.loc[usable])
    status = np.where(usable, "accepted", "quarantined").astype(object)

    # Within the file: first occurrence of an id wins; repeats are duplicates or conflicts.
    ok = parsed.loc[usable, [schema.CONTACT_ID, "row_hash"]]
    first = ~ok.duplicated(schema.CONTACT_ID, keep="first")
    if first.all():  # the usual case: no id repeats within the file
        first_hash = ok["row_hash"]
        repeat_same = repeat_diff = np.zeros(len(ok), dtype=bool)
    else:
        first_hash = ok.groupby(schema.CONTACT_ID, sort=False)["row_hash"].transform("first")
        repeat_same = (~first & (ok["row_hash"] == first_hash)).to_numpy()
        repeat_diff = (~first & (ok["row_hash"] != first_hash)).to_numpy()
    ok_pos = np.flatnonzero(usable)
    status[ok_pos[repeat_same]] = "duplicate"
    status[ok_pos[repeat_diff]] = "quarantined"
    reason = parsed["reason"].copy()
    reasons = parsed["reasons"].copy()
    reason.iloc[ok_pos[repeat_diff]] = "conflict_within_file"
    reasons.iloc[ok_pos[repeat_diff]] = "conflict_within_file"

    # Against the store.
    conflicts = []
    cand_pos = ok_pos[first.to_numpy()]
    if len(cand_pos):
        cand = parsed.iloc[cand_pos][[schema.CONTACT_ID, "row_hash"]]
        stored = store.stored_hashes(cand)
        if len(stored):
            m = cand.reset_index().merge(stored, on=schema.CONTACT_ID, how="inner")
            same = m["row_hash"].astype("uint64") == m["stored_hash"].astype("uint64")
            status[m.loc[same, "index"].to_numpy()] = "duplicate"
            diff_idx = m.loc[~same, "index"].to_numpy()
            status[diff_idx] = "quarantined"
            reason.iloc[diff_idx] = "conflict_with_stored_contact"
            reasons.iloc[diff_idx] = "conflict_with_stored_contact"
            conflicts.append(m.loc[~same])
    # Within-file conflicts also go to the conflicts table, against the first occurrence.
    if repeat_diff.any():
        wf = ok.loc[repeat_diff, [schema.CONTACT_ID, "row_hash"]].copy()
        wf["stored_hash"] = first_hash[repeat_diff].to_numpy()
        wf["index"] = wf.index
        conflicts.append(wf)

    accepted = parsed.loc[status == "accepted"].copy()
    accepted["ingest_id"] = ingest_id
    accepted[schema.RECEIVED_AT_UTC] = accepted[schema.RECEIVED_AT_UTC].dt.tz_localize(None)
    accepted[schema.DECIDED_AT_UTC] = accepted[schema.DECIDED_AT_UTC].dt.tz_localize(None)
    store.append("contacts", accepted, CONTACT_TABLE_COLUMNS)

    qmask = status == "quarantined"
    q = _quarantine_frame(frame, qmask, reason, reasons, file, ingest_id)
    # Rows the CSV parser could not split: row number and reason only.
    if raw.malformed:
        mq = pd.DataFrame({"row_number": raw.malformed})
        mq["ingest_id"] = ingest_id
        mq["file"] = file
        mq["reason"] = "malformed_row"
        mq["reasons"] = "malformed_row"
        for c in schema.CONTACT_COLUMNS:
            mq[c] = pd.Series(pd.NA, index=mq.index, dtype="string")
        q = pd.concat([q, mq], ignore_index=True)
    # The same file quarantines the same rows again on re-ingest: record each once.
    q["raw_hash"] = pd.util.hash_pandas_object(
        q[["row_number", "reason", *schema.CONTACT_COLUMNS]].astype("string").assign(sha=sha256),
        index=False,
    ).to_numpy()
    store.append("quarantine", q, QUARANTINE_COLUMNS, unless_exists=("raw_hash",))

    if conflicts:
        cf = pd.concat(conflicts, ignore_index=True)
        cf["ingest_id"] = ingest_id
        cf["file"] = file
        cf["row_number"] = frame.loc[cf["index"].to_numpy(), ROW_NUMBER].to_numpy()
        cf = cf.rename(columns={"row_hash": "new_hash"})
        store.append(
            "conflicts",
            cf,
            ["ingest_id", "file", "row_number", schema.CONTACT_ID, "stored_hash", "new_hash"],
            unless_exists=(schema.CONTACT_ID, "stored_hash", "new_hash"),
        )

    rec = accepted[schema.RECEIVED_AT_UTC]
    s = FileSummary(
        file=file,
        rows_read=len(frame) + len(raw.malformed),
        rows_accepted=int((status == "accepted").sum()),
        rows_duplicate=int((status == "duplicate").sum()),
        rows_quarantined=int(qmask.sum()) + len(raw.malformed),
        rows_conflict=int(sum(len(c) for c in conflicts)),
        quarantine_reasons={k: int(v) for k, v in q["reason"].value_counts().items()},
        dropped_columns=list(raw.dropped_columns),
        values_mapped_to_other={
            "source": int(parsed.loc[status == "accepted", "source_unknown"].sum())
        },
        min_received_at=_iso_local(rec.min().tz_localize("UTC")) if len(rec) else None,
        max_received_at=_iso_local(rec.max().tz_localize("UTC")) if len(rec) else None,
    )
    return s


def ingest_contacts(
    paths: str | Path | Iterable[str | Path],
    store: str | Path | Store = "data/mashdemand.duckdb",
    mapping: str | Path | dict[str, str] | None = None,
    now: pd.Timestamp | None = None,
) -> IngestSummary:
    """Load contact-log exports into the store (CONTRACTS.md ``ingest``).

    Parameters
    ----------
    paths : path or iterable of paths
        CSV, XLSX or Parquet exports.
    store : path or Store
        The DuckDB file (created if missing) or an open :class:`~mashdemand.store.Store`.
    mapping : path, dict or None
        Column mapping (TOML file ``[columns] canonical = "Export Name"``, or the dict).
    now : pd.Timestamp, optional
        UTC time used to reject future dates (default: now).

    Returns
    -------
    IngestSummary

    Raises
    ------
    IngestError
        A file cannot be read at all; nothing is written.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    cols = mapping if isinstance(mapping, dict) else load_mapping(mapping)
    raws = [read_table(p, cols) for p in paths]  # all files checked before any write
    if not raws:
        raise IngestError("no files given")
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    own = not isinstance(store, Store)
    st = Store(store) if own else store
    try:
        st.con.execute("BEGIN TRANSACTION")
        try:
            files = []
            for raw in raws:
                ingest_id = st.next_ingest_id()
                sha = _sha256(raw.path)
                fs = _process(raw, st, ingest_id, now, sha)
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
                files.append(fs)
            st.con.execute("COMMIT")
        except BaseException:
            st.con.execute("ROLLBACK")
            raise
    finally:
        if own:
            st.close()
    return _combine(str(st.path), files)


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
    mins = [pd.Timestamp(f.min_received_at) for f in files if f.min_received_at]
    maxs = [pd.Timestamp(f.max_received_at) for f in files if f.max_received_at]
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

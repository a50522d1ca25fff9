"""Read contact-log exports (CSV, XLSX, Parquet) into a frame of canonical columns.

What a reader guarantees:

- Only canonical columns (CONTRACTS.md section 1) survive; every other column is dropped here,
  before any value is parsed, stored or logged, and only its *name* is reported. Exports often
  carry names, dates of birth or NHS numbers.
- Every data row has a ``row_number`` as a spreadsheet shows it: the header is row 1, the first
  data row is row 2 (for CSV, the physical line number when no value spans lines).
- Rows the CSV parser cannot split into the header's columns are returned as ``malformed``
  (row number only: their values cannot be attributed to columns, so none are kept).
- A file that cannot be read as a table at all raises :class:`IngestError` with a one-line
  message naming the file.

CSV encodings: UTF-8 (with or without BOM) and Windows-1252 (chosen when the bytes are not
valid UTF-8). Delimiter: comma or semicolon, whichever splits the header into more columns.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mashdemand import schema

ROW_NUMBER = "row_number"
DICTIONARY_COLUMNS = frozenset(
    {
        schema.HUB,
        schema.SOURCE,
        schema.SUBJECT,
        schema.PRIORITY,
        schema.CATEGORY,
        schema.OUTCOME,
        schema.RPA,
    }
)


class IngestError(Exception):
    """A file cannot be ingested at all. The message is one line naming the file."""


@dataclass
class RawTable:
    """Canonical columns of one export, before parsing.

    Attributes
    ----------
    table : pa.Table
        Canonical columns present in the file (strings, or timestamps/booleans where the file
        format carries types), plus ``row_number``.
    malformed : list[int]
        Row numbers the CSV parser could not split into the header's columns.
    dropped_columns : list[str]
        Names of the file's columns that are not canonical (dropped, values never read on).
    """

    path: Path
    table: pa.Table
    malformed: list[int] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)


def _norm_header(name: object) -> str:
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "")).strip().lower()


def load_mapping(path: str | Path | None) -> dict[str, str]:
    """Read a column-mapping TOML file: ``[columns] canonical = "Export Name"``.

    Returns a dict canonical name -> export column name. Raises :class:`IngestError` naming
    the file on a syntax error, an unknown canonical name or a non-text export name.
    """
    if path is None:
        return {}
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise IngestError(f"{p}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(f"{p}: not a valid TOML mapping file ({exc})") from None
    cols = doc.get("columns")
    if not isinstance(cols, dict):
        raise IngestError(f'{p}: mapping needs a [columns] table, e.g. contact_id = "Ref"')
    for canonical, export in cols.items():
        if canonical not in schema.CONTACT_COLUMNS:
            raise IngestError(
                f"{p}: unknown canonical column {canonical!r} in [columns]; "
                f"expected one of {', '.join(schema.CONTACT_COLUMNS)}"
            )
        if not isinstance(export, str) or not export.strip():
            raise IngestError(f"{p}: [columns] {canonical} must be a non-empty column name")
    return dict(cols)


def resolve_columns(
    found: list[str], mapping: dict[str, str], path: Path
) -> tuple[dict[str, str], list[str]]:
    """Map the file's column names onto canonical names.

    Returns (file column -> canonical column, dropped file columns). Matching ignores case and
    surrounding spaces. A mapping entry wins over a file column that already has a canonical
    name. Raises :class:`IngestError` when a required column is missing.
    """
    by_norm: dict[str, str] = {}
    for col in found:
        by_norm.setdefault(_norm_header(col), col)
    rename: dict[str, str] = {}
    for canonical, export in mapping.items():
        col = by_norm.get(_norm_header(export))
        if col is not None:
            rename[col] = canonical
    taken = set(rename.values())
    for col in found:
        n = _norm_header(col)
        if col not in rename and n in schema.CONTACT_COLUMNS and n not in taken:
            rename[col] = n
            taken.add(n)
    missing = [c for c in schema.CONTACT_REQUIRED if c not in taken]
    if missing:
        hint = []
        for c in missing:
            hint.append(f"{c} (mapped from {mapping[c]!r})" if c in mapping else c)
        raise IngestError(
            f"{path}: missing required column(s) {', '.join(hint)}; "
            f"found {', '.join(map(str, found)) or 'no columns'}"
        )
    dropped = [str(c) for c in found if c not in rename]
    return rename, dropped


def _decode_sample(data: bytes) -> str:
    """Encoding for CSV bytes: UTF-8 when valid, else Windows-1252."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a sample is still UTF-8.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        return "cp1252"


def _detect_encoding(path: Path) -> str:
    """UTF-8 unless the first MiB says otherwise; a bad byte later is caught by the reader."""
    with path.open("rb") as fh:
        return _decode_sample(fh.read(1 << 20))


def _sniff_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def read_csv(path: Path, mapping: dict[str, str]) -> RawTable:
    """Read a CSV export (see module docstring for encodings and delimiters)."""
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: file is empty")
    encoding = _detect_encoding(path)
    with path.open("r", encoding=encoding, newline="") as fh:
        first = fh.readline().lstrip("\ufeff")
    if not first.strip():
        raise IngestError(f"{path}: file is empty or has no header row")
    if "\x00" in first:
        raise IngestError(f"{path}: not a text table (binary content)")
    delim = _sniff_delimiter(first)
    raw_names = next(csv.reader([first.rstrip("\r\n")], delimiter=delim))
    if len(set(raw_names)) != len(raw_names):
        raise IngestError(f"{path}: header repeats a column name")
    rename, dropped = resolve_columns(raw_names, mapping, path)
    keep = [c for c in raw_names if c in rename]

    def run(threads: bool) -> tuple[pa.Table, list[int | None]]:
        bad: list[int | None] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append(row.number)
            return "skip"

        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=encoding, use_threads=threads, column_names=raw_names, skip_rows=1
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, invalid_row_handler=on_invalid, newlines_in_values=not threads
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=keep,
                # Low-cardinality columns arrive dictionary-encoded (normalised per value).
                column_types={
                    c: pa.dictionary(pa.int32(), pa.string())
                    if rename[c] in DICTIONARY_COLUMNS
                    else pa.string()
                    for c in keep
                },
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        return table, bad

    try:
        try:
            table, bad = run(threads=True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if encoding != "utf-8" or "UTF8" not in str(exc).upper().replace("-", ""):
                raise
            encoding = "cp1252"  # a Windows-1252 byte after the first MiB
            table, bad = run(threads=True)
        if bad:  # threaded parsing cannot say where bad rows are: read again in order
            table, bad = run(threads=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(f"{path}: cannot be read as CSV ({msg})") from None
    # pyarrow numbers rows by physical line in the file (header = line 1), as a spreadsheet does.
    malformed = sorted(int(b) for b in bad if b is not None)
    table = table.rename_columns([rename[c] for c in table.column_names])
    table = table.append_column(ROW_NUMBER, pa.array(_row_numbers(table.num_rows, malformed)))
    return RawTable(path, table, malformed, dropped)


def _row_numbers(n_valid: int, malformed: list[int]) -> np.ndarray:
    """Spreadsheet row numbers of the valid rows, given the malformed rows' numbers."""
    rows = np.arange(2, n_valid + 2, dtype="int64")
    if malformed:
        bad = np.asarray(malformed, dtype="int64")
        # Each valid row moves down by the number of malformed rows at or above it.
        for b in bad:  # few malformed rows in practice; each pass is vectorised
            rows[rows >= b] += 1
    return rows


def read_xlsx(path: Path, mapping: dict[str, str]) -> RawTable:
    """Read the first worksheet of an XLSX export; the first row is the header."""
    import pandas as pd

    try:
        head = pd.read_excel(path, sheet_name=0, nrows=0, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a non-workbook
        raise IngestError(
            f"{path}: cannot be read as an XLSX workbook ({type(exc).__name__})"
        ) from None
    found = [str(c) for c in head.columns]
    if not found or all(c.startswith("Unnamed:") for c in found):
        raise IngestError(f"{path}: worksheet is empty or has no header row")
    rename, dropped = resolve_columns(found, mapping, path)
    frame = pd.read_excel(
        path, sheet_name=0, engine="openpyxl", usecols=list(rename), dtype=object
    ).rename(columns={str(k): v for k, v in rename.items()})
    # Cells are text, numbers or datetimes, mixed within a column: hand every value on as text
    # (datetimes as ISO 8601 local time, which parsing reads as UK local time).
    cols = {c: pa.array([_cell_text(v) for v in frame[c]], type=pa.string()) for c in frame}
    cols[ROW_NUMBER] = pa.array(np.arange(2, len(frame) + 2, dtype="int64"))
    return RawTable(path, pa.table(cols), [], dropped)


def _cell_text(v: object) -> str | None:
    import pandas as pd

    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_parquet(path: Path, mapping: dict[str, str]) -> RawTable:
    """Read a Parquet export (typed columns are kept: timestamps, booleans)."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise IngestError(f"{path}: cannot be read as Parquet ({type(exc).__name__})") from None
    found = list(pf.schema_arrow.names)
    rename, dropped = resolve_columns(found, mapping, path)
    table = pf.read(columns=list(rename))
    # Dictionary (categorical) text columns stay encoded: they are normalised per value.
    cols = [
        c.cast(c.type.value_type)
        if pa.types.is_dictionary(c.type) and not pa.types.is_string(c.type.value_type)
        else c
        for c in table.columns
    ]
    table = pa.table(cols, names=[rename[c] for c in table.column_names])
    table = table.append_column(ROW_NUMBER, pa.array(np.arange(2, table.num_rows + 2)))
    return RawTable(path, table, [], dropped)


READERS = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".parquet": read_parquet}


def read_table(path: str | Path, mapping: dict[str, str] | None = None) -> RawTable:
    """Read one export by its extension (.csv, .txt, .xlsx, .parquet).

    Raises
    ------
    IngestError
        The file is missing, empty, of an unknown type, unreadable, or lacks a required column.
    """
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    if p.is_dir():
        raise IngestError(f"{p}: is a folder, not a file")
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise IngestError(
            f"{p}: unsupported file type {p.suffix or '(none)'}; use .csv, .xlsx or .parquet"
        )
    raw = reader(p, mapping or {})
    if raw.table.num_rows == 0 and not raw.malformed:
        raise IngestError(f"{p}: has a header but no data rows")
    return raw

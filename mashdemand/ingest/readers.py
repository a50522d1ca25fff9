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
import mmap
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mashdemand import schema
from mashdemand.errors import MashdemandError

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


class IngestError(MashdemandError):
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
    unbalanced : list[int]
        Row numbers of CSV lines whose unbalanced quote would swallow the lines after it; each
        is a record of its own (see :class:`CsvLayout`), its values not kept.
    """

    path: Path
    table: pa.Table
    malformed: list[int] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    unbalanced: list[int] = field(default_factory=list)


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


def _decode_sample(data: bytes, cut: bool = True) -> str:
    """Encoding for CSV bytes: UTF-8 when valid, else Windows-1252.

    ``cut``: the bytes are a sample cut from a longer file (a character may straddle the cut).
    """
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a sample is still UTF-8; at the end of the
        # file it is a truncated character, which only Windows-1252 reads.
        if cut and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        return "cp1252"


def _detect_encoding(path: Path) -> str:
    """UTF-8 unless the first MiB says otherwise; a bad byte later is caught by the reader."""
    with path.open("rb") as fh:
        sample = fh.read(1 << 20)
        return _decode_sample(sample, cut=bool(fh.read(1)))


def _sniff_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


QUOTE = ord('"')
LF, CR = ord("\n"), ord("\r")
#: Bytes of the file examined per vectorised pass when looking for stray quotes (bounds memory).
SCAN_CHUNK_BYTES = 1 << 25


def _ends_inside_quotes(line: str, delim: str) -> bool:
    """Whether a quoted value opened in ``line`` is still open at its end (CSV rules below).

    A quote opens a value only at the start of a field; inside, ``""`` is a literal quote and
    a lone ``"`` closes it; after that, and in unquoted fields, quotes are literal.

    >>> _ends_inside_quotes('a,"b,c', ","), _ends_inside_quotes('a,b"c', ",")
    (True, False)
    """
    quoted, at_start, i = False, True, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"' and line[i + 1 : i + 2] == '"':
                i += 1
            elif ch == '"':
                quoted = False
        elif at_start and ch == '"':
            quoted = True
        at_start = not quoted and ch == delim
        i += 1
    return quoted


@dataclass(frozen=True)
class CsvLayout:
    """Where a CSV file's records are, as pyarrow is to read them.

    A record is one physical line, or several when a quoted value spans lines and is properly
    closed (its closing quote followed by the delimiter, a line end or the end of the file) and
    the record has the header's number of fields. A line whose quote would otherwise swallow
    the lines after it is a record of its own, *unbalanced*, and reading resumes on the next
    line. Blank lines are not records.

    Attributes
    ----------
    source : Path or pa.Buffer
        What pyarrow reads: the file itself, or its data lines without the unbalanced ones.
    skip_rows : int
        1 when ``source`` starts with the header line, else 0.
    multiline : bool
        Some record spans lines (pyarrow then needs ``newlines_in_values``).
    rows : np.ndarray or None
        Spreadsheet row number (physical line of the file) of each record in ``source``;
        None when record ``i`` is on line ``i + 2``.
    plain_lines : int or None
        For a plain file (no quotes, LF line ends), its data lines: one record each unless
        some are blank, which the parser's count of records reveals.
    unbalanced : list[int]
        Row numbers of the lines with an unbalanced quote.
    """

    source: Path | pa.Buffer
    skip_rows: int
    multiline: bool = False
    rows: np.ndarray | None = None
    unbalanced: list[int] = field(default_factory=list)
    plain_lines: int | None = None

    def record_rows(self, n_records: int) -> np.ndarray:
        """Row numbers of the ``n_records`` records the parser returned (valid or not)."""
        if self.rows is None:
            return np.arange(2, n_records + 2, dtype="int64")
        if len(self.rows) != n_records:  # the layout and the parser must agree on records
            raise RuntimeError(f"CSV layout found {len(self.rows)} records, parser {n_records}")
        return self.rows


def _csv_layout(path: Path, delim: str, n_fields: int, plain: bool = True) -> CsvLayout:
    """Find the records of a CSV file (see :class:`CsvLayout`), cheaply when it is plain.

    A file without quotes and with LF line ends after its header (the usual export) has one
    record per non-blank line: ``memchr``-speed searches decide that (``plain=False`` skips
    them). Otherwise lines are classified in vectorised passes and only lines whose quotes are
    not plainly balanced are walked.
    """
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = _header_end(mm)
        lines = _plain_lines(mm, start) if plain else None
        if lines is not None:
            return CsvLayout(path, skip_rows=1, plain_lines=lines)
        data = mm[start:]
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _line_bounds(buf)
    suspicious = _suspicious_lines(buf, starts, ends, ord(delim))
    spans, unbalanced = _walk_records(data, starts, ends, suspicious, delim, n_fields)
    is_record = starts != ends
    if spans:
        inside = np.zeros(len(starts) + 1, dtype="int64")
        first, last = np.asarray(spans, dtype="int64").T
        np.add.at(inside, first + 1, 1)
        np.add.at(inside, last + 1, -1)
        is_record &= np.cumsum(inside[:-1]) == 0
    lines = np.asarray(unbalanced, dtype="int64")
    is_record[lines] = False
    source = pa.py_buffer(_without_lines(data, starts, lines))
    return CsvLayout(
        source,
        skip_rows=0,
        multiline=bool(spans),
        rows=np.flatnonzero(is_record).astype("int64") + 2,
        unbalanced=(lines + 2).tolist(),
    )


def _header_end(mm: mmap.mmap) -> int:
    """Offset of the first byte after the header line and its terminator."""
    ends = [i for i in (mm.find(b"\n"), mm.find(b"\r")) if i >= 0]
    if not ends:
        return len(mm)
    end = min(ends)
    return end + 2 if mm[end : end + 2] == b"\r\n" else end + 1


#: Bytes counted at a time by :func:`_plain_lines`: small enough to stay in the CPU cache.
PLAIN_SCAN_BYTES = 1 << 20


def _plain_lines(mm: mmap.mmap, start: int) -> int | None:
    """Data lines of a file without quotes or CR line ends, else None (one-byte searches)."""
    if mm.find(b'"', start) >= 0 or mm.find(b"\r", start) >= 0:
        return None
    lines = sum(
        mm[at : at + PLAIN_SCAN_BYTES].count(b"\n")
        for at in range(start, len(mm), PLAIN_SCAN_BYTES)
    )
    return lines + (len(mm) > start and mm[-1:] != b"\n")


def _line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, before the terminator) of each line; LF, CRLF or CR end one."""
    n = len(buf)
    lf = np.flatnonzero(buf == LF)
    cr = np.flatnonzero(buf == CR)
    nxt = np.minimum(cr + 1, n - 1)
    lone_cr = cr[(cr + 1 >= n) | (buf[nxt] != LF)]
    term = np.sort(np.concatenate((lf, lone_cr)))
    crlf = (buf[term] == LF) & (term > 0) & (buf[np.maximum(term - 1, 0)] == CR)
    starts = np.concatenate(([0], term + 1)).astype("int64")
    ends = np.concatenate((term - crlf, [n])).astype("int64")
    if starts[-1] >= n:  # the file ends with a terminator: no line after it
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _suspicious_lines(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, delim: int
) -> np.ndarray:
    """Lines whose quotes are not plainly balanced, in vectorised passes.

    A line is plain when it has an even number of quotes, every quote that opens (by parity)
    follows the line start, a delimiter or a quote, and every quote that closes precedes the
    line end, a delimiter or a quote. A plain line is then exactly one record whose quoted
    values all close on it; only the other lines need walking (:func:`_walk_records`).
    """
    found: list[np.ndarray] = []
    lo, n_lines = 0, len(starts)
    while lo < n_lines:
        hi = max(int(np.searchsorted(starts, starts[lo] + SCAN_CHUNK_BYTES)), lo + 1)
        a, b = int(starts[lo]), int(ends[hi - 1])
        q = np.flatnonzero(buf[a:b] == QUOTE) + a
        if len(q):
            line = np.searchsorted(starts, q, side="right") - 1
            first_q = np.searchsorted(q, starts[lo:hi])
            opens = ((np.arange(len(q)) - first_q[line - lo]) & 1) == 0
            before = buf[q - 1]
            after = buf[np.minimum(q + 1, len(buf) - 1)]
            opens_ok = (q == starts[line]) | (before == delim) | (before == QUOTE)
            closes_ok = (q + 1 == ends[line]) | (after == delim) | (after == QUOTE)
            bad = np.where(opens, ~opens_ok, ~closes_ok)
            odd = np.bincount(line - lo, minlength=hi - lo) & 1
            found += [line[bad], np.flatnonzero(odd) + lo]
        lo = hi
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype="int64")


def _walk_records(
    data: bytes,
    starts: np.ndarray,
    ends: np.ndarray,
    suspicious: np.ndarray,
    delim: str,
    n_fields: int,
) -> tuple[list[tuple[int, int]], list[int]]:
    """Walk the records that start on suspicious lines.

    Returns the multi-line records as (first line, last line) and the unbalanced lines.
    Lines inside a multi-line record are skipped; every other line starts a record.
    """
    spans: list[tuple[int, int]] = []
    unbalanced: list[int] = []
    next_free = 0
    for line in suspicious.tolist():
        if line < next_free:
            continue
        last = _record_end(data, line, starts, ends, delim.encode(), n_fields)
        if last < 0:
            unbalanced.append(line)
            next_free = line + 1
        else:
            if last > line:
                spans.append((line, last))
            next_free = last + 1
    return spans, unbalanced


def _record_end(
    data: bytes, line: int, starts: np.ndarray, ends: np.ndarray, delim: bytes, n_fields: int
) -> int:
    """Last line of the record starting on ``line``, or -1 when its quote is unbalanced.

    Quoted values are skipped with ``bytes.find`` (linear in their length). A value spanning
    lines must close properly and the record must have ``n_fields`` fields.
    """
    i, end = int(starts[line]), int(ends[line])
    fields, spanned = 1, False
    while True:
        if i < end and data[i] == QUOTE:
            k = i + 1
            while True:
                k = data.find(b'"', k)
                if k < 0:
                    return -1  # open to the end of the file
                if data[k + 1 : k + 2] != b'"':
                    break
                k += 2
            if k >= end:  # the value spans lines
                line = int(np.searchsorted(starts, k, side="right")) - 1
                end = int(ends[line])
                if not (k + 1 in (end, len(data)) or data[k + 1 : k + 2] == delim):
                    return -1
                spanned = True
            i = k + 1
        d = data.find(delim, i, end)
        if d < 0:
            break
        fields, i = fields + 1, d + 1
    return -1 if spanned and fields != n_fields else line


def _without_lines(data: bytes, starts: np.ndarray, lines: np.ndarray) -> bytes | memoryview:
    """``data`` with the given lines (and their terminators) removed."""
    if not len(lines):
        return memoryview(data)
    cuts = [0]
    for line in lines.tolist():
        cuts += [int(starts[line]), int(starts[line + 1]) if line + 1 < len(starts) else len(data)]
    cuts.append(len(data))
    return b"".join(data[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True))


def read_csv(path: Path, mapping: dict[str, str]) -> RawTable:
    """Read a CSV export (see module docstring for encodings, delimiters and records)."""
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
    header = first.rstrip("\r\n")
    if _ends_inside_quotes(header, delim):
        raise IngestError(f"{path}: line 1 (the header) has an unbalanced quote")
    raw_names = next(csv.reader([header], delimiter=delim))
    if len(set(raw_names)) != len(raw_names):
        raise IngestError(f"{path}: header repeats a column name")
    rename, dropped = resolve_columns(raw_names, mapping, path)
    keep = [c for c in raw_names if c in rename]
    layout = _csv_layout(path, delim, len(raw_names))
    # Low-cardinality columns arrive dictionary-encoded (normalised per value).
    text, codes = pa.string(), pa.dictionary(pa.int32(), pa.string())
    column_types = {c: codes if rename[c] in DICTIONARY_COLUMNS else text for c in keep}

    def run(threads: bool, encoding: str) -> tuple[pa.Table, list[int | None]] | None:
        bad: list[int | None] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append(row.number)
            # Threaded parsing cannot say where a bad row is, and calls back slowly (seconds
            # for 200,000 bad rows): stop at the first and read again in order.
            return "error" if threads else "skip"

        try:
            table = pacsv.read_csv(
                layout.source,
                read_options=pacsv.ReadOptions(
                    encoding=encoding,
                    use_threads=threads,
                    column_names=raw_names,
                    skip_rows=layout.skip_rows,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delim,
                    invalid_row_handler=on_invalid,
                    newlines_in_values=layout.multiline,
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=keep,
                    column_types=column_types,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            if threads and bad:
                return None
            raise
        return table, bad

    def parse(encoding: str) -> tuple[pa.Table, list[int | None]]:
        return run(True, encoding) or run(False, encoding)  # type: ignore[return-value]

    try:
        try:
            table, bad = parse(encoding)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if encoding != "utf-8" or "UTF8" not in str(exc).upper().replace("-", ""):
                raise
            encoding = "cp1252"  # a Windows-1252 byte after the first MiB
            table, bad = parse(encoding)
        if layout.plain_lines not in (None, table.num_rows + len(bad)):  # blank lines
            layout = _csv_layout(path, delim, len(raw_names), plain=False)
            table, bad = parse(encoding)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(f"{path}: cannot be read as CSV ({msg})") from None
    if any(b is None for b in bad):
        raise IngestError(f"{path}: cannot locate the malformed rows")
    # pyarrow numbers records (header = 1 when skipped), ignoring blank lines.
    bad_records = np.asarray(bad, dtype="int64") - 1 - layout.skip_rows
    rows = layout.record_rows(table.num_rows + len(bad))
    valid_rows, malformed = _row_numbers(rows, bad_records)
    table = table.rename_columns([rename[c] for c in table.column_names])
    table = table.append_column(ROW_NUMBER, pa.array(valid_rows))
    return RawTable(path, table, malformed.tolist(), dropped, layout.unbalanced)


def _row_numbers(rows: np.ndarray, bad_records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the records' row numbers into valid and malformed ones, in linear time.

    Parameters
    ----------
    rows : np.ndarray
        Spreadsheet row number of every record the parser saw, in file order.
    bad_records : np.ndarray
        Positions (0-based, in ``rows``) of the records the parser could not split.

    Returns
    -------
    valid, malformed : np.ndarray
        Row numbers of the valid records (in order) and of the malformed ones (sorted).

    Examples
    --------
    >>> valid, bad = _row_numbers(np.array([2, 3, 5, 6]), np.array([1]))
    >>> valid.tolist(), bad.tolist()
    ([2, 5, 6], [3])
    """
    ok = np.ones(len(rows), dtype=bool)
    ok[bad_records] = False
    return rows[ok], np.sort(rows[~ok])


#: Most rows a worksheet may have: Excel's own limit (header included).
XLSX_MAX_ROWS = 1_048_576
#: Most columns a worksheet may have; contact exports carry tens.
XLSX_MAX_COLUMNS = 512
#: Largest XML part of a workbook, uncompressed [bytes]. A million rows of ten short columns
#: is about 300 MiB of sheet XML.
XLSX_MAX_PART_BYTES = 512 * 2**20
#: Highest compression ratio (uncompressed / compressed) of an XML part over 1 MiB. Real sheets
#: compress 5 to 100 times (empty rows most); zip bombs compress ~1,000 times.
XLSX_MAX_COMPRESSION_RATIO = 400


def _check_xlsx_zip(path: Path) -> None:
    """Refuse a workbook whose parts would take too long or too much memory to parse.

    Checked from the zip's directory, before any XML is inflated. Python's ``zipfile`` never
    inflates a part beyond its declared size, so the declared sizes bound the work.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(
            f"{path}: cannot be read as an XLSX workbook ({type(exc).__name__})"
        ) from None
    for part in parts:
        if part.file_size > XLSX_MAX_PART_BYTES:
            raise IngestError(
                f"{path}: part {part.filename} is {part.file_size / 2**20:,.0f} MiB uncompressed, "
                f"over the limit of {XLSX_MAX_PART_BYTES / 2**20:,.0f} MiB"
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 2**20 and ratio > XLSX_MAX_COMPRESSION_RATIO:
            raise IngestError(
                f"{path}: part {part.filename} compresses {ratio:,.0f} to 1, over the limit "
                f"of {XLSX_MAX_COMPRESSION_RATIO} to 1 (a zip bomb?)"
            )


def _check_xlsx_shape(path: Path, rows: int | None, columns: int | None) -> None:
    """Refuse a worksheet with more rows or columns than :data:`XLSX_MAX_ROWS`/`_COLUMNS`."""
    if rows is not None and rows > XLSX_MAX_ROWS:
        raise IngestError(
            f"{path}: worksheet has {rows:,} rows, over the limit of {XLSX_MAX_ROWS:,}"
        )
    if columns is not None and columns > XLSX_MAX_COLUMNS:
        raise IngestError(
            f"{path}: worksheet has {columns:,} columns, over the limit of {XLSX_MAX_COLUMNS:,}"
        )


def _header_names(cells: tuple) -> list[str]:
    """Header cell texts; an empty cell is named ``Unnamed: i`` as pandas does."""
    return [f"Unnamed: {i}" if v is None else str(v) for i, v in enumerate(cells)]


def read_xlsx(path: Path, mapping: dict[str, str]) -> RawTable:
    """Read the first worksheet of an XLSX export; the first row is the header.

    The workbook is checked against the limits (:data:`XLSX_MAX_PART_BYTES`,
    :data:`XLSX_MAX_COMPRESSION_RATIO`, :data:`XLSX_MAX_ROWS`, :data:`XLSX_MAX_COLUMNS`) before
    its rows are parsed, and rows are streamed (openpyxl read-only mode). Rows with no value
    in any cell are not records (as blank CSV lines); the others keep their sheet row number.
    """
    import openpyxl

    _check_xlsx_zip(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-workbook
        raise IngestError(
            f"{path}: cannot be read as an XLSX workbook ({type(exc).__name__})"
        ) from None
    try:
        ws = wb.worksheets[0]
        _check_xlsx_shape(path, ws.max_row, ws.max_column)
        ws.reset_dimensions()  # a stale <dimension> would cut rows off or pad with empty ones
        header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        _check_xlsx_shape(path, None, len(header))
        found = _header_names(header)
        if not found or all(v is None for v in header):
            raise IngestError(f"{path}: worksheet is empty or has no header row")
        rename, dropped = resolve_columns(found, mapping, path)
        table = _xlsx_rows(path, ws, [found.index(c) for c in rename], len(found))
    except IngestError:
        raise
    except Exception as exc:  # a damaged sheet part
        raise IngestError(
            f"{path}: cannot be read as an XLSX workbook ({type(exc).__name__})"
        ) from None
    finally:
        wb.close()
    return RawTable(path, table.rename_columns([*rename.values(), ROW_NUMBER]), [], dropped)


def _xlsx_rows(path: Path, ws: object, keep: list[int], width: int) -> pa.Table:
    """Stream the data rows: the cells at positions ``keep`` as text, and each row number.

    Cells are text, numbers or datetimes, mixed within a column: every value is handed on as
    text (datetimes as ISO 8601 local time, which parsing reads as UK local time).
    """
    cols: list[list[str | None]] = [[] for _ in keep]
    numbers: list[int] = []
    rows = ws.iter_rows(min_row=2, max_col=width, values_only=True)  # type: ignore[attr-defined]
    for number, row in enumerate(rows, start=2):
        if number > XLSX_MAX_ROWS:
            _check_xlsx_shape(path, number, None)
        if not any(v is not None for v in row):
            continue
        numbers.append(number)
        for values, i in zip(cols, keep, strict=True):
            values.append(_cell_text(row[i]) if i < len(row) else None)
    arrays = [pa.array(v, type=pa.string()) for v in cols]
    arrays.append(pa.array(numbers, type=pa.int64()))
    return pa.table(arrays, names=[*map(str, keep), ROW_NUMBER])


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


def _reader(p: Path) -> Callable[[Path, dict[str, str]], RawTable]:
    """The reader for an existing file, by its extension; a one-line error otherwise."""
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    if p.is_dir():
        raise IngestError(f"{p}: is a folder, not a file")
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise IngestError(
            f"{p}: unsupported file type {p.suffix or '(none)'}; use .csv, .xlsx or .parquet"
        )
    return reader


def contact_files(paths: Iterable[str | Path]) -> list[Path]:
    """The export files named by ``paths``, each checked to exist with a known extension.

    A folder stands for every file directly in it with an extension ingest reads (``.csv``,
    ``.txt``, ``.xlsx``, ``.parquet``, any case), in name order; sub-folders and other files
    are not read (hidden files and spreadsheet lock files ``~$...`` neither). Files are not
    opened here: this is the cheap check made before a run starts.

    Raises
    ------
    IngestError
        A path is missing, or is a file of an unknown type, or a folder holds no exports.
    """
    files: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            found = sorted(
                q
                for q in p.iterdir()
                if q.suffix.lower() in READERS
                and q.is_file()
                and not q.name.startswith((".", "~$"))
            )
            if not found:
                raise IngestError(f"{p}: folder holds no contact logs (.csv, .xlsx, .parquet)")
            files += found
        else:
            _reader(p)
            files.append(p)
    return files


def read_table(path: str | Path, mapping: dict[str, str] | None = None) -> RawTable:
    """Read one export by its extension (.csv, .txt, .xlsx, .parquet).

    Raises
    ------
    IngestError
        The file is missing, empty, of an unknown type, unreadable, or lacks a required column.
    """
    p = Path(path)
    raw = _reader(p)(p, mapping or {})
    if raw.table.num_rows == 0 and not raw.malformed and not raw.unbalanced:
        raise IngestError(f"{p}: has a header but no data rows")
    return raw

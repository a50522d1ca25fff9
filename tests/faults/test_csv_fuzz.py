"""Fuzz the CSV reader: mutated files never lose a record and never escape as a traceback.

Each example is a small valid contact log, mutated (stray quotes, delimiters, line breaks,
CRLF, BOM, Windows-1252, truncation, values spanning lines inside closed quotes) and read by
the CSV reader (500 examples) or ingested in process (40: a whole ingest is slower). The
outcome must be an :class:`IngestError` with a one-line message naming the file, or a count
of records equal to :func:`oracle_records`, an independent character-by-character reading of
CONTRACTS.md section 4 (and, for the ingest, a summary that adds up).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mashdemand.ingest import IngestError, ingest_contacts, read_table
from mashdemand.store import Store

NOW = datetime(2025, 1, 1, tzinfo=UTC)
COLUMNS = ["contact_id", "received_at", "hub", "category", "outcome", "Child Name"]
VALUES = {
    "contact_id": st.text("ABC012", min_size=1, max_size=4),
    "received_at": st.sampled_from(["05/03/2024 14:30", "2024-03-05T14:30:00", "31/02/2024"]),
    "hub": st.sampled_from(["reading", "slough", ""]),
    "category": st.text('ab ,;"\r\né’', max_size=8),
    "outcome": st.sampled_from(["nfa", "early help", "a, b", 'say "hi"', "two\nlines"]),
    "Child Name": st.sampled_from(["Jane Doe", "O'Brien, Pat", ""]),
}
NOISE = st.sampled_from(['"', '"', '""', ",", ";", "\n", "\r\n", "\r", " ", "x", "é"])


def _cell(value: str, sep: str, quote_all: bool) -> str:
    if quote_all or any(ch in value for ch in f'"{sep}\r\n'):
        return '"' + value.replace('"', '""') + '"'  # properly closed, even across lines
    return value


@st.composite
def mutated_files(draw) -> tuple[bytes, str]:
    columns = draw(st.permutations(COLUMNS))
    sep = draw(st.sampled_from([",", ";"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    rows = [sep.join(columns)]
    for _ in range(draw(st.integers(1, 12))):
        rows.append(sep.join(_cell(draw(VALUES[c]), sep, quote_all) for c in columns))
    text = newline.join(rows) + draw(st.sampled_from([newline, ""]))
    for _ in range(draw(st.integers(0, 4))):  # insertions anywhere after the header
        header_end = len(rows[0]) + len(newline)
        at = draw(st.integers(header_end, len(text)))
        text = text[:at] + draw(NOISE) + text[at:]
    if draw(st.integers(0, 4)) == 0:  # a deletion
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + text[at + 1 :]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = text.encode(encoding)
    if draw(st.integers(0, 4)) == 0:  # truncated, perhaps inside a character
        data = data[: draw(st.integers(1, len(data)))]
    return data, encoding


def _split_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each physical line; LF, CRLF and CR each end one."""
    out, start, i = [], 0, 0
    while i < len(text):
        if text[i] in "\r\n":
            out.append((start, i))
            i += 2 if text[i : i + 2] == "\r\n" else 1
            start = i
        else:
            i += 1
    if start < len(text):
        out.append((start, len(text)))
    return out


def _walk(text: str, start: int, delim: str) -> tuple[int, int, bool] | None:
    """Read one record from ``start``: (end offset, fields, spans lines), None if unbalanced."""
    fields, pos, state, spanned, value_spans = 1, start, "start", False, False
    while pos < len(text):
        c = text[pos]
        if state == "quoted":
            if c == '"' and text[pos + 1 : pos + 2] == '"':
                pos += 1
            elif c == '"':
                after = text[pos + 1 : pos + 2]
                if value_spans and after not in (delim, "\r", "\n", ""):
                    return None  # closed by a quote that is not a value's end
                state = "unquoted"
            elif c in "\r\n":
                spanned = value_spans = True
        elif c in "\r\n":
            return pos, fields, spanned
        elif c == delim:
            fields, state = fields + 1, "start"
        elif state == "start" and c == '"':
            state, value_spans = "quoted", False
        else:
            state = "unquoted"
        pos += 1
    return None if state == "quoted" else (pos, fields, spanned)


def oracle_records(data: bytes) -> int | None:
    """Records in a CSV file per CONTRACTS.md section 4; None when its header is unusable."""
    text = data.decode("latin-1").removeprefix("\xef\xbb\xbf")  # structure is ASCII
    lines = _split_lines(text)
    if not lines:
        return None
    header = text[lines[0][0] : lines[0][1]]
    delim = ";" if header.count(";") > header.count(",") else ","
    head = _walk(header, 0, delim)
    if head is None:
        return None
    n_fields = head[1]
    count, i = 0, 1
    while i < len(lines):
        start, end = lines[i]
        if start == end:  # a blank line is not a record
            i += 1
            continue
        count += 1
        got = _walk(text, start, delim)
        if got is None or (got[2] and got[1] != n_fields):
            i += 1  # unbalanced: this line alone
            continue
        stop = got[0]
        while i < len(lines) and lines[i][0] <= stop:
            i += 1
    return count


def test_oracle_counts_the_contract_examples():
    ok = b'h1,h2,h3\n1,"a\nb",3\n\n4,5,6\n'
    stray = b'h1,h2,h3\n1,"a,3\n4,5,6\n7,8,9'
    wrong_width = b'h1,h2,h3\n1,"a\n4,5",6,7\n'
    assert oracle_records(ok) == 2
    assert oracle_records(stray) == 3
    assert oracle_records(wrong_width) == 2


def _outcome(data: bytes, read) -> int | None:
    """Records the reader reports for ``data``, or None after a one-line IngestError."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        try:
            return read(path)
        except IngestError as exc:
            msg = str(exc)
            assert "\n" not in msg and str(path) in msg, msg
            return None


def _records_read(path: Path) -> int:
    raw = read_table(path)
    return raw.table.num_rows + len(raw.malformed) + len(raw.unbalanced)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_files())
def test_mutated_csv_never_loses_a_record(case):
    """The reader: every record of the file is a row, a malformed row or an unbalanced line."""
    data, encoding = case
    got = _outcome(data, _records_read)
    assert got is None or got == oracle_records(data), (encoding, data)


STORE = Store(":memory:")  # shared: a store costs a fraction of a second to create


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_files())
def test_mutated_csv_ingest_summary_adds_up(case):
    """The whole ingest (slower, fewer examples): the summary's identity and its rows_read."""
    data, encoding = case

    def ingest(path: Path) -> int:
        s = ingest_contacts(path, store=STORE, now=NOW)
        assert s.rows_read == s.rows_accepted + s.rows_duplicate + s.rows_quarantined
        return s.rows_read

    got = _outcome(data, ingest)
    assert got is None or got == oracle_records(data), (encoding, data)

"""CSV records: a stray quote never loses rows, and malformed rows are numbered in linear time.

Issue 10, items 1 and 5. CONTRACTS.md section 4: ``rows_read`` counts records; a record may span
lines only inside a properly closed quoted value; an unbalanced quote is never merged silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from mashdemand.ingest import IngestError, ingest_contacts, read_table
from mashdemand.ingest.readers import _row_numbers
from mashdemand.store import Store

NOW = datetime(2025, 1, 1, tzinfo=UTC)
HEADER = "contact_id,received_at,hub,category,outcome"


def lines(n: int) -> list[str]:
    return [f"C{i:06d},05/03/2024 10:{i % 60:02d},reading,neglect,nfa" for i in range(n)]


def ingest(path: Path) -> tuple[object, Store]:
    st = Store(":memory:")
    s = ingest_contacts(path, store=st, now=NOW)
    assert s.rows_read == s.rows_accepted + s.rows_duplicate + s.rows_quarantined
    return s, st


def rows_of(st: Store, table: str) -> list[int]:
    return [r[0] for r in st.con.execute(f"SELECT row_number FROM {table} ORDER BY 1").fetchall()]


@pytest.mark.parametrize("n", [10, 50_000])
def test_stray_quote_in_first_rows_category_loses_nothing(tmp_path, n):
    body = lines(n)
    body[0] = body[0].replace("neglect", '"neglect')  # an unbalanced quote in row 2's category
    path = tmp_path / "stray.csv"
    path.write_text("\n".join([HEADER, *body]) + "\n")
    s, st = ingest(path)
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (n, n - 1, 1)
    assert s.quarantine_reasons == {"unbalanced_quote": 1}
    assert rows_of(st, "quarantine") == [2]
    stored = rows_of(st, "contacts")
    assert stored == list(range(3, n + 2))  # the spreadsheet rows, not shifted
    ids = st.con.execute("SELECT contact_id FROM contacts WHERE row_number = 3").fetchone()
    assert ids == ("C000001",)


def test_stray_quotes_amid_the_file_and_at_its_end(tmp_path):
    body = lines(20)
    body[4] = body[4].replace(",nfa", ',"nfa')  # row 6: opens, never closes
    body[9] = body[9].replace(",neglect", ',"neg"lect')  # row 11: closes improperly, one line
    body[19] = body[19].replace(",reading", ',"reading')  # row 21: open at the end of the file
    path = tmp_path / "amid.csv"
    path.write_text("\n".join([HEADER, *body]))  # no final newline
    s, st = ingest(path)
    assert s.rows_read == 20
    assert s.quarantine_reasons == {"unbalanced_quote": 2}
    assert rows_of(st, "quarantine") == [6, 21]
    assert len(rows_of(st, "contacts")) == 18


def test_closed_multiline_value_is_one_record_with_right_row_numbers(tmp_path):
    text = (
        f"{HEADER}\r\n"
        'A1,05/03/2024 10:00,reading,"neglect\r\nsecond, line, with, commas, here\r\nthird",nfa\r\n'
        "A2,05/03/2024 11:00,reading,neglect,nfa\r\n"
        "\r\n"
        'A3,05/03/2024 12:00,reading,neglect,"""quoted"" outcome"\r\n'
        "A4,05/03/2024 13:00,reading,neglect,nfa,extra\r\n"
        "A5,05/03/2024 14:00,reading,neglect,nfa\r\n"
    )
    path = tmp_path / "multi.csv"
    path.write_bytes(text.encode())
    raw = read_table(path)
    assert raw.table.column("row_number").to_pylist() == [2, 5, 7, 9]
    assert raw.table.column("category").to_pylist()[0] == (
        "neglect\r\nsecond, line, with, commas, here\r\nthird"
    )
    assert raw.table.column("outcome").to_pylist()[2] == '"quoted" outcome'
    assert raw.malformed == [8] and raw.unbalanced == []
    s, _ = ingest(path)
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (5, 4, 1)


def test_multiline_value_with_wrong_field_count_is_split_not_merged(tmp_path):
    # The quote "closes" two lines down, but the merged record has the wrong number of fields:
    # each line that reads as a record of its own stays one.
    text = (
        f"{HEADER}\n"
        'B1,05/03/2024 10:00,reading,neglect,"nfa\n'
        "B2,05/03/2024 11:00,reading,neglect,nfa\n"
        'B3,05/03/2024 12:00,reading,x",nfa\n'
        "B4,05/03/2024 13:00,reading,neglect,nfa\n"
    )
    path = tmp_path / "split.csv"
    path.write_text(text)
    raw = read_table(path)
    assert raw.unbalanced == [2]
    assert raw.table.column("contact_id").to_pylist() == ["B2", "B3", "B4"]
    assert raw.table.column("row_number").to_pylist() == [3, 4, 5]


def test_header_with_unbalanced_quote_is_refused_in_one_line(tmp_path):
    path = tmp_path / "head.csv"
    path.write_text('contact_id,received_at,"hub\nA,05/03/2024,reading\n')
    with pytest.raises(IngestError, match="line 1") as err:
        read_table(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_row_numbers_split_in_linear_time():
    rows = np.arange(2, 400_002, dtype="int64")
    bad = np.arange(0, 400_000, 2, dtype="int64")  # 200,000 malformed records
    valid, malformed = _row_numbers(rows, bad)
    assert valid.tolist() == list(range(3, 400_002, 2))
    assert malformed.tolist() == list(range(2, 400_002, 2))


def test_200000_malformed_rows_are_each_quarantined_at_their_line(tmp_path):
    body = [f"M{i},05/03/2024 10:00,reading,neglect,nfa,extra" for i in range(200_000)]
    body[100] = "ok,05/03/2024 10:00,reading,neglect,nfa"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, *body, "end,05/03/2024 11:00,reading,neglect,nfa"]) + "\n")
    raw = read_table(path)
    assert len(raw.malformed) == 199_999
    assert raw.malformed[:3] == [2, 3, 4] and raw.malformed[-1] == 200_001
    assert raw.table.column("row_number").to_pylist() == [102, 200_002]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_in_a_plain_file_keep_row_numbers(tmp_path, newline):
    body = lines(6)
    body[2] = ""  # row 4 is blank: not a record, and the rows below keep their line numbers
    body[4] = body[4] + ",extra"  # row 6 is malformed
    path = tmp_path / "blank.csv"
    path.write_bytes(newline.join([HEADER, *body, "", ""]).encode())
    raw = read_table(path)
    assert raw.table.column("row_number").to_pylist() == [2, 3, 5, 7]
    assert raw.malformed == [6]

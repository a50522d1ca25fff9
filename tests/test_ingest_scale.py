"""Ingest of many files (a sample nation): folders, streaming, row accounting."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from mashdemand.cli import app
from mashdemand.ingest import IngestError, ingest_contacts
from mashdemand.ingest.readers import contact_files
from mashdemand.sample import NATION_CONTACTS_DIR, write_nation
from mashdemand.store import Store

SEED = 5
START, END = "2025-03-01", "2025-03-10"
#: Stored columns compared between runs (not ingest_id/row_number: those name the file).
COLUMNS = (
    "contact_id, hub, received_at_utc, received_date, received_hour, source, subject, "
    "priority, category, rpa, decided_at_utc, outcome, row_hash"
)


@pytest.fixture(scope="module")
def nations(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("nations")
    out = {}
    for fmt in ("csv", "parquet"):
        write_nation(root / fmt, 12, seed=SEED, fmt=fmt, start=START, end=END)
        out[fmt] = root / fmt / NATION_CONTACTS_DIR
    return out


def _rows(store) -> pd.DataFrame:
    with Store(store, read_only=True) as st:
        return st.con.execute(f"SELECT {COLUMNS} FROM contacts ORDER BY contact_id").df()


def _file_rows(folder) -> int:
    return sum(len(pd.read_csv(p)) for p in sorted(folder.glob("*.csv")))


def test_folder_ingest_accounts_every_row_and_matches_the_file_list(nations, tmp_path) -> None:
    folder = nations["csv"]
    n = _file_rows(folder)
    s = ingest_contacts(folder, store=tmp_path / "a.duckdb")
    assert [f.file for f in s.files] == [str(p) for p in sorted(folder.glob("*.csv"))]
    assert s.rows_read == n > 1000
    assert (s.rows_accepted, s.rows_duplicate, s.rows_quarantined) == (n, 0, 0)
    listed = ingest_contacts(sorted(folder.glob("*.csv")), store=tmp_path / "b.duckdb")
    assert {k: v for k, v in listed.to_dict().items() if k not in ("store", "files")} == {
        k: v for k, v in s.to_dict().items() if k not in ("store", "files")
    }
    pd.testing.assert_frame_equal(_rows(tmp_path / "a.duckdb"), _rows(tmp_path / "b.duckdb"))
    again = ingest_contacts(folder, store=tmp_path / "a.duckdb")  # idempotent
    assert (again.rows_read, again.rows_accepted, again.rows_duplicate) == (n, 0, n)


def test_csv_and_parquet_nations_store_the_same_rows(nations, tmp_path) -> None:
    a = ingest_contacts(nations["csv"], store=tmp_path / "c.duckdb")
    b = ingest_contacts(nations["parquet"], store=tmp_path / "p.duckdb")
    assert a.rows_accepted == b.rows_accepted == a.rows_read == b.rows_read
    pd.testing.assert_frame_equal(_rows(tmp_path / "c.duckdb"), _rows(tmp_path / "p.duckdb"))
    with Store(tmp_path / "p.duckdb", read_only=True) as st:
        hubs = st.con.execute("SELECT DISTINCT hub FROM contacts ORDER BY 1").fetchall()
    assert len(hubs) == 12
    assert {h for (h,) in hubs} >= {"synthetic-010", "synthetic-011", "synthetic-012", "reading"}


def test_many_files_with_bad_rows_duplicates_and_conflicts(nations, tmp_path) -> None:
    """Quarantine and dedupe across files exactly as within one force."""
    folder = tmp_path / "mixed"
    shutil.copytree(nations["csv"], folder)
    a = pd.read_csv(folder / "contacts_synthetic-010.csv", dtype=str)
    b = pd.read_csv(folder / "contacts_reading.csv", dtype=str)
    extra = pd.concat(
        [
            a.head(7),  # 7 duplicates of rows stored from an earlier file in the same run
            b.head(3).assign(outcome="social_care_changed"),  # 3 conflicts across files
            a.iloc[10:15].assign(received_at="31/02/2025 10:00"),  # 5 dupe ids, bad dates
            a.iloc[20:24].assign(contact_id=["Z1", "Z2", "Z3", "Z4"], priority="extreme"),
            a.iloc[30:32].assign(contact_id=["Z5", "Z6"], hub="north|south"),
            a.iloc[40:41].assign(contact_id="Z7"),  # one new contact
        ]
    )
    extra.to_csv(folder / "zz_late_export.csv", index=False)
    n = _file_rows(nations["csv"])
    s = ingest_contacts(folder, store=tmp_path / "m.duckdb")
    last = s.files[-1]
    assert last.file.endswith("zz_late_export.csv")
    assert last.rows_read == 22
    assert last.rows_accepted == 1 and last.rows_duplicate == 7
    assert last.quarantine_reasons == {
        "unparseable_received_at": 5,
        "invalid_priority": 4,
        "conflict_with_stored_contact": 3,
        "invalid_hub": 2,
    }
    assert s.rows_read == n + 22
    assert s.rows_read == s.rows_accepted + s.rows_duplicate + s.rows_quarantined
    assert (s.rows_accepted, s.rows_duplicate, s.rows_quarantined) == (n + 1, 7, 14)
    with Store(tmp_path / "m.duckdb", read_only=True) as st:
        assert st.scalar("SELECT count(*) FROM contacts") == n + 1
        assert st.scalar("SELECT count(*) FROM quarantine") == 14
        assert st.scalar("SELECT count(*) FROM conflicts") == 3


def test_a_bad_later_file_stores_nothing(nations, tmp_path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(nations["parquet"], folder)
    (folder / "zz_notes.csv").write_text("name,value\na,1\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    with pytest.raises(IngestError, match=r"zz_notes\.csv: missing required column"):
        ingest_contacts(folder, store=store)
    assert not store.exists()  # created by the run, removed: it held nothing
    ok = ingest_contacts(nations["parquet"], store=store)
    with pytest.raises(IngestError, match="zz_notes"):
        ingest_contacts(folder, store=store)
    with Store(store, read_only=True) as st:  # the failed run left the store as it was
        assert st.scalar("SELECT count(*) FROM contacts") == ok.rows_accepted
        assert st.scalar("SELECT count(*) FROM ingests") == len(ok.files)


def test_contact_files_of_a_folder(tmp_path) -> None:
    for name in ("b.parquet", "a.CSV", "c.xlsx", "notes.docx", ".hidden.csv", "~$lock.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_bytes(b"x")
    assert [p.name for p in contact_files([tmp_path])] == ["a.CSV", "b.parquet", "c.xlsx"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match=r"empty: folder holds no contact logs"):
        contact_files([tmp_path / "empty"])
    with pytest.raises(IngestError, match=r"nope\.csv: file not found"):
        contact_files([tmp_path / "a.CSV", tmp_path / "nope.csv"])


def test_cli_ingests_a_folder_and_shows_synthetic_names(nations, tmp_path) -> None:
    store = tmp_path / "cli.duckdb"
    r = CliRunner().invoke(app, ["ingest", str(nations["parquet"]), "--store", str(store)])
    assert r.exit_code == 0, r.output
    assert "quarantined 0" in r.output
    hubs = CliRunner().invoke(app, ["store", "hubs", "--store", str(store)])
    assert hubs.exit_code == 0, hubs.output
    assert "Synthetic hub 12" in hubs.output and "Bracknell Forest" in hubs.output
    bad = CliRunner().invoke(app, ["ingest", str(tmp_path / "none"), "--store", str(store)])
    assert bad.exit_code == 2 and "file not found" in bad.output


def test_memory_does_not_grow_with_the_files_read(tmp_path, monkeypatch) -> None:
    """Each file's Arrow tables are let go once it is stored (not held by the transaction),
    and DuckDB's memory is capped during the run and restored after."""
    import pyarrow as pa
    from conftest import make_contacts

    from mashdemand.ingest import pipeline

    for k in range(6):
        df = make_contacts(40_000, seed=k)
        df["contact_id"] = f"F{k}-" + df["contact_id"]
        df.to_csv(tmp_path / f"f{k}.csv", index=False)
    held: list[int] = []
    limits: list[str] = []
    process = pipeline._process

    def measured(raw, con, *args):
        out = process(raw, con, *args)
        held.append(pa.total_allocated_bytes())
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return out

    monkeypatch.setattr(pipeline, "_process", measured)
    with Store(tmp_path / "s.duckdb") as st:
        before = st.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        s = ingest_contacts(sorted(tmp_path.glob("*.csv")), store=st)
        after = st.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert s.rows_accepted == 240_000
    assert set(limits) == {"1.0 GiB"}
    assert after == before != "1.0 GiB"
    # Six files of 40,000 rows: with every file's table held, the last count would be about
    # six times the first (~10 MB each); one file at a time keeps it flat.
    assert held[-1] < 2 * max(held[0], 1 << 20), held

"""The data layer on its own: snapshots of a store file, the store without the ingest, and the
row groups an ingest leaves."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import make_contacts, write_csv

from mashdemand.ingest import ingest_contacts
from mashdemand.store import SCHEMA_VERSION, Store, StoreError, StoreInUseError

ROW_GROUP = 122_880  # DuckDB's row-group size [rows]
HOLD = (
    "import sys\n"
    "from mashdemand.store import Store\n"
    "st = Store(sys.argv[1])\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
    "st.close()\n"
)


@pytest.fixture
def filled(tmp_path) -> Path:
    """300 contacts, then 100 more with 10 duplicates and 5 conflicts, a quarantined row, an
    archived forecast and a removed hub: every table has rows."""
    store = tmp_path / "s.duckdb"
    first = make_contacts(300)
    write_csv(first, tmp_path / "a.csv")
    second = make_contacts(100, seed=9)
    second["contact_id"] = "N" + second["contact_id"]
    again = first.iloc[:15].copy()
    again.loc[again.index[:5], "outcome"] = "changed"
    bad = first.iloc[:1].assign(contact_id="BAD1", received_at="31/02/2024 10:00")
    write_csv(pd.concat([second, again, bad]), tmp_path / "b.csv")
    ingest_contacts(tmp_path / "a.csv", store=store)
    s = ingest_contacts(tmp_path / "b.csv", store=store)
    assert (s.rows_accepted, s.rows_duplicate, s.rows_conflict) == (100, 10, 5)
    days = pd.date_range("2024-04-01", periods=3)
    forecast = pd.DataFrame({"hub": "slough", "date": days, "yhat": 5.0, "lo80": 4.0})
    forecast = forecast.assign(hi80=6.0, lo95=3.0, hi95=7.0)
    with Store(store) as st:
        st.archive_forecast(forecast, freq="day", data_window=("2023-01-02", "2024-03-31"))
        st.remove_hub("reading", "test")
    return store


def _tables(st: Store) -> dict[str, pd.DataFrame]:
    names = ["contacts", "quarantine", "conflicts", "ingests", "forecast_runs"]
    names += ["forecast_archive", "audit"]
    return {n: st.table(n) for n in names}


def test_snapshot_of_copies_every_table_in_order_and_frees_the_file(filled):
    with Store(filled, read_only=True) as st:
        on_disk = _tables(st)
        via_open_store = _tables(st.snapshot())
    with Store.snapshot_of(filled) as snap:
        assert snap.path == str(filled) and snap.schema_version() == SCHEMA_VERSION
        copied = _tables(snap)
        with Store(filled) as writer:  # the file is free: a writer gets in at once
            writer.con.execute("DELETE FROM contacts")
        assert snap.count() == len(on_disk["contacts"])  # the copy is unchanged
    for name, frame in on_disk.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(copied[name], frame, obj=name)
        pd.testing.assert_frame_equal(via_open_store[name], frame, obj=name)
    assert len(on_disk["contacts"]) == 400 - (on_disk["audit"]["rows_affected"].iloc[0])
    assert len(on_disk["conflicts"]) == 5


def test_snapshot_of_refuses_a_missing_foreign_or_newer_store(tmp_path, filled):
    with pytest.raises(StoreError, match="store not found"):
        Store.snapshot_of(tmp_path / "none.duckdb")
    csv = write_csv(make_contacts(3), tmp_path / "c.csv")
    with pytest.raises(StoreError, match=r"not a DuckDB store \(looks like CSV/text\)"):
        Store.snapshot_of(csv)
    with Store(filled) as st:
        st.con.execute("INSERT INTO schema_version VALUES (99, 'future', now()::TIMESTAMP)")
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        Store.snapshot_of(filled)
    con = duckdb.connect(str(filled))  # a refused snapshot leaves the file free to write
    con.execute("DELETE FROM schema_version WHERE version = 99")
    con.close()
    with Store.snapshot_of(filled) as snap:
        assert snap.schema_version() == SCHEMA_VERSION and snap.count() > 0


def test_snapshot_of_waits_for_a_writer_then_refuses(filled):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(filled)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        t0 = time.monotonic()
        with pytest.raises(StoreInUseError, match=f"pid {holder.pid}"):
            Store.snapshot_of(filled, wait=0.6)
        assert time.monotonic() - t0 >= 0.6
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with Store.snapshot_of(filled, wait=5) as snap:
        assert snap.count() == 400 - snap.audit_log()["rows_affected"].iloc[0]


def test_the_store_does_not_import_the_ingest():
    code = (
        "import sys\n"
        "from mashdemand.store import Store\n"
        "with Store(':memory:') as st:\n"
        "    st.hub_overview()\n"
        "    st.con.execute(\"SELECT md_utc_to_local(TIMESTAMP '2024-07-01 12:00')\")\n"
        "print(sorted(m for m in sys.modules if m.startswith('mashdemand.ingest')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_run_of_several_files_fills_row_groups_in_turn(tmp_path):
    """Three files of 50,000 contacts in one run: rows in file and row order, and only the
    last row group part-filled (each file's rows, stored as the file is done, continue the
    run's last row group rather than leaving one part-filled per file for the next checkpoint
    to recompress)."""
    paths = []
    for k in range(3):
        df = make_contacts(50_000, seed=k)
        df["contact_id"] = f"F{k}-" + df["contact_id"]
        df.to_parquet(tmp_path / f"f{k}.parquet")
        paths.append(tmp_path / f"f{k}.parquet")
    s = ingest_contacts(paths, store=tmp_path / "s.duckdb")
    assert s.rows_accepted == 150_000
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        groups = st.con.execute(
            "SELECT row_group_id, max(count) FROM pragma_storage_info('contacts') "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
        order = st.con.execute("SELECT ingest_id, row_number FROM contacts").df()
    assert [n for _, n in groups] == [ROW_GROUP, 150_000 - ROW_GROUP]
    assert order["ingest_id"].tolist() == [1] * 50_000 + [2] * 50_000 + [3] * 50_000
    assert order["row_number"].tolist() == list(range(2, 50_002)) * 3

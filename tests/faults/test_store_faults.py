"""The store keeps its promises when things go wrong: killed ingests, two writers, damaged or
foreign files given as the store, outputs aimed at the store, and file permissions."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time

import pandas as pd
import pytest

from mashdemand.store import Store, StoreInUseError

from .conftest import (
    BIG_ROWS,
    REPO,
    SAMPLE_CSV,
    distinct_ids,
    run_cli,
    sha256,
    start_cli,
    stderr_lines,
    store_count,
    wait_until_open,
    write_contacts,
)


def _one_error_line(err: str) -> str:
    lines = stderr_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("mashdemand: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- kill -9 ----------------------------------------------------------------------------------
def test_kill_9_at_random_points_then_reingest_is_exact(tmp_path, big_csv):
    store = tmp_path / "store.duckdb"
    rng = random.Random(20240305)
    counts, killed = [], 0
    for _ in range(3):
        proc = start_cli("ingest", big_csv, "--store", store, "-q")
        wait_until_open(proc, store)
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        # On an idle machine a late point may fall after the run finished: still a valid point.
        assert proc.returncode in (-signal.SIGKILL, 0)
        killed += proc.returncode == -signal.SIGKILL
        # Whatever the point, the store opens and holds the whole run or none of it.
        if store.exists():
            counts.append(store_count(store))
            assert counts[-1] in (0, BIG_ROWS)
            assert distinct_ids(store) == counts[-1]
    assert killed >= 1  # at least one run was really cut off mid-ingest
    done = run_cli("ingest", big_csv, "--store", store, "--summary-json", tmp_path / "s.json")
    assert done.returncode == 0, done.stderr
    assert store_count(store) == BIG_ROWS
    assert distinct_ids(store) == BIG_ROWS
    summary = json.loads((tmp_path / "s.json").read_text())
    already = counts[-1] if counts else 0
    assert summary["rows_read"] == BIG_ROWS + 1000
    assert summary["rows_accepted"] == BIG_ROWS - already
    assert not (tmp_path / "store.duckdb.tmp").exists()


# -- two writers ------------------------------------------------------------------------------
HOLD = (
    "import sys; from mashdemand.store import Store; st = Store(sys.argv[1]); "
    "print('ready', flush=True); sys.stdin.read(); st.close()"
)


def _hold(store) -> subprocess.Popen[str]:
    """Another process holding the store open for writing until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_second_writer_refused_with_in_use_line_then_waits(tmp_path, small_store):
    store = small_store()
    more = write_contacts(tmp_path / "more.csv", 700, prefix="W", seed=5)
    holder = _hold(store)
    try:
        refused = run_cli("ingest", more, "--store", store)
        assert refused.returncode == 2
        line = _one_error_line(refused.stderr)
        assert line == (
            f"mashdemand: error: {store} is in use by another mashdemand process "
            f"(pid {holder.pid}); try again when it finishes, or use --wait SECONDS"
        )
        assert "IO Error" not in line
        read = run_cli("summary", "--store", store)
        assert read.returncode == 2 and "is in use" in read.stderr

        # In-process: Store(wait=...) retries for the time given, then refuses.
        t0 = time.monotonic()
        with pytest.raises(StoreInUseError, match=f"pid {holder.pid}"):
            Store(store, wait=0.6)
        assert time.monotonic() - t0 >= 0.6

        waiting = start_cli("ingest", more, "--store", store, "--wait", "120")
        time.sleep(2)  # let it start and queue behind the holder
        assert waiting.poll() is None  # still waiting while the store is held
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert store_count(store) == 2000 + 700


# -- damaged store ----------------------------------------------------------------------------
def _truncate(path):
    with path.open("r+b") as fh:
        fh.truncate(100)


def _scribble_header(path):
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(random.Random(1).randbytes(4096))


@pytest.mark.parametrize(
    ("damage", "command"),
    [(_truncate, "summary"), (_scribble_header, "ingest")],
    ids=["truncated-summary", "scribbled-ingest"],
)
def test_damaged_store_is_one_line(tmp_path, small_store, damage, command):
    store = small_store()
    damage(store)
    damaged = sha256(store)
    args = [SAMPLE_CSV] if command == "ingest" else []
    done = run_cli(command, *args, "--store", store)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert line.startswith(f"mashdemand: error: {store}: damaged DuckDB store, cannot be opened")
    assert line.endswith("restore it from a backup")
    assert sha256(store) == damaged


# -- foreign files as the store ---------------------------------------------------------------
def _csv(path):
    shutil.copy(SAMPLE_CSV, path)


def _parquet(path):
    pd.read_csv(SAMPLE_CSV).to_parquet(path)


def _json(path):
    path.write_text(json.dumps({"rows_read": 3, "rows_accepted": 3}))


def _sqlite(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (contact_id TEXT)")
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("name", "make", "looks"),
    [
        ("x.csv", _csv, "CSV/text"),
        ("x.parquet", _parquet, "Parquet"),
        ("x.json", _json, "JSON"),
        ("x.db", _sqlite, "an SQLite database"),
    ],
)
def test_store_path_naming_another_kind_of_file_is_refused(tmp_path, name, make, looks):
    store = tmp_path / name
    make(store)
    before = sha256(store)
    done = run_cli("ingest", SAMPLE_CSV, "--store", store)
    assert done.returncode == 2
    assert _one_error_line(done.stderr) == (
        f"mashdemand: error: {store}: not a DuckDB store (looks like {looks}); "
        "choose a new path or an existing .duckdb store"
    )
    assert "accepted" not in done.stdout
    assert sha256(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no WAL, no extension


# -- outputs aimed at the store or an input ---------------------------------------------------
def test_summary_json_on_the_store_or_an_input_is_refused(tmp_path, small_store):
    store = small_store()
    data = tmp_path / "export.csv"
    shutil.copy(SAMPLE_CSV, data)
    before_store, before_data = sha256(store), sha256(data)
    for target, what in ((store, "the store"), (data, "an input file")):
        done = run_cli("ingest", data, "--store", store, "--summary-json", target)
        assert done.returncode == 2
        assert _one_error_line(done.stderr) == (
            f"mashdemand: error: --summary-json {target} is {what}; choose another path"
        )
    assert (sha256(store), sha256(data)) == (before_store, before_data)
    assert store_count(store) == 2000
    as_input = run_cli("ingest", store, "--store", store)
    assert as_input.returncode == 2
    assert "is the store" in _one_error_line(as_input.stderr)


# -- permissions ------------------------------------------------------------------------------
def test_store_summary_and_folders_are_private_whatever_the_umask(tmp_path):
    store = tmp_path / "data" / "new" / "store.duckdb"
    summary = tmp_path / "out" / "json" / "summary.json"
    done = run_cli(
        "ingest",
        SAMPLE_CSV,
        "--store",
        store,
        "--summary-json",
        summary,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr

    def mode(p):
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(store) == 0o600
    assert mode(summary) == 0o600
    for folder in (store.parent, store.parent.parent, summary.parent, summary.parent.parent):
        assert mode(folder) == 0o700, folder
    wal = store.with_name(store.name + ".wal")
    assert not wal.exists() or mode(wal) == 0o600

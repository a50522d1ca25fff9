"""Ctrl-C (SIGINT) and SIGTERM during an ingest: rolled back, one line, exit 128 + signal."""

from __future__ import annotations

import signal
import time

import pytest

from mashdemand.ingest import ingest_contacts

from .conftest import (
    SAMPLE_CSV,
    start_cli,
    stderr_lines,
    store_count,
    wait_until_open,
    write_contacts,
)


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_signal_mid_ingest_rolls_back(tmp_path, small_store, big_csv, sig, code):
    store = small_store()
    before = store_count(store)
    assert before == 2000
    proc = start_cli("ingest", big_csv, "--store", store)
    wait_until_open(proc, store)
    time.sleep(0.3)  # into the transaction (it runs for seconds on 301,000 rows)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == code, err
    assert stderr_lines(err) == [
        f"mashdemand: interrupted ({sig.name}); nothing was stored, the store is as it was"
    ]
    assert "Traceback" not in err
    assert out == ""
    assert store_count(store) == before
    assert store_count(store, "ingests") == 1

    # The store is usable: a later ingest adds exactly its new contacts.
    more = write_contacts(tmp_path / "more.csv", 500, prefix="M", seed=3)
    assert ingest_contacts(more, store=store).rows_accepted == 500
    assert store_count(store) == before + 500


def test_sigint_ignored_by_the_shell_still_stops_ingest(tmp_path, small_store, big_csv):
    """A shell starts background jobs with SIGINT ignored; ``kill -INT`` must still stop the
    ingest (it used to commit everything and exit 0)."""
    store = small_store()
    proc = start_cli(
        "ingest",
        big_csv,
        "--store",
        store,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    wait_until_open(proc, store)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert store_count(store) == 2000


def test_ingest_after_interrupt_of_new_store_leaves_no_file(tmp_path, big_csv):
    """An interrupted first ingest leaves no store behind (it was not there before)."""
    store = tmp_path / "new" / "store.duckdb"
    proc = start_cli("ingest", big_csv, "--store", store)
    wait_until_open(proc, store)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert not store.exists()
    assert ingest_contacts(SAMPLE_CSV, store=store).rows_accepted == 2000

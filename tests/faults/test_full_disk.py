"""A full disk: one clear line, nothing stored, and the store works again once space is freed.

Runs on a 20 MB tmpfs, which needs root (as here and in CI); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import distinct_ids, run_cli, stderr_lines, store_count, write_contacts

ROWS = 60_000
HEADROOM = 1 << 20  # bytes left free when the disk is "full": far less than an ingest needs


@pytest.fixture
def small_disk(tmp_path):
    """A 20 MB tmpfs mounted for the test and unmounted after it."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder, leave: int) -> os.PathLike:
    """Write a filler file so that only ``leave`` bytes stay free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    filler = folder / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(free - leave, 0))
    return filler


def test_full_disk_is_one_line_and_the_store_recovers(tmp_path, small_disk):
    first = write_contacts(tmp_path / "first.csv", ROWS, prefix="F", seed=11)
    second = write_contacts(tmp_path / "second.csv", ROWS, prefix="S", seed=12)
    store = small_disk / "store.duckdb"
    assert run_cli("ingest", first, "--store", store, "-q").returncode == 0
    assert store_count(store) == ROWS

    filler = _fill(small_disk, HEADROOM)
    for _ in range(2):  # and again: a failed run must not make the next one fail differently
        full = run_cli("ingest", second, "--store", store)
        assert full.returncode in (1, 2)
        assert stderr_lines(full.stderr) == [
            f"mashdemand: error: no space left on device writing {store}; nothing was stored "
            "(free some space and run it again)"
        ]
        assert "rollback" not in full.stderr
        assert store_count(store) == ROWS

    filler.unlink()
    again = run_cli("ingest", second, "--store", store, "-q")
    assert again.returncode == 0, again.stderr
    assert store_count(store) == 2 * ROWS
    assert distinct_ids(store) == 2 * ROWS
    assert store_count(store, "ingests") == 2  # the failed runs left no trace
    assert not (small_disk / "store.duckdb.tmp").exists()

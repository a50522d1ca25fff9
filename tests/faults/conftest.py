"""Helpers for fault tests that run the CLI as a user would: in a subprocess.

``run_cli`` waits for a command; ``start_cli`` starts one to kill or signal; ``wait_until_open``
waits until that process has the store open (its signal handlers are installed by then and its
transaction is about to run), so signals land mid-ingest whatever the machine's load.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mashdemand.ingest import ingest_contacts
from mashdemand.store import Store

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO / "data" / "sample" / "contacts_small.csv"
CLI = [sys.executable, "-m", "mashdemand.cli"]
BIG_ROWS = 300_000
BIG_REPEATS = 1_000  # rows repeated at the end of the big file: duplicates within the file


def run_cli(*args: object, timeout: float = 300, **kw) -> subprocess.CompletedProcess[str]:
    """Run ``mashdemand ARGS`` in a subprocess and wait; output captured as text."""
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=REPO, **kw
    )


def start_cli(*args: object, **kw) -> subprocess.Popen[str]:
    """Start ``mashdemand ARGS`` in a subprocess (stdout and stderr piped)."""
    return subprocess.Popen(
        [*CLI, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        **kw,
    )


def has_open(pid: int, path: Path) -> bool:
    """True when process ``pid`` holds ``path`` open (Linux ``/proc``)."""
    target = str(path.resolve())
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd_dir / fd) == target for fd in os.listdir(fd_dir))
    except OSError:  # the process ended, or an fd closed while we looked
        return False


def wait_until_open(proc: subprocess.Popen, path: Path, timeout: float = 120) -> None:
    """Wait until ``proc`` has ``path`` open; fail the test if it ends or times out first."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to see when the ingest has the store open")
    deadline = time.monotonic() + timeout
    while not has_open(proc.pid, path):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended before opening {path}: rc {proc.returncode}: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"process did not open {path} within {timeout} s")
        time.sleep(0.02)


def stderr_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def store_count(path: Path, table: str = "contacts") -> int:
    """Rows in a table of the store, opened read-only (and closed again)."""
    with Store(path, read_only=True) as st:
        return st.count(table)


def distinct_ids(path: Path) -> int:
    with Store(path, read_only=True) as st:
        return int(st.scalar("SELECT count(DISTINCT contact_id) FROM contacts"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_contacts(path: Path, n: int, prefix: str = "C", seed: int = 0, repeats: int = 0) -> Path:
    """A canonical contact-log CSV of ``n`` distinct contacts (ids ``<prefix>0000001``...),
    with the first ``repeats`` rows repeated at the end (identical duplicates)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02")
    received = start + pd.to_timedelta(np.sort(rng.integers(0, 60 * 24 * 700, n)), unit="min")
    frame = pd.DataFrame(
        {
            "contact_id": [f"{prefix}{i:07d}" for i in range(1, n + 1)],
            "received_at": received.strftime("%Y-%m-%dT%H:%M:%S"),
            "hub": rng.choice(["reading", "slough", "milton-keynes"], n),
            "source": rng.choice(["police", "education", "health"], n),
            "priority": rng.choice(["standard", "medium", "high", "urgent"], n),
        }
    )
    if repeats:
        frame = pd.concat([frame, frame.head(repeats)], ignore_index=True)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 301,000-row export: 300,000 distinct contacts, the first 1,000 repeated."""
    path = tmp_path_factory.mktemp("big") / "contacts_big.csv"
    return write_contacts(path, BIG_ROWS, prefix="B", seed=1, repeats=BIG_REPEATS)


@pytest.fixture
def small_store(tmp_path: Path) -> Callable[[str], Path]:
    """Make a store holding the 2,000-contact sample."""

    def make(name: str = "store.duckdb") -> Path:
        path = tmp_path / name
        # In process (a second faster than the CLI): the faults under test run the CLI.
        assert ingest_contacts(SAMPLE_CSV, store=path).rows_accepted == 2000
        return path

    return make

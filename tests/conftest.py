"""Shared fixtures: a small seeded canonical contact log and writers for every input format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mashdemand import schema
from mashdemand.threads import init_worker

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"


def pytest_configure(config: pytest.Config) -> None:
    """One native thread per pool in the test process and the processes it starts.

    CI shares few cores between the test process, the CLI subprocesses the tests start and
    their joblib workers; thread pools sized to every core oversubscribe them. The thread
    environment variables are set as defaults (a value set by hand is kept).
    """
    init_worker(1)


def make_contacts(n: int = 300, seed: int = 7) -> pd.DataFrame:
    """A canonical contact log as an export would carry it: text values, UK day-first dates."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-02 00:00")
    minutes = np.sort(rng.integers(0, 60 * 24 * 400, n))
    received = start + pd.to_timedelta(minutes, unit="min")
    decided = received + pd.to_timedelta(rng.integers(30, 60 * 24 * 5, n), unit="min")
    return pd.DataFrame(
        {
            "contact_id": [f"C{i:06d}" for i in range(n)],
            "received_at": received.strftime("%d/%m/%Y %H:%M"),
            "hub": rng.choice(["reading", "slough", "milton-keynes"], n),
            "source": rng.choice(["Police", "education", "HEALTH", "local authority"], n),
            "subject": rng.choice(["child", "adult"], n),
            "priority": rng.choice(
                ["standard", "medium", "high", "urgent"], n, p=[0.8, 0.12, 0.06, 0.02]
            ),
            "category": rng.choice(["domestic_abuse", "neglect", "café’s concern"], n),
            "rpa": rng.choice(["true", "false"], n),
            "decided_at": decided.strftime("%Y-%m-%dT%H:%M:%S"),
            "outcome": rng.choice(["nfa", "early_help", "social_care"], n),
        }
    )


def write_csv(
    df: pd.DataFrame, path: Path, encoding: str = "utf-8", sep: str = ",", newline: str = "\n"
) -> Path:
    text = df.to_csv(index=False, sep=sep, lineterminator=newline)
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def contacts() -> pd.DataFrame:
    return make_contacts()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


def stored(store_path: Path) -> pd.DataFrame:
    from mashdemand.store import Store

    with Store(store_path, read_only=True) as st:
        return st.table("contacts").sort_values(schema.CONTACT_ID).reset_index(drop=True)


@pytest.fixture
def fast_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Default model sets without the slow models (``MASHDEMAND_FAST_MODELS=1``), also in the
    processes a test starts (notebook kernels, CLI subprocesses)."""
    from mashdemand.forecast.models import FAST_MODELS_ENV

    monkeypatch.setenv(FAST_MODELS_ENV, "1")

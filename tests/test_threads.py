"""Native threads are limited to one inside every model fit and restored afterwards.

Each test first raises the pools to two threads (the test run itself is single-threaded, see
conftest.py), so a fit that did not limit them would be seen with two.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from forecast_helpers import MeanLastSeason
from threadpoolctl import threadpool_info, threadpool_limits

from mashdemand.forecast.backtest import cross_validation
from mashdemand.forecast.base import DS, UID, Y
from mashdemand.forecast.models import MODELS, make_model
from mashdemand.threads import (
    THREAD_ENV,
    init_worker,
    limit_threads,
    single_threaded,
    single_threaded_fit,
)


def pool_threads() -> dict[str, int]:
    """``{library path: threads}`` of every native pool loaded in this process."""
    return {p["filepath"]: p["num_threads"] for p in threadpool_info()}


def snapshot() -> dict[str, Any]:
    """Thread pools and the thread environment variables as they are now."""
    return {"pools": pool_threads(), "env": {k: os.environ.get(k) for k in THREAD_ENV}}


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Every pool at two threads and the env variables at ``2`` (``STAN`` unset) for a test."""
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    for k in THREAD_ENV:
        monkeypatch.setenv(k, "2")
    monkeypatch.delenv("STAN_NUM_THREADS")
    with threadpool_limits(limits=2):
        before = snapshot()
        assert set(before["pools"].values()) == {2}
        assert any(p["user_api"] == "openmp" for p in threadpool_info())
        yield before


def panel(n_series: int = 2, n: int = 120, seed: int = 3) -> pd.DataFrame:
    """A small daily panel with a weekly pattern [contacts/day]."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=n, freq="D")
    frames = [
        pd.DataFrame(
            {
                UID: f"s{i}",
                DS: ds,
                Y: rng.poisson(20 + 5 * (ds.day_of_week < 5) + 3 * i).astype(float),
            }
        )
        for i in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


@single_threaded_fit
class SeenThreads(MeanLastSeason):
    """Records the thread pools and environment seen inside ``fit`` and ``predict``."""

    seen: list[dict[str, Any]] = []

    def fit(self, df: pd.DataFrame) -> SeenThreads:
        SeenThreads.seen.append(snapshot())
        return super().fit(df)

    def predict(self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = (80, 95)):
        SeenThreads.seen.append(snapshot())
        return super().predict(h, X, level)


class WorkerThreads(MeanLastSeason):
    """Not limited itself: forecasts the most threads any pool had during its fit."""

    def _fit_one(self, g: pd.DataFrame) -> Any:
        most = max(p["num_threads"] for p in threadpool_info())
        env = max(int(os.environ.get(k, "0")) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
        return float(max(most, env)), 0.0


def test_limit_threads_sets_one_and_restores(two_threads: dict[str, Any]) -> None:
    with limit_threads(1):
        inside = snapshot()
    assert set(inside["pools"].values()) == {1}
    assert inside["env"] == dict.fromkeys(THREAD_ENV, "1")
    assert snapshot() == two_threads
    assert "STAN_NUM_THREADS" not in os.environ


def test_limit_restored_after_an_exception(two_threads: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="boom"), single_threaded():
        assert set(pool_threads().values()) == {1}
        raise RuntimeError("boom")
    assert snapshot() == two_threads


def test_limit_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="threads must be >= 1; got 0"), limit_threads(0):
        pass  # pragma: no cover


def test_decorated_fit_and_predict_run_single_threaded(two_threads: dict[str, Any]) -> None:
    SeenThreads.seen = []
    fc = SeenThreads().fit(panel()).predict(7)
    assert len(fc) == 14
    assert len(SeenThreads.seen) == 2  # one fit, one predict
    for seen in SeenThreads.seen:
        assert set(seen["pools"].values()) == {1}
        assert seen["env"]["STAN_NUM_THREADS"] == "1"
        assert seen["env"]["OMP_NUM_THREADS"] == "1"
    assert snapshot() == two_threads


def test_decorating_twice_wraps_once() -> None:
    fit = SeenThreads.fit
    assert single_threaded_fit(SeenThreads).fit is fit
    assert fit.__name__ == "fit" and fit.__single_threaded__


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_is_limited(name: str) -> None:
    cls = type(make_model(name))
    assert cls.fit.__single_threaded__
    assert cls.predict.__single_threaded__


def test_gbm_trees_grow_on_one_openmp_thread(
    two_threads: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    seen: list[dict[str, int]] = []
    original = HistGradientBoostingRegressor.fit

    def recording_fit(self, *args: Any, **kwargs: Any) -> Any:
        seen.append(pool_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", recording_fit)
    fc = make_model("gbm", max_iter=20).fit(panel()).predict(7)
    assert len(fc) == 14 and (fc["yhat"] > 0).all()
    assert len(seen) == 1
    assert set(seen[0].values()) == {1}
    assert snapshot() == two_threads


def test_prophet_runs_cmdstan_single_threaded(
    two_threads: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("prophet")
    envs: list[dict[str, str]] = []
    original = subprocess.Popen

    class RecordingPopen(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            envs.append(dict(kwargs.get("env") or os.environ))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    fc = make_model("prophet").fit(panel(n_series=1, n=60)).predict(7)
    assert len(fc) == 7 and (fc["yhat"] > 0).all()
    assert envs, "Prophet started no CmdStan process"
    for env in envs:
        assert {k: env.get(k) for k in THREAD_ENV} == dict.fromkeys(THREAD_ENV, "1")
    assert snapshot() == two_threads


def test_backtest_workers_run_one_thread(two_threads: dict[str, Any]) -> None:
    # The parent allows two threads (in its pools and environment): the workers still run one.
    cv = cross_validation(WorkerThreads(), panel(), h=7, n_windows=2, n_jobs=2)
    assert len(cv) == 2 * 2 * 7
    assert cv["yhat"].tolist() == [1.0] * len(cv)


def test_init_worker_keeps_user_env_and_limits_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in THREAD_ENV:  # recorded, so monkeypatch removes what init_worker sets
        monkeypatch.setenv(k, "0")
        monkeypatch.delenv(k)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with threadpool_limits(limits=2):
        init_worker(1)
        assert set(pool_threads().values()) == {1}
    assert os.environ["OMP_NUM_THREADS"] == "3"
    assert os.environ["STAN_NUM_THREADS"] == os.environ["OPENBLAS_NUM_THREADS"] == "1"


# --- MASHDEMAND_FAST_MODELS: quick default model sets for the notebooks in CI ----------------
def history(days: int = 70) -> pd.DataFrame:
    """Daily counts ``hub, date, contacts`` of two hubs [contacts/day]."""
    p = panel(n=days)
    return pd.DataFrame(
        {"hub": p[UID].map({"s0": "reading", "s1": "slough"}), "date": p[DS], "contacts": p[Y]}
    )


def test_fast_models_trim_the_default_set_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import mashdemand as md
    from mashdemand.forecast.models import FAST_MODELS_ENV

    monkeypatch.delenv(FAST_MODELS_ENV, raising=False)
    kw = {"until": "2024-03-20", "backtest": False}
    assert md.forecast(history(), **kw).models == ("snaive", "ets", "gbm")
    monkeypatch.setenv(FAST_MODELS_ENV, "1")
    fast = md.forecast(history(), **kw)
    assert fast.models == ("snaive", "ets")
    assert len(fast.frame) == 3 * 10 and (fast.frame["yhat"] > 0).all()
    assert md.forecast(history(), models=["gbm"], **kw).models == ("gbm",)
    monkeypatch.setenv(FAST_MODELS_ENV, "0")
    assert md.forecast(history(), **kw).models == ("snaive", "ets", "gbm")

"""The engine seam (mashdemand.engine): local processes and a two-worker Dask LocalCluster on
loopback give the same forecasts and staffing; failed tasks are retried, then named."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mashdemand as md
from mashdemand.engine import (
    DaskEngine,
    EngineError,
    LocalEngine,
    Task,
    current_engine,
    make_engine,
    use_engine,
)
from mashdemand.forecast.base import DS, UID, Y
from mashdemand.forecast.models import MODELS, make_model

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_engine():
    """A two-worker LocalCluster on loopback, one thread per worker, shared by the module."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield DaskEngine(scheduler=client)
    finally:
        client.close()
        cluster.close()


def engines(dask_engine) -> dict[str, object]:
    return {"local 1": LocalEngine(1), "local 2": LocalEngine(2), "dask 2": dask_engine}


# --- Task functions (module level: they are pickled to the workers) ------------------------


def square(x: int) -> int:
    return x * x


def warn_and_return(x: int) -> int:
    warnings.warn(f"task {x} warned", UserWarning, stacklevel=1)
    return x


def fail_once(marker: str, value: int) -> int:
    """Raises the first time (leaving ``marker``), returns ``value`` the next."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried")
        raise RuntimeError("transient failure")
    return value


def always_fail(what: str) -> None:
    raise ValueError(f"no data for {what}")


# --- The engine contract --------------------------------------------------------------------


def test_results_come_back_in_task_order_on_every_engine(dask_engine):
    tasks = [Task(square, (i,), f"t{i}", cost=float(i % 3)) for i in range(12)]
    for name, eng in engines(dask_engine).items():
        assert eng.run(tasks) == [i * i for i in range(12)], name


def test_worker_warnings_are_raised_again_here(dask_engine):
    for eng in engines(dask_engine).values():
        with pytest.warns(UserWarning) as rec:
            out = eng.run([Task(warn_and_return, (i,), f"t{i}") for i in range(3)])
        assert out == [0, 1, 2]
        assert sorted(str(w.message) for w in rec) == [f"task {i} warned" for i in range(3)]


def test_a_failed_task_is_retried_once(dask_engine, tmp_path: Path):
    for name, eng in engines(dask_engine).items():
        marker = tmp_path / f"{name.replace(' ', '_')}.marker"
        tasks = [Task(square, (3,), "a"), Task(fail_once, (str(marker), 42), "b")]
        assert eng.run(tasks) == [9, 42], name
        assert marker.read_text() == "tried"


def test_a_task_failing_every_time_is_named_not_dropped(dask_engine):
    for eng in engines(dask_engine).values():
        tasks = [Task(square, (2,), "hub Reading"), Task(always_fail, ("slough",), "hub Slough")]
        with pytest.raises(EngineError) as err:
            eng.run(tasks, desc="staffing")
        msg = str(err.value)
        assert "1 of 2 staffing task(s) failed after 2 attempts" in msg
        assert "hub Slough: ValueError: no data for slough" in msg
        assert "Reading" not in msg
        assert "\n" not in msg


def test_make_engine_refuses_bad_choices():
    with pytest.raises(EngineError, match="choose one of local, dask"):
        make_engine("ray")
    with pytest.raises(EngineError, match="needs the dask engine"):
        make_engine("local", 2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(EngineError, match="whole number of workers"):
        make_engine("local", 0)


def test_use_engine_sets_the_engine_for_the_block():
    assert current_engine(3).workers == 3
    assert current_engine(-1).workers >= 1  # one per CPU, as joblib counts
    eng = LocalEngine(2)
    with use_engine(eng) as got:
        assert got is eng
        assert current_engine(1) is eng  # n_jobs is the default only
    assert isinstance(current_engine(1), LocalEngine) and current_engine(1) is not eng


def test_chunks_spread_series_over_workers():
    assert LocalEngine(1).chunks(600) == 1
    assert LocalEngine(2).chunks(600) == 4
    assert LocalEngine(2).chunks(3) == 3


# --- Forecasts: the same on every engine ----------------------------------------------------


def panel(n_series: int = 5, days: int = 500, seed: int = 11) -> pd.DataFrame:
    """Poisson daily series with a weekly shape and different levels."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-02", periods=days, freq="D")
    week = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.45, 0.4])[ds.day_of_week]
    rows = []
    for i in range(n_series):
        lam = (8 + 6 * i) * week
        rows.append(pd.DataFrame({UID: f"s{i}", DS: ds, Y: rng.poisson(lam).astype(float)}))
    return pd.concat(rows, ignore_index=True)


PER_SERIES = [n for n in MODELS if make_model(n).per_series]


@pytest.mark.parametrize("name", [n for n in PER_SERIES if n not in ("prophet", "ucm")])
def test_per_series_models_forecast_the_same_fitted_whole_or_in_parts(name):
    """The contract that lets an engine cut a per-series model's series into parts."""
    df = panel()
    whole = make_model(name).fit(df).predict(30, level=(80, 95))
    parts = [
        make_model(name).fit(df[df[UID].isin(ids)].reset_index(drop=True)).predict(30)
        for ids in (["s0", "s1"], ["s2", "s3", "s4"])
    ]
    pd.testing.assert_frame_equal(
        whole, pd.concat(parts, ignore_index=True), check_exact=True, check_like=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in PER_SERIES if n in ("prophet", "ucm")])
def test_slow_per_series_models_forecast_the_same_fitted_whole_or_in_parts(name):
    df = panel(3, 400)
    whole = make_model(name).fit(df).predict(14, level=(80, 95))
    parts = [
        make_model(name).fit(df[df[UID].isin(ids)].reset_index(drop=True)).predict(14)
        for ids in (["s0"], ["s1", "s2"])
    ]
    pd.testing.assert_frame_equal(whole, pd.concat(parts, ignore_index=True), check_exact=True)


def counts(n_hubs: int = 4, days: int = 760, seed: int = 5) -> pd.DataFrame:
    df = panel(n_hubs, days, seed)
    hubs = ["reading", "slough", "milton-keynes", "wokingham", "bracknell-forest"][:n_hubs]
    names = dict(zip([f"s{i}" for i in range(n_hubs)], hubs, strict=True))
    return pd.DataFrame({"hub": df[UID].map(names), "date": df[DS], "contacts": df[Y]})


def test_forecast_and_backtest_identical_on_local_and_dask(dask_engine):
    daily = counts()
    results = {}
    for name, eng in engines(dask_engine).items():
        with use_engine(eng):
            results[name] = md.forecast(
                daily,
                until=daily["date"].max() + pd.Timedelta(days=60),
                models=["snaive", "ets", "gbm"],
            )
    ref = results["local 1"]
    assert ref.backtest is not None and len(ref.frame) == 5 * 60
    for name, res in results.items():
        pd.testing.assert_frame_equal(res.frame, ref.frame, check_exact=True, obj=name)
        pd.testing.assert_frame_equal(
            res.backtest.by_series, ref.backtest.by_series, check_exact=True, obj=name
        )
        pd.testing.assert_frame_equal(res.weights, ref.weights, check_exact=True, obj=name)


def test_staffing_identical_on_local_and_dask(dask_engine):
    from mashdemand.sample import generate_contacts
    from mashdemand.staffing import load_config, plan_staffing

    recs = generate_contacts(start="2025-06-01", end="2026-09-30", hubs=["slough"], scale=0.5)
    days = pd.date_range("2026-10-01", "2027-03-31")
    y = np.where(days.day_of_week < 5, 30.0, 13.0)
    fc = pd.DataFrame(
        {
            "hub": "slough",
            "date": days,
            "yhat": y,
            "lo80": 0.8 * y,
            "hi80": 1.25 * y,
            "lo95": 0.7 * y,
            "hi95": 1.4 * y,
        }
    )
    cfg = load_config().with_options(["today", "long_day_0719"])
    plans, checks = {}, {}
    for name, eng in engines(dask_engine).items():
        with use_engine(eng):
            plans[name] = plan_staffing(fc, recs, cfg, seed=3)
            checks[name] = plans[name].verify(replications=2)
    ref = plans["local 1"]
    assert len(ref.summary) == 2 * 2  # two quarters x two options
    for name, plan in plans.items():
        pd.testing.assert_frame_equal(plan.summary, ref.summary, check_exact=True, obj=name)
        pd.testing.assert_frame_equal(plan.roster, ref.roster, check_exact=True, obj=name)
        pd.testing.assert_frame_equal(checks[name], checks["local 1"], check_exact=True, obj=name)


# --- The command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (["forecast", "--until", "2027-01-31", "--out", "fc.csv"], []),
        (["staffing", "--forecast", "fc.csv", "--out", "st.csv"], []),
        (["report", "quarterly", "--sample", "--out", "rep"], []),
        (["fms-appendix", "--year", "2027", "--sample", "--out", "rep"], []),
    ],
)
def test_engine_options_give_a_one_line_error(command, extra, tmp_path: Path, monkeypatch):
    from typer.testing import CliRunner

    from mashdemand.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, [*command, *extra, "--engine", "spark"])
    assert r.exit_code == 1
    assert r.output.strip() == "mashdemand: error: engine 'spark': choose one of local, dask"
    r = runner.invoke(app, [*command, *extra, "--scheduler", "tcp://127.0.0.1:8786"])
    assert r.exit_code == 1
    assert "a scheduler address needs the dask engine (--engine dask)" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_forecast_command_runs_on_a_local_cluster(tmp_path: Path):
    """``--engine dask`` without a scheduler starts (and stops) a loopback LocalCluster."""
    from typer.testing import CliRunner

    from mashdemand.cli import app

    src = tmp_path / "counts.csv"
    counts(2, 500).to_csv(src, index=False)
    args = ["forecast", "--counts", str(src), "--until", "2024-06-30", "--models", "snaive,ets"]
    runner = CliRunner()
    r1 = runner.invoke(app, [*args, "--out", str(tmp_path / "a.csv")])
    r2 = runner.invoke(app, [*args, "--out", str(tmp_path / "b.csv"), "--engine", "dask"])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    a, b = (tmp_path / "a.csv").read_bytes(), (tmp_path / "b.csv").read_bytes()
    assert a == b and len(a) > 1000


def test_own_local_cluster_runs_workers_without_the_profiler():
    """The LocalCluster the engine starts has no statistical profiler on its workers (it
    samples the running task every 10 ms: tasks ran 24% slower with it)."""

    def callbacks(dask_worker=None):
        return sorted(dask_worker.periodic_callbacks)

    engine = DaskEngine(workers=1)
    try:
        found = list(engine.client().run(callbacks).values())
    finally:
        engine.close()
    assert len(found) == 1
    assert "heartbeat" in found[0] and "profile" not in found[0], found

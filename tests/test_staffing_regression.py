"""The staffing plan's numbers stay what they were, in process and in worker processes; the
package imports light; its defaults are defined once.

The expected numbers were computed with the hour-by-hour fluid model (before the day-by-day
solution and the other speed-ups of issue 12): a change to any of them is a change of results.
"""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest

from mashdemand import cli
from mashdemand.engine import LocalEngine
from mashdemand.staffing import StaffingConfig, StaffingError, defaults, load_config, plan_staffing
from mashdemand.staffing import plan as plan_module
from mashdemand.staffing.arrivals import Z90, planning_counts
from mashdemand.staffing.config import config_from_dict, default_toml
from mashdemand.staffing.model import RosterProblem
from mashdemand.staffing.synthetic import synthetic_cell, synthetic_option

REL = 1e-9  # floating-point summation order only


def synthetic_forecast() -> pd.DataFrame:
    """Two hubs over 2026Q4: weekdays at ``level``, weekends at 45%, a gentle wave."""
    days = pd.date_range("2026-10-01", "2026-12-31")
    frames = []
    for hub, level in (("alpha", 90.0), ("beta", 25.0)):
        wave = 1 + 0.1 * np.sin(np.arange(len(days)) / 5)
        y = np.where(days.day_of_week >= 5, level * 0.45, level) * wave
        frames.append(
            pd.DataFrame({"hub": hub, "date": days, "yhat": y, "lo80": y * 0.85, "hi80": y * 1.18})
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def plan():
    return plan_staffing(synthetic_forecast(), None, load_config(), seed=3)


def test_plan_on_a_synthetic_forecast_is_unchanged(plan) -> None:
    s = plan.summary
    assert s.loc[s["recommended"], "option"].tolist() == ["long_day_0719", "extended_0818"]
    assert s["meets_targets"].all()
    assert s["evaluations"].tolist() == [240, 240, 235, 326, 175, 133, 16, 152]
    assert s["peak_staff"].tolist() == [15, 12, 10, 9, 3, 3, 2, 3]
    fte = [14.379142091308815, 14.394972339482733, 14.394972339482733, 14.381780466004468]
    fte += [3.994499289218632, 3.994499289218632, 4.643539464349268, 3.994499289218632]
    assert s["fte_required"].tolist() == pytest.approx(fte, rel=REL)
    util = [0.8498888738529538, 0.8489542453259893, 0.8489542453259893, 0.8497329595484494]
    util += [0.8498265012657049, 0.8498265012657049, 0.7310439334751575, 0.8498265012657049]
    assert s["utilisation"].tolist() == pytest.approx(util, rel=REL)
    wait = [19.675489517338647, 16.532609510483674, 15.58025060241532, 5.847577753077958]
    wait += [23.81308736518604, 18.06323935097289, 16.356334728458545, 8.31559758393486]
    assert s["wait_hours_standard"].tolist() == pytest.approx(wait, rel=REL)
    cover = plan.weekend_cover
    assert cover["min_cover_staff"].tolist() == [1, 1]
    assert cover["cover_fte"].tolist() == pytest.approx([0.5909959318262706] * 2, rel=REL)


def test_verification_is_unchanged(plan) -> None:
    v = plan.verify(replications=1)
    assert v["contacts_simulated"].tolist() == [9503, 2626]
    assert v["within_urgent"].tolist() == [0.9939759036144579, 1.0]
    assert v["within_high"].tolist() == [0.997907949790795, 1.0]
    assert v["utilisation"].tolist() == pytest.approx([0.8392618707086704, 0.8266727973491779])


def test_fluid_model_numbers_are_unchanged() -> None:
    cfg = load_config()
    cell = synthetic_cell(daily=60, weeks=3)
    prob = RosterProblem(cell, cfg.options["today"], cfg)
    r = np.where(prob.open_slots, 4, 0)
    ev = prob.evaluate(np.stack([r, np.maximum(r - 2, prob.min_roster), r + 3]))
    assert ev.share[[0, 2]].tolist() == [[1.0] * 4] * 2
    expect = [1.0, 0.46750524109014635, 0.3333333333333319, 0.12942259598207928]
    assert ev.share[1] == pytest.approx(expect, rel=REL)
    assert ev.utilisation == pytest.approx([1.1589473684210527, 2.3178947368421055, 0.66225563909])
    out = prob.evaluate(r[None], keep=True).outcome
    assert out.served[0] == pytest.approx(54974.32075471712, rel=REL)
    wait = [19585.6981132071, 72203.32075471494, 685330.584905658, 7303270.75471696]
    assert out.wait[0] == pytest.approx(wait, rel=REL)
    assert np.nansum(out.open_backlog) == pytest.approx(346276.75471698004, rel=REL)
    assert out.day_late.sum() == pytest.approx(12197.547169811032, rel=REL)
    # weekend cover: urgent and high worked on Saturday and Sunday mornings only
    cover = {d: ("09:00-13:00", ("urgent", "high")) for d in ("sat", "sun")}
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    option = synthetic_option(weekdays, "08:00-16:00", min_staff=1, cover=cover)
    prob = RosterProblem(cell, option, cfg)
    r = np.where(prob.open_slots, 3, 0)
    share = prob.evaluate(np.stack([r, r + 1])).share
    expect = [1.0, 0.733752620545074, 0.6175426774483387, 0.4736279440459521]
    assert share[0] == pytest.approx(expect, rel=REL) and share[1].tolist() == [1.0] * 4
    out = prob.evaluate(r[None], keep=True).outcome
    assert out.served[0] == pytest.approx(42979.245283019045, rel=REL)
    wait = [19585.69811320754, 135517.35849056602, 1189295.5471698132, 12197728.528301887]
    assert out.wait[0] == pytest.approx(wait, rel=REL)


def test_worker_processes_give_the_same_plan(plan) -> None:
    """Two workers (one pool, started once, for the plan and its verification) give the
    numbers of the in-process run."""
    in_process = plan.verify(replications=1)
    par = plan_staffing(synthetic_forecast(), None, load_config(), seed=3, n_jobs=2)
    pool = LocalEngine(2).executor()
    checked = par.verify(replications=1, n_jobs=2)
    assert LocalEngine(2).executor() is pool  # reused, not started again
    pd.testing.assert_frame_equal(par.summary, plan.summary)
    pd.testing.assert_frame_equal(par.roster, plan.roster)
    pd.testing.assert_frame_equal(par.weekend_cover, plan.weekend_cover)
    pd.testing.assert_frame_equal(checked, in_process)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_staffing_is_light() -> None:
    """Planning loads neither matplotlib nor scipy.stats; the command line's defaults load
    not even pandas."""
    loaded = _modules_after("from mashdemand.staffing import plan_staffing, load_config")
    assert "pandas" in loaded
    assert not {"matplotlib", "matplotlib.pyplot", "scipy.stats"} & loaded
    assert "pandas" not in _modules_after("import mashdemand.staffing.defaults")
    assert "matplotlib" in _modules_after("from mashdemand.staffing import plot_roster_heatmap")


def test_z90_is_the_normal_quantile() -> None:
    from scipy.special import ndtri

    assert Z90 == float(ndtri(0.9))


def test_code_defaults_are_defined_once() -> None:
    """plan_staffing, the plan and ``mashdemand staffing`` read mashdemand.staffing.defaults."""
    sig = inspect.signature(plan_staffing).parameters
    assert sig["quantile"].default == defaults.QUANTILE == 0.8
    assert inspect.signature(planning_counts).parameters["quantile"].default == defaults.QUANTILE
    assert sig["seed"].default == defaults.SEED
    assert sig["n_jobs"].default == defaults.N_JOBS
    cmd = inspect.signature(cli.staffing).parameters
    assert cmd["quantile"].default == defaults.QUANTILE
    assert cmd["seed"].default == defaults.SEED
    assert cmd["jobs"].default == defaults.N_JOBS
    verify = inspect.signature(plan_module.StaffingPlan.verify).parameters
    assert verify["n_jobs"].default == defaults.N_JOBS
    assert verify["replications"].default is None  # the config's [simulation] replications


def test_domain_defaults_come_from_the_toml_only() -> None:
    """StaffingConfig has no defaults of its own (one disagreed with the TOML: cool-down 10
    days against 6); a value missing from the mapping is an error naming it."""
    with_default = [
        f.name
        for f in dataclasses.fields(StaffingConfig)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    ]
    assert with_default == ["source"]
    cfg = load_config()
    assert (cfg.warmup_days, cfg.cooldown_days, cfg.replications) == (14, 6, 3)
    assert (cfg.cover_max_staff, cfg.tolerance, cfg.work_cv) == (6, 0.005, 0.5)
    raw = tomllib.loads(default_toml())
    del raw["weekend_cover"]["max_staff"]
    with pytest.raises(StaffingError, match="weekend_cover: missing 'max_staff'"):
        config_from_dict(raw)
    raw = tomllib.loads(default_toml())
    del raw["recommendation"]["tie_break"]
    with pytest.raises(StaffingError, match="recommendation: missing 'tie_break'"):
        config_from_dict(raw)

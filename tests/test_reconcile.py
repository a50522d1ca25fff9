"""Reconciliation: coherence for every method, bottom-up sums, projections fix coherent input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mashdemand.forecast.base import finish_forecast
from mashdemand.forecast.reconcile import (
    METHODS,
    coherence_error,
    hierarchy,
    reconcile,
    shrink_covariance,
)

DS = pd.date_range("2024-04-01", periods=5, freq="D")


def _ids(levels: int, rng: np.random.Generator) -> list[str]:
    hubs = [f"hub{i}" for i in range(rng.integers(2, 5))]
    if levels == 2:
        return hubs
    return [f"{h}|{s}" for h in hubs for s in rng.choice(list("pqrst"), 3, replace=False)]


def _frame(ids: list[str], values: np.ndarray, width: float = 4.0) -> pd.DataFrame:
    """Long forecast frame; ``values`` is nodes x times."""
    f = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, len(DS)),
            "ds": np.tile(DS, len(ids)),
            "yhat": values.ravel(),
        }
    )
    for lv, k in ((80, 1.0), (95, 2.0)):
        f[f"lo{lv}"] = f["yhat"] - k * width
        f[f"hi{lv}"] = f["yhat"] + k * width
    return f


def _incoherent(h, rng: np.random.Generator) -> pd.DataFrame:
    bottom = rng.uniform(5, 50, (len(h.bottom), len(DS)))
    noisy = h.S @ bottom * rng.uniform(0.8, 1.2, (len(h.ids), len(DS)))
    return _frame(h.ids, noisy)


def _residuals(h, rng: np.random.Generator) -> pd.DataFrame:
    days = pd.date_range("2023-01-01", periods=60, freq="D")
    e = h.S @ rng.normal(0, 3, (len(h.bottom), len(days))) + rng.normal(0, 2, (len(h.ids), 60))
    return pd.DataFrame(
        {"unique_id": np.repeat(h.ids, 60), "ds": np.tile(days, len(h.ids)), "resid": e.ravel()}
    )


def _check_sums(out: pd.DataFrame) -> None:
    """Hubs sum to ALL and splits to their hub at every ds (1e-6)."""
    y = out.set_index(["ds", "unique_id"])["yhat"].unstack()
    hubs = [c for c in y.columns if c != "ALL" and "|" not in c]
    np.testing.assert_allclose(y[hubs].sum(axis=1), y["ALL"], atol=1e-6)
    for hub in hubs:
        splits = [c for c in y.columns if c.startswith(hub + "|")]
        if splits:
            np.testing.assert_allclose(y[splits].sum(axis=1), y[hub], atol=1e-6)


def test_hierarchy_matrix() -> None:
    S, ids, bottom = hierarchy(["reading|police", "reading|health", "slough", "ALL", "reading"])
    assert ids == ["ALL", "reading", "slough", "reading|health", "reading|police"]
    assert bottom == ["slough", "reading|health", "reading|police"]
    np.testing.assert_array_equal(S, [[1, 1, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    S2, ids2, _ = hierarchy(["a", "b"])
    assert ids2 == ["ALL", "a", "b"] and S2.tolist() == [[1, 1], [1, 0], [0, 1]]


@pytest.mark.parametrize("levels", [2, 3])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coherent_for_every_method(levels: int, method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = hierarchy(_ids(levels, rng))
    f = _incoherent(h, rng)
    assert coherence_error(f, h) > 1
    out = reconcile(f, h, method, residuals=_residuals(h, rng))
    assert coherence_error(out, h) < 1e-6
    _check_sums(out)
    assert len(out) == len(f) and list(out.columns) == list(f.columns)
    assert (out["yhat"] >= 0).all()
    assert (out["lo95"] <= out["lo80"]).all() and (out["lo80"] <= out["yhat"]).all()
    # intervals move with yhat (same width) unless clipped at 0
    unclipped = out["lo95"] > 0
    np.testing.assert_allclose((out["hi95"] - out["lo95"])[unclipped], 16.0, atol=1e-9)


def test_bottom_up_sums_bottoms() -> None:
    rng = np.random.default_rng(5)
    h = hierarchy(_ids(3, rng))
    f = _incoherent(h, rng)
    out = reconcile(f, h, "bottom_up").set_index(["unique_id", "ds"])["yhat"]
    base = f.set_index(["unique_id", "ds"])["yhat"]
    for uid in h.bottom:
        np.testing.assert_allclose(out.loc[uid], base.loc[uid])
    hub = h.bottom[0].split("|")[0]
    parts = [b for b in h.bottom if b.startswith(hub + "|")]
    np.testing.assert_allclose(out.loc[hub], sum(base.loc[b].to_numpy() for b in parts))
    np.testing.assert_allclose(out.loc["ALL"], sum(base.loc[b].to_numpy() for b in h.bottom))
    # bottom_up needs only the bottom series; the aggregates' rows are appended
    only = reconcile(f[f["unique_id"].isin(h.bottom)], h, "bottom_up")
    assert len(only) == len(h.ids) * len(DS) and coherence_error(only, h) < 1e-9
    assert list(only["unique_id"].iloc[: len(h.bottom) * len(DS)]) == list(
        f.loc[f["unique_id"].isin(h.bottom), "unique_id"]
    )
    assert set(only["unique_id"].iloc[len(h.bottom) * len(DS) :]) == set(h.ids) - set(h.bottom)


@pytest.mark.parametrize("method", METHODS)
def test_coherent_input_unchanged(method: str) -> None:
    rng = np.random.default_rng(7)
    h = hierarchy(_ids(3, rng))
    f = finish_forecast(_frame(h.ids, h.S @ rng.uniform(5, 50, (len(h.bottom), len(DS)))))
    out = reconcile(f, h, method, residuals=_residuals(h, rng))
    pd.testing.assert_frame_equal(out, f, atol=1e-8, check_exact=False)


def test_negative_values_clipped_and_resummed() -> None:
    h = hierarchy(["a", "b"])
    # ALL says 2, a says 10, b says -9: OLS gives b < 0; clipped to 0 and re-summed
    f = pd.DataFrame({"unique_id": ["ALL", "a", "b"], "ds": DS[0], "yhat": [2.0, 10.0, -9.0]})
    out = reconcile(f, h, "ols").set_index("unique_id")["yhat"]
    assert out["b"] == 0 and out["ALL"] == pytest.approx(out["a"])


def test_backtest_frame_with_cutoffs() -> None:
    rng = np.random.default_rng(3)
    h = hierarchy(_ids(2, rng))
    a, b = _incoherent(h, rng), _incoherent(h, rng)
    f = pd.concat([a.assign(cutoff=DS[0]), b.assign(cutoff=DS[1])], ignore_index=True)
    out = reconcile(f, h, "wls_struct")
    assert len(out) == len(f)
    for _, g in out.groupby("cutoff"):
        assert coherence_error(g, h) < 1e-6


def test_errors() -> None:
    h = hierarchy(["a", "b"])
    f = pd.DataFrame({"unique_id": ["ALL", "a"], "ds": DS[0], "yhat": [2.0, 1.0]})
    with pytest.raises(ValueError, match="missing yhat for b"):
        reconcile(f, h, "ols")
    with pytest.raises(ValueError, match="not in the hierarchy: c"):
        reconcile(f.assign(unique_id=["ALL", "c"]), h, "ols")
    full = pd.DataFrame({"unique_id": ["ALL", "a", "b"], "ds": DS[0], "yhat": [2.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="needs residuals"):
        reconcile(full, h, "mint_shrink")
    with pytest.raises(ValueError, match="method must be"):
        reconcile(full, h, "magic")


def test_shrink_covariance_intensity() -> None:
    rng = np.random.default_rng(0)
    # independent series: shrinks (almost) fully to the diagonal
    W = shrink_covariance(rng.normal(size=(500, 4)))
    assert np.abs(W - np.diag(np.diag(W))).max() < 0.05
    # strongly correlated series: the correlation survives
    z = rng.normal(size=(500, 1))
    x = np.hstack([z + 0.1 * rng.normal(size=(500, 1)) for _ in range(3)])
    W = shrink_covariance(x)
    corr = W[0, 1] / np.sqrt(W[0, 0] * W[1, 1])
    assert corr > 0.95


def test_mint_trusts_the_series_with_small_residuals() -> None:
    rng = np.random.default_rng(4)
    h = hierarchy(["a", "b"])
    days = pd.date_range("2023-01-01", periods=200, freq="D")
    sd = {"ALL": 0.05, "a": 5.0, "b": 5.0}  # the total is forecast far better
    res = pd.concat(
        pd.DataFrame({"unique_id": u, "ds": days, "y": rng.normal(0, s, 200), "yhat": 0.0})
        for u, s in sd.items()
    )
    f = pd.DataFrame({"unique_id": ["ALL", "a", "b"], "ds": DS[0], "yhat": [100.0, 40.0, 40.0]})
    mint = reconcile(f, h, "mint_shrink", residuals=res).set_index("unique_id")["yhat"]
    ols = reconcile(f, h, "ols").set_index("unique_id")["yhat"]
    assert mint["ALL"] == pytest.approx(100.0, abs=0.05)  # ALL kept, the gap goes to a and b
    assert mint["a"] + mint["b"] == pytest.approx(mint["ALL"])
    assert mint["a"] == pytest.approx(50.0, abs=1.0)  # a and b share it (equal variances)
    assert ols["ALL"] == pytest.approx(100 - 20 / 3)

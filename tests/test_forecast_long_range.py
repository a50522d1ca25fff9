"""Long-range (financial-year) projections: short trending series, as the FMS needs them."""

from __future__ import annotations

import numpy as np
import pandas as pd

import mashdemand as md


def test_growing_annual_series_keep_growing_with_honest_intervals():
    rng = np.random.default_rng(3)
    years = pd.date_range("2015-04-01", periods=10, freq="YS-APR")
    rows = []
    for i, hub in enumerate(["a", "b", "c", "d", "e", "f"]):
        level = 2_000 * (i + 1) * 1.04 ** np.arange(10)  # +4% a year, as MASH demand rose
        y = rng.poisson(level * rng.normal(1, 0.01, 10))
        rows.append(pd.DataFrame({"hub": hub, "date": years, "contacts": y}))
    hist = pd.concat(rows, ignore_index=True)
    r = md.forecast(hist, until="2029-03-31", freq="fy", history_freq="fy")
    fc = r.frame
    assert fc["date"].dt.strftime("%Y-%m-%d").unique().tolist() == [
        "2025-04-01",
        "2026-04-01",
        "2027-04-01",
        "2028-04-01",
    ]
    total = fc[fc["hub"] == "ALL"].set_index("date")
    last = hist[hist["date"] == hist["date"].max()]["contacts"].sum()
    # the projection continues the growth (about 4% a year), it does not flatten
    assert total["yhat"].iloc[0] > 1.01 * last
    assert total["yhat"].iloc[-1] > 1.10 * last
    # intervals contain the central projection strictly and widen with the horizon
    assert (total["lo80"] < total["yhat"]).all() and (total["yhat"] < total["hi80"]).all()
    width = (total["hi80"] - total["lo80"]).to_numpy()
    assert (np.diff(width) > 0).all()
    assert "drift" in set(r.weights["model"])

"""The forecaster protocol every model follows (sklearn conventions, statsforecast frames).

Data in and out are long, tidy frames:

- training: ``unique_id, ds, y`` plus any feature columns (calendar, drivers), one row per
  series per period, periods contiguous at the model's ``freq``;
- future features: ``unique_id, ds`` plus the same feature columns, for the ``h`` periods after
  each series' last training period;
- forecasts: ``unique_id, ds, yhat`` plus ``lo<L>, hi<L>`` for each requested level.

``__init__`` stores keywords only; ``fit`` returns ``self``; learned state ends in ``_``;
:func:`clone` gives an unfitted copy with the same parameters (one per backtest cutoff).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

UID, DS, Y, YHAT = "unique_id", "ds", "y", "yhat"
LEVELS: tuple[int, ...] = (80, 95)

# Period codes (CONTRACTS.md --freq) -> pandas offset aliases and the seasonal period.
FREQ_ALIASES: dict[str, str] = {
    "day": "D",
    "week": "W-MON",  # weeks start on Monday (period start dates)
    "month": "MS",
    "quarter": "QS-JAN",
    "year": "YS-JAN",
    "fy": "YS-APR",  # UK financial year, 1 April to 31 March, labelled by its start
}
SEASON_LENGTH: dict[str, int] = {
    "day": 7,
    "week": 52,
    "month": 12,
    "quarter": 4,
    "year": 1,
    "fy": 1,
}


def offset(freq: str) -> pd.DateOffset:
    """The pandas offset for a period code (``day`` ... ``fy``)."""
    return pd.tseries.frequencies.to_offset(FREQ_ALIASES[freq])


def future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` period starts after ``last``.

    >>> list(future_dates(pd.Timestamp("2024-04-01"), 2, "fy").strftime("%Y-%m-%d"))
    ['2025-04-01', '2026-04-01']
    """
    return pd.date_range(last, periods=h + 1, freq=FREQ_ALIASES[freq])[1:]


def interval_columns(level: Sequence[int] = LEVELS) -> list[str]:
    """``['lo80', 'hi80', 'lo95', 'hi95']`` for ``level=(80, 95)``."""
    return [f"{side}{lv}" for lv in level for side in ("lo", "hi")]


class Forecaster:
    """Base class: parameter handling and the shared contract.

    Subclasses implement ``_fit_one`` / ``_predict_one`` (a model per series) or override
    ``fit`` / ``predict`` (a pooled model across series).

    Parameters common to all models
    -------------------------------
    freq : str
        Period code, one of ``FREQ_ALIASES``.
    season_length : int or None
        Seasonal period in periods (default from ``freq``: 7 for days, 12 for months ...).
    """

    #: True when the model uses feature columns (calendar, drivers) beyond ``y``.
    uses_features: bool = False
    #: True when each series is fitted on its own, so a panel cut into parts of whole series,
    #: fitted part by part, gives the same forecasts as one fit (how engines parallelise
    #: it); False for models pooled across series (one fit sees every series).
    per_series: bool = True

    def __init__(self, *, freq: str = "day", season_length: int | None = None) -> None:
        self.freq = freq
        self.season_length = season_length

    # -- sklearn-style parameters -----------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        names: list[str] = []
        for klass in cls.__mro__:
            if "__init__" not in klass.__dict__:
                continue
            sig = inspect.signature(klass.__dict__["__init__"])
            names += [p for p in sig.parameters if p != "self" and p not in names]
            if klass is Forecaster:
                break
        return names

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names() if hasattr(self, k)}

    def set_params(self, **params: Any) -> Self:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def m(self) -> int:
        """Seasonal period in periods."""
        return self.season_length or SEASON_LENGTH[self.freq]

    # -- the protocol ------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> Self:
        """Fit one model per ``unique_id``; returns ``self``."""
        check_training_frame(df)
        self.features_ = [c for c in df.columns if c not in (UID, DS, Y)]
        self.models_: dict[str, Any] = {}
        self.last_ds_: dict[str, pd.Timestamp] = {}
        for uid, g in df.groupby(UID, sort=True):
            g = g.sort_values(DS)
            self.models_[uid] = self._fit_one(g)
            self.last_ds_[uid] = g[DS].iloc[-1]
        return self

    def predict(
        self, h: int, X: pd.DataFrame | None = None, level: Sequence[int] = LEVELS
    ) -> pd.DataFrame:
        """Forecast ``h`` periods after each series' end; returns the forecast frame."""
        self._check_fitted()
        rows = series_rows(X) if X is not None and self.uses_features else None
        out = []
        for uid, state in self.models_.items():
            ds = future_dates(self.last_ds_[uid], h, self.freq)
            Xi = None
            if rows is not None:
                Xi = X.iloc[rows.get(uid, [])].set_index(DS).reindex(ds)
            f = self._predict_one(state, h, ds, Xi, level)
            f.insert(0, DS, ds)
            f.insert(0, UID, uid)
            out.append(f)
        return finish_forecast(pd.concat(out, ignore_index=True), level)

    def _fit_one(self, g: pd.DataFrame) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_") and not hasattr(self, "model_"):
            raise RuntimeError(f"{self.name} is not fitted; call fit() first")


def series_rows(df: pd.DataFrame) -> dict[Any, np.ndarray]:
    """Row positions of each ``unique_id`` in ``df`` (one pass; looking each series up with
    ``df[UID] == uid`` would cost a pass per series, quadratic in the series of a panel)."""
    return {k: np.asarray(v) for k, v in df.groupby(UID, sort=False, observed=True).indices.items()}


def clone(model: Forecaster) -> Forecaster:
    """An unfitted copy with the same parameters."""
    return type(model)(**model.get_params())


def check_training_frame(df: pd.DataFrame) -> None:
    """Raise ValueError unless ``df`` has ``unique_id, ds, y`` and no missing ``y``."""
    missing = [c for c in (UID, DS, Y) if c not in df.columns]
    if missing:
        raise ValueError(
            f"training frame: missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}"
        )
    if df[Y].isna().any():
        raise ValueError("training frame: y has missing values")


def finish_forecast(f: pd.DataFrame, level: Sequence[int] = LEVELS) -> pd.DataFrame:
    """Make a forecast frame honest: counts are never negative and intervals are ordered.

    ``yhat`` is clipped at 0; each interval is clipped at 0 and widened, if needed, to contain
    ``yhat``; a wider level always contains a narrower one.
    """
    f = f.copy()
    f[YHAT] = np.clip(f[YHAT].to_numpy(dtype=float), 0, None)
    prev_lo, prev_hi = f[YHAT].to_numpy(), f[YHAT].to_numpy()
    for lv in sorted(level):
        lo = np.clip(f[f"lo{lv}"].to_numpy(dtype=float), 0, None)
        hi = np.clip(f[f"hi{lv}"].to_numpy(dtype=float), 0, None)
        lo = np.minimum(lo, prev_lo)
        hi = np.maximum(hi, prev_hi)
        f[f"lo{lv}"], f[f"hi{lv}"] = lo, hi
        prev_lo, prev_hi = lo, hi
    return f

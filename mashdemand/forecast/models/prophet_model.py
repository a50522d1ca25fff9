"""Prophet with the series' bank holidays, school holidays and lockdown regressors.

The calendar (England and Wales, Scotland, Northern Ireland or another country; see
:func:`mashdemand.calendar.get_calendar`) comes from the feature columns the model is given
(:func:`~mashdemand.forecast.features.make_features`), so each series follows its own; for
columns the frame lacks, from the model's ``calendar``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mashdemand import calendar
from mashdemand.forecast.base import DS, Forecaster, Y
from mashdemand.forecast.features import (
    BANK_HOLIDAYS,
    IS_BANK_HOLIDAY,
    REBOUND_SHARE,
    SCHOOL_CLOSURE_SHARE,
    SCHOOL_HOLIDAY_SHARE,
    intervention_columns,
)
from mashdemand.forecast.models._common import exog_frame, normal_frame
from mashdemand.threads import single_threaded_fit

#: Yearly Fourier order per period (None: no yearly seasonality).
YEARLY_ORDER: dict[str, int | None] = {
    "day": 10,
    "week": 10,
    "month": 5,
    "quarter": 2,
    "year": None,
    "fy": None,
}
MAX_TRAIN: dict[str, int] = {"day": 4 * 365}
_SHARES = (SCHOOL_HOLIDAY_SHARE, SCHOOL_CLOSURE_SHARE, REBOUND_SHARE)


def holidays_frame(
    start: pd.Timestamp, end: pd.Timestamp, region: str = calendar.DEFAULT_CALENDAR
) -> pd.DataFrame:
    """Prophet ``holidays`` frame of ``region``'s bank holidays (one effect for all).

    Built from :func:`mashdemand.calendar.bank_holidays`; Prophet's
    ``add_country_holidays("UK")`` would miss Easter Monday and the August bank holiday.
    :class:`ProphetModel` fits the same effect as the binary regressor ``is_bank_holiday``
    (see :func:`bank_holiday_regressor`), which follows each series' own calendar.
    """
    days = calendar.bank_holidays(start, end, region)
    return pd.DataFrame({"holiday": "bank_holiday", DS: pd.DatetimeIndex(days).as_unit("ns")})


def bank_holiday_regressor(model: Any) -> None:
    """Add ``is_bank_holiday`` to a Prophet ``model`` as its one holiday effect.

    A 0/1 column, not standardised, with the holidays' prior scale and mode: the same term
    Prophet builds from a one-holiday ``holidays`` frame (:func:`holidays_frame`), but read
    from the features, so the dates are those of the series' calendar.
    """
    model.add_regressor(
        IS_BANK_HOLIDAY,
        prior_scale=model.holidays_prior_scale,
        standardize=False,
        mode=model.holidays_mode,
    )


def _quiet() -> None:
    """Silence cmdstanpy's per-fit INFO lines (its logger is configured on first use)."""
    try:
        from cmdstanpy.utils import get_logger

        get_logger().setLevel(logging.ERROR)
    except ImportError:  # pragma: no cover - older cmdstanpy
        pass
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


@single_threaded_fit
class ProphetModel(Forecaster):
    """Prophet on ``log1p(y)`` with the series' calendar effects.

    * daily data: weekly and yearly seasonality and a bank-holiday effect (the 0/1 column
      ``is_bank_holiday``, a holiday term as in :func:`bank_holiday_regressor`);
      other periods: yearly seasonality of order :data:`YEARLY_ORDER` (none for years) and the
      number of bank holidays as a regressor;
    * regressors: school-holiday share, school-closure share, post-reopening rebound and
      each intervention window, when they vary in the training window (computed from the
      calendar if the frame lacks them);
    * intervals: normal on the log scale with the in-sample residual sd, widened by
      ``sqrt(1 + j / n)`` at step ``j`` (Prophet's own sampling is off for speed,
      ``uncertainty_samples=0``); calibrate them downstream.

    Parameters
    ----------
    freq, season_length : see :class:`~mashdemand.forecast.base.Forecaster`.
    changepoint_prior_scale : float
        Trend flexibility (Prophet's default 0.05).
    seasonality_mode : str
        ``"additive"`` on the log scale (multiplicative on counts).
    max_train : int or None
        Fit on at most this many latest periods (``None``: :data:`MAX_TRAIN`).
    calendar : str
        Calendar (:func:`mashdemand.calendar.get_calendar`) of the columns computed when the
        frames lack them; columns given in the frames always win.
    """

    uses_features = True

    def __init__(
        self,
        *,
        freq: str = "day",
        season_length: int | None = None,
        changepoint_prior_scale: float = 0.05,
        seasonality_mode: str = "additive",
        max_train: int | None = None,
        calendar: str = calendar.DEFAULT_CALENDAR,
    ) -> None:
        super().__init__(freq=freq, season_length=season_length)
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_mode = seasonality_mode
        self.max_train = max_train
        self.calendar = calendar

    def _regressors(self) -> list[str]:
        names = [*_SHARES, *intervention_columns()]
        return [IS_BANK_HOLIDAY, *names] if self.freq == "day" else [BANK_HOLIDAYS, *names]

    def _fit_one(self, g: pd.DataFrame) -> Any:
        from prophet import Prophet

        _quiet()
        limit = self.max_train or MAX_TRAIN.get(self.freq)
        g = g.iloc[-limit:] if limit else g
        ds = pd.DatetimeIndex(g[DS])
        n = len(g)
        ex = exog_frame(g.set_index(DS), ds, self._regressors(), self.freq, calendar=self.calendar)
        varies = [c for c in ex.columns if ex[c].std() > 1e-9]
        daily = self.freq == "day"
        # The daily bank-holiday effect is a holiday term, fitted from any history length.
        holiday = daily and IS_BANK_HOLIDAY in varies
        regs = [c for c in varies if c != IS_BANK_HOLIDAY or not daily] if n >= 24 else []
        yearly = YEARLY_ORDER[self.freq] if n >= 2 * max(self.m, 2) else None
        model = Prophet(
            growth="linear",
            yearly_seasonality=yearly if yearly else False,
            weekly_seasonality=3 if daily else False,
            daily_seasonality=False,
            seasonality_mode=self.seasonality_mode,
            changepoint_prior_scale=self.changepoint_prior_scale,
            n_changepoints=min(25, n // 3) if n >= 24 else 0,
            uncertainty_samples=0,
        )
        if holiday:
            bank_holiday_regressor(model)
        for c in regs:
            model.add_regressor(c, standardize=True)
        regs = [IS_BANK_HOLIDAY, *regs] if holiday else regs
        z = np.log1p(np.clip(g[Y].to_numpy(dtype=float), 0, None))
        train = pd.DataFrame({DS: ds.as_unit("ns"), Y: z})
        for c in regs:
            train[c] = ex[c].to_numpy()
        with warnings.catch_warnings():  # Prophet's own pandas deprecations
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            model.fit(train)
            fitted = model.predict(train)["yhat"].to_numpy()
        sd = float(np.std(z - fitted, ddof=min(1, n - 1)))
        return {"model": model, "regs": regs, "sd": sd, "n": n, "last": ex.iloc[-1]}

    def _predict_one(
        self,
        state: Any,
        h: int,
        ds: pd.DatetimeIndex,
        X: pd.DataFrame | None,
        level: Sequence[int],
    ) -> pd.DataFrame:
        _quiet()
        future = pd.DataFrame({DS: pd.DatetimeIndex(ds).as_unit("ns")})
        ex = exog_frame(
            X, ds, state["regs"], self.freq, fallback=state["last"], calendar=self.calendar
        )
        for c in state["regs"]:
            future[c] = ex[c].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            mean = state["model"].predict(future)["yhat"].to_numpy()
        j = np.arange(1, h + 1)
        return normal_frame(mean, state["sd"] * np.sqrt(1 + j / state["n"]), level, log=True)

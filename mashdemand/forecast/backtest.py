"""Rolling-origin backtests (statsforecast's ``cross_validation``, for our protocol).

For each cutoff a fresh :func:`~mashdemand.forecast.base.clone` of the model is fitted on the
rows with ``ds <= cutoff`` only, then asked for the next ``h`` periods, given the feature columns
(calendar, drivers) of those periods but never their ``y``. The result stacks every window's
forecasts beside the actuals for :func:`~mashdemand.forecast.metrics.evaluate`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from mashdemand.forecast.base import (
    DS,
    FREQ_ALIASES,
    SEASON_LENGTH,
    UID,
    YHAT,
    Forecaster,
    Y,
    check_training_frame,
    clone,
    future_dates,
    interval_columns,
)
from mashdemand.forecast.metrics import CUTOFF, HORIZON, MODEL
from mashdemand.progress import progress_argument
from mashdemand.threads import FIT_THREADS

#: Fewest periods each series should have before the first backtest cutoff, when the history
#: allows: a year of days or weeks (so the yearly shape is learned), two years of months (the
#: seasonal models' own minimum), two of quarters and years.
MIN_TRAIN: dict[str, int] = {"day": 365, "week": 52, "month": 24, "quarter": 8, "year": 2, "fy": 2}
#: The horizon [periods] a backtest backs off to before it trades training span or windows
#: (the former fixed horizons: a quarter of days, 13 weeks, a year of months ...).
SHORT_HORIZON: dict[str, int] = {
    "day": 91,
    "week": 13,
    "month": 12,
    "quarter": 4,
    "year": 2,
    "fy": 2,
}


@dataclass(frozen=True)
class BacktestPlan:
    """A rolling-origin backtest: ``windows`` forecasts ``h`` periods ahead, ``step`` apart.

    Attributes
    ----------
    h : int
        Horizon of every window [periods]; intervals and weights are calibrated to it.
    windows : int
        Number of cutoffs (model fits per series: ``windows + 1`` with the final fit).
    step : int
        Periods between consecutive cutoffs.
    min_train : int
        Training periods the shortest series has before the first cutoff (at least).
    """

    h: int
    windows: int
    step: int
    min_train: int

    def span(self) -> int:
        """Periods the plan needs: training before the first cutoff, then the windows."""
        return self.min_train + self.h + self.step * (self.windows - 1)


def plan_step(h: int, shortest_step: int) -> int:
    """Periods between cutoffs: a quarter of the horizon, at least ``shortest_step``, so
    windows of a long horizon are not near-duplicates.

    >>> plan_step(365, 28), plan_step(92, 28), plan_step(10, 28)
    (91, 28, 10)
    """
    return max(1, min(h, max(shortest_step, h // 4)))


def backtest_plan(
    freq: str, h: int, shortest: int, plan: tuple[int, int, int], min_train: int | None = None
) -> BacktestPlan:
    """The backtest that reaches the horizon asked, as far as the history allows.

    Parameters
    ----------
    freq : str
        Period code (``day``, ``week``, ``month`` ...).
    h : int
        Horizon of the forecast [periods].
    shortest : int
        Periods of history of the shortest series.
    plan : (horizon cap, windows, shortest step)
        :data:`~mashdemand.forecast.api.BACKTEST_PLAN` for ``freq``. The windows are never
        added to (model fits per series = windows + 1).
    min_train : int, optional
        Training periods wanted before the first cutoff (default :data:`MIN_TRAIN`).

    Returns
    -------
    BacktestPlan
        In order of preference: the horizon ``min(h, cap)`` with ``min_train`` periods of
        training and every window, cutoffs :func:`plan_step` apart; else the longest horizon
        down to :data:`SHORT_HORIZON` that fits; else that short horizon with as little
        training as the models need (one season) and every window; else fewer windows (at
        least one). Beyond the plan's horizon the calibrator holds its last bucket.

    Examples
    --------
    >>> backtest_plan("day", 365, 5 * 365, (730, 4, 28))  # five years reach a year ahead
    BacktestPlan(h=365, windows=4, step=91, min_train=365)
    >>> backtest_plan("day", 730, 3 * 365, (730, 4, 28))  # three years: back off the horizon
    BacktestPlan(h=418, windows=4, step=104, min_train=365)
    >>> backtest_plan("day", 92, 150, (730, 4, 28))  # short: less training, fewer windows
    BacktestPlan(h=91, windows=2, step=28, min_train=7)
    """
    cap, windows, shortest_step = plan
    want = max(1, min(h, cap))
    short = min(want, SHORT_HORIZON.get(freq, want))
    least = max(SEASON_LENGTH[freq], 2)
    train = MIN_TRAIN.get(freq, least) if min_train is None else min_train
    for h_bt in range(want, short - 1, -1):
        p = BacktestPlan(h_bt, windows, plan_step(h_bt, shortest_step), train)
        if p.span() <= shortest:
            return p
    p = BacktestPlan(short, windows, plan_step(short, shortest_step), least)
    fit = max(1, min(windows, (shortest - least - short) // p.step + 1))
    return BacktestPlan(short, fit, p.step, least)


def cutoffs(end: pd.Timestamp, h: int, n_windows: int, step: int, freq: str) -> pd.DatetimeIndex:
    """The ``n_windows`` forecast origins, ``step`` periods apart, the last ``h`` before ``end``.

    Parameters
    ----------
    end : Timestamp
        Last observed period start.
    h : int
        Forecast horizon [periods].
    n_windows : int
        Number of windows.
    step : int
        Periods between consecutive cutoffs.
    freq : str
        Period code (``day``, ``week``, ``month`` ...).

    Examples
    --------
    >>> list(cutoffs(pd.Timestamp("2024-01-10"), 2, 3, 2, "day").strftime("%d"))
    ['04', '06', '08']
    """
    if h < 1 or n_windows < 1 or step < 1:
        raise ValueError(f"h, n_windows and step must be >= 1; got {h}, {n_windows}, {step}")
    span = h + step * (n_windows - 1)
    grid = pd.date_range(end=end, periods=span + 1, freq=FREQ_ALIASES[freq])
    return grid[: step * (n_windows - 1) + 1 : step]


def _one_window(
    model: Forecaster,
    df: pd.DataFrame,
    cutoff: pd.Timestamp,
    h: int,
    level: Sequence[int],
    min_train: int,
) -> pd.DataFrame | None:
    features = [c for c in df.columns if c not in (UID, DS, Y)]
    train = df[df[DS] <= cutoff]
    sizes = train.groupby(UID).size()
    short = sorted(set(df[UID].unique()) - set(sizes[sizes >= min_train].index))
    if short:
        shown = ", ".join(map(str, short[:5])) + (" ..." if len(short) > 5 else "")
        warnings.warn(
            f"cutoff {cutoff:%Y-%m-%d}: {len(short)} series with fewer than {min_train} "
            f"periods skipped ({shown})",
            UserWarning,
            stacklevel=3,
        )
        train = train[~train[UID].isin(short)]
    if train.empty:
        return None
    dates = future_dates(cutoff, h, model.freq)
    future = df[df[UID].isin(train[UID].unique()) & (df[DS] > cutoff) & (df[DS] <= dates[-1])]
    X = future[[UID, DS, *features]].reset_index(drop=True) if features else None
    fitted = clone(model).fit(train.reset_index(drop=True))
    fc = fitted.predict(h, X=X, level=level)
    fc = fc.merge(future[[UID, DS, Y]], on=[UID, DS], how="inner")
    fc[CUTOFF] = cutoff
    fc[HORIZON] = pd.Series(range(1, h + 1), index=dates).reindex(fc[DS]).to_numpy()
    return fc


def cross_validation(
    model: Forecaster,
    df: pd.DataFrame,
    h: int,
    n_windows: int = 3,
    step: int | None = None,
    level: Sequence[int] = (80, 95),
    progress: bool = False,
    n_jobs: int = 1,
    min_train: int | None = None,
    show_progress: bool | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of ``model`` on ``df``.

    Parameters
    ----------
    model : Forecaster
        An (unfitted) model; each window fits a fresh clone.
    df : DataFrame
        ``unique_id, ds, y`` [contacts/period] plus feature columns, contiguous periods at
        ``model.freq``.
    h : int
        Forecast horizon [periods].
    n_windows : int
        Number of cutoffs.
    step : int, optional
        Periods between cutoffs (default ``h``: non-overlapping windows).
    level : sequence of int
        Interval levels [%].
    progress : bool
        Show a tqdm bar over cutoffs.
    n_jobs : int
        Parallel worker processes across cutoffs (joblib's loky; 1 runs in process, -1 uses
        all cores). Each fit runs on one native thread (:mod:`mashdemand.threads`).
    min_train : int, optional
        Fewest training periods a series needs at a cutoff (default ``model.m + 1``: one
        season plus one). Shorter series are skipped for that cutoff with a ``UserWarning``.
    show_progress : bool, optional
        Deprecated name of ``progress`` (a ``DeprecationWarning``).

    Returns
    -------
    DataFrame
        ``unique_id, ds, cutoff, horizon, y, yhat, lo<L>, hi<L> ..., model``, one row per series,
        cutoff and forecast period that has an actual. The cutoffs are the last ``n_windows``
        period starts spaced ``step`` apart such that the last window ends on the last observed
        period (of any series); ``horizon`` is 1 for the period right after the cutoff.
    """
    progress = progress_argument(progress, show_progress, "cross_validation")
    check_training_frame(df)
    step = h if step is None else step
    min_train = model.m + 1 if min_train is None else min_train
    df = df.sort_values([UID, DS]).reset_index(drop=True)
    cuts = cutoffs(df[DS].max(), h, n_windows, step, model.freq)
    iterator = cuts
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(cuts, desc=f"backtest {model.name}", unit="cutoff")
    if n_jobs == 1:
        parts = [_one_window(model, df, c, h, level, min_train) for c in iterator]
    else:
        from joblib import Parallel, delayed, parallel_config

        # Processes across cutoffs, one native thread each (mashdemand.threads).
        with parallel_config(backend="loky", inner_max_num_threads=FIT_THREADS):
            parts = Parallel(n_jobs=n_jobs)(
                delayed(_one_window)(model, df, c, h, level, min_train) for c in iterator
            )
    parts = [p for p in parts if p is not None and not p.empty]
    cols = [UID, DS, CUTOFF, HORIZON, Y, YHAT, *interval_columns(level)]
    if not parts:
        warnings.warn("backtest: no window had enough data", UserWarning, stacklevel=2)
        return pd.DataFrame(columns=[*cols, MODEL])
    out = pd.concat(parts, ignore_index=True)[cols]
    out[HORIZON] = out[HORIZON].astype(int)
    out[MODEL] = model.name
    return out.sort_values([UID, CUTOFF, DS]).reset_index(drop=True)

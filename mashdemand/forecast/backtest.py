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
from typing import Any

import pandas as pd

from mashdemand.engine import Engine, Task, current_engine
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


def series_parts(ids: Sequence[str], n_parts: int) -> list[list[str]]:
    """``ids`` (sorted) cut into ``n_parts`` runs of whole series of near-equal size.

    >>> series_parts(["a", "b", "c", "d", "e"], 2)
    [['a', 'b', 'c'], ['d', 'e']]
    """
    ids = sorted(ids)
    n = max(1, min(n_parts, len(ids)))
    size, extra = divmod(len(ids), n)
    out, at = [], 0
    for i in range(n):
        k = size + (1 if i < extra else 0)
        out.append(ids[at : at + k])
        at += k
    return out


def model_parts(model: Forecaster, df: pd.DataFrame, engine: Engine) -> list[pd.DataFrame]:
    """``df`` cut into parts of whole series for ``engine``: one part for a pooled model,
    else about two per worker (a per-series model gives the same forecasts either way)."""
    if not model.per_series:
        return [df]
    ids = df[UID].unique().tolist()
    groups = series_parts(ids, engine.chunks(len(ids)))
    if len(groups) == 1:
        return [df]
    return [df[df[UID].isin(g)] for g in groups]


@dataclass(frozen=True)
class Compact:
    """A frame as shipped to a worker: ``unique_id`` as category codes (a few bytes a row
    instead of a string), restored to ``uid_dtype`` by :meth:`frame` in the task."""

    data: pd.DataFrame
    uid_dtype: object

    @classmethod
    def of(cls, df: pd.DataFrame) -> Compact:
        return cls(df.astype({UID: "category"}), df[UID].dtype)

    def frame(self) -> pd.DataFrame:
        return self.data.astype({UID: self.uid_dtype})


class Shipment:
    """The parts of one frame for one engine, each shipped to the workers once and shared
    by every task (and every candidate model) that uses it.

    Per-series models share the same parts of whole series (:func:`model_parts`); pooled
    models share the whole frame. A companion frame (the future features of the final fits)
    is cut into the same parts by :meth:`future_parts`.
    """

    def __init__(
        self, df: pd.DataFrame, engine: Engine, future: pd.DataFrame | None = None
    ) -> None:
        self.df, self.engine, self.future = df, engine, future
        self._parts: dict[bool, list[tuple[pd.DataFrame, Any]]] = {}
        self._future: dict[bool, list[Any]] = {}

    def parts(self, model: Forecaster) -> list[tuple[pd.DataFrame, Any]]:
        """``(part, reference)`` pairs: the part here, the reference for the tasks."""
        key = bool(model.per_series)
        if key not in self._parts:
            parts = model_parts(model, self.df, self.engine)
            self._parts[key] = [(p, self.engine.share(Compact.of(p))) for p in parts]
        return self._parts[key]

    def future_parts(self, model: Forecaster) -> list[Any]:
        """References to the future rows of each of :meth:`parts`' series, in the same order
        (the whole future when there is one part)."""
        key = bool(model.per_series)
        if key not in self._future:
            parts, fut = self.parts(model), self.future
            if fut is None:
                raise ValueError("this shipment has no future frame")
            cuts = (
                [fut]
                if len(parts) == 1
                else [fut[fut[UID].isin(p[UID].unique())] for p, _ in parts]
            )
            self._future[key] = [self.engine.share(Compact.of(c)) for c in cuts]
        return self._future[key]


def fit_window(
    model: Forecaster,
    part: Compact,
    cutoff: pd.Timestamp,
    h: int,
    level: Sequence[int],
    keep: Sequence[str],
) -> pd.DataFrame | None:
    """One backtest window of one part (a task): a clone of ``model`` fitted on the rows of
    series ``keep`` up to ``cutoff``, its ``h``-period forecast beside the actuals."""
    part = part.frame()
    features = [c for c in part.columns if c not in (UID, DS, Y)]
    mine = part[part[UID].isin(keep)] if len(keep) < part[UID].nunique() else part
    train = mine[mine[DS] <= cutoff]
    if train.empty:
        return None
    dates = future_dates(cutoff, h, model.freq)
    future = mine[(mine[DS] > cutoff) & (mine[DS] <= dates[-1])]
    X = future[[UID, DS, *features]].reset_index(drop=True) if features else None
    fitted = clone(model).fit(train.reset_index(drop=True))
    fc = fitted.predict(h, X=X, level=level)
    fc = fc.merge(future[[UID, DS, Y]], on=[UID, DS], how="inner")
    fc[CUTOFF] = cutoff
    fc[HORIZON] = pd.Series(range(1, h + 1), index=dates).reindex(fc[DS]).to_numpy()
    return fc


#: How much longer a pooled model's fit takes than per-series fits of the same rows (rough,
#: only to start the long tasks first).
POOLED_COST = 4.0


def task_cost(model: Forecaster, part: pd.DataFrame) -> float:
    """Relative run time of fitting ``model`` on ``part`` (rows, pooled fits weighted up)."""
    return float(len(part)) * (1.0 if model.per_series else POOLED_COST)


def _trained(df: pd.DataFrame, cutoff: pd.Timestamp, min_train: int) -> list[str]:
    """The series with at least ``min_train`` periods up to ``cutoff``; a warning names the
    others (skipped for that window)."""
    sizes = df[df[DS] <= cutoff].groupby(UID).size()
    keep = sizes[sizes >= min_train].index.tolist()
    short = sorted(set(df[UID].unique()) - set(keep))
    if short:
        shown = ", ".join(map(str, short[:5])) + (" ..." if len(short) > 5 else "")
        warnings.warn(
            f"cutoff {cutoff:%Y-%m-%d}: {len(short)} series with fewer than {min_train} "
            f"periods skipped ({shown})",
            UserWarning,
            stacklevel=4,
        )
    return keep


def window_tasks(
    model: Forecaster,
    df: pd.DataFrame,
    h: int,
    n_windows: int = 3,
    step: int | None = None,
    level: Sequence[int] = (80, 95),
    min_train: int | None = None,
    engine: Engine | None = None,
    label: str | None = None,
    shipment: Shipment | None = None,
) -> list[Task]:
    """The backtest of :func:`cross_validation` as engine tasks: one per cutoff and part of
    whole series (:func:`model_parts`); :func:`stack_windows` puts their results together.

    ``df`` must be sorted by ``unique_id, ds`` with a fresh index (as :func:`cross_validation`
    makes it). Series too short at a cutoff are left out of that window with a warning.
    ``shipment`` (of ``df``) shares the parts shipped for other models.
    """
    engine = engine or current_engine(1)
    step = h if step is None else step
    min_train = model.m + 1 if min_train is None else min_train
    cuts = cutoffs(df[DS].max(), h, n_windows, step, model.freq)
    shipped = (shipment or Shipment(df, engine)).parts(model)  # sent once, used by every window
    parts = [p for p, _ in shipped]
    name = label or model.name
    tasks = []
    for c in cuts:
        keep = _trained(df, c, min_train)
        if not keep:
            continue
        for part, ref in shipped:
            ids = set(part[UID].unique())
            mine = [u for u in keep if u in ids] if len(parts) > 1 else keep
            if mine:
                what = f"{name} backtest cutoff {c:%d/%m/%Y}: {series_words(mine)}"
                args = (model, ref, c, h, tuple(level), mine)
                tasks.append(Task(fit_window, args, what, task_cost(model, part)))
    return tasks


def series_words(ids: Sequence[str]) -> str:
    """The first few of ``ids`` and how many more, for a task's name.

    >>> series_words(["a", "b", "c", "d", "e"])
    'a, b, c and 2 more series'
    """
    shown = ", ".join(map(str, ids[:3]))
    return shown + (f" and {len(ids) - 3} more series" if len(ids) > 3 else "")


def stack_windows(
    parts: Sequence[pd.DataFrame | None], name: str, level: Sequence[int]
) -> pd.DataFrame:
    """The results of :func:`window_tasks` as one backtest frame (see :func:`cross_validation`)."""
    parts = [p for p in parts if p is not None and not p.empty]
    cols = [UID, DS, CUTOFF, HORIZON, Y, YHAT, *interval_columns(level)]
    if not parts:
        warnings.warn("backtest: no window had enough data", UserWarning, stacklevel=3)
        return pd.DataFrame(columns=[*cols, MODEL])
    out = pd.concat(parts, ignore_index=True)[cols]
    out[HORIZON] = out[HORIZON].astype(int)
    out[MODEL] = name
    return out.sort_values([UID, CUTOFF, DS]).reset_index(drop=True)


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
        Worker processes (1 runs here); ignored inside :func:`mashdemand.engine.use_engine`,
        whose engine runs the windows. Each window of a per-series model is cut into parts
        of whole series, so the work spreads over the workers; each fit runs on one native
        thread (:mod:`mashdemand.threads`).
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
    df = df.sort_values([UID, DS]).reset_index(drop=True)
    engine = current_engine(n_jobs)
    tasks = window_tasks(model, df, h, n_windows, step, level, min_train, engine)
    parts = engine.run(tasks, progress=progress, desc=f"backtest {model.name}")
    return stack_windows(parts, model.name, level)

"""Model adapters behind the forecaster protocol, one file per family, and their registry.

=========  ==========================================================================
name       model
=========  ==========================================================================
snaive     :class:`~.naive.SeasonalNaive`, the baseline
naive      :class:`~.naive.Naive`
drift      :class:`~.naive.Drift`
ets        :class:`~.ets.ETS`, statsmodels ETS(A, Ad, A)
ucm        :class:`~.statespace.UCM`, unobserved components with calendar regressors
prophet    :class:`~.prophet_model.ProphetModel`, the series' calendar and regressors
gbm        :class:`~.gbm.PooledGBM`, one Poisson gradient-boosting model over all series
rate       :class:`~.rate.PooledRate`, contacts per 1,000 population x projected population
=========  ==========================================================================

Heavy libraries (Prophet) are imported only when their model is built. Every model's ``fit``
and ``predict`` run on one native thread (:func:`mashdemand.threads.single_threaded_fit`).

Setting the environment variable ``MASHDEMAND_FAST_MODELS=1`` (:data:`FAST_MODELS_ENV`) leaves
the slow models (:data:`SLOW_MODELS`: gbm, prophet, ucm) out of the *default* candidate sets
(:func:`default_candidates`), for quick runs such as the notebooks in CI; models named
explicitly are always used. Unset (the default), nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

from mashdemand.forecast.base import Forecaster

__all__ = [
    "FAST_MODELS_ENV",
    "MODELS",
    "MODEL_LABELS",
    "SLOW_MODELS",
    "default_candidates",
    "make_model",
    "model_label",
]


def _lazy(module: str, cls: str) -> Callable[..., Forecaster]:
    def build(**kw: Any) -> Forecaster:
        return getattr(import_module(f"{__name__}.{module}"), cls)(**kw)

    build.__name__ = build.__qualname__ = cls
    build.__doc__ = f"Build :class:`mashdemand.forecast.models.{module}.{cls}`."
    return build


#: Model name -> factory taking the model's keyword parameters.
MODELS: dict[str, Callable[..., Forecaster]] = {
    "snaive": _lazy("naive", "SeasonalNaive"),
    "naive": _lazy("naive", "Naive"),
    "drift": _lazy("naive", "Drift"),
    "ets": _lazy("ets", "ETS"),
    "ucm": _lazy("statespace", "UCM"),
    "prophet": _lazy("prophet_model", "ProphetModel"),
    "gbm": _lazy("gbm", "PooledGBM"),
    "rate": _lazy("rate", "PooledRate"),
}


#: What a reader sees for each model name (registry keys, the calendar-adjusted seasonal naive
#: the daily ensemble adds beside the plain one, and the ensemble itself). Files a program reads
#: keep the keys.
MODEL_LABELS: dict[str, str] = {
    "snaive": "Seasonal naive",
    "snaive_adj": "Seasonal naive, calendar-adjusted",
    "naive": "Naive (last value)",
    "drift": "Drift (trend)",
    "ets": "Exponential smoothing (ETS)",
    "ucm": "Unobserved components",
    "prophet": "Prophet",
    "gbm": "Gradient boosting (pooled)",
    "rate": "Population rate (pooled)",
    "ensemble": "Ensemble",
}


def model_label(name: str) -> str:
    """The display name of model ``name``; a name without one is shown as it is.

    >>> model_label("snaive"), model_label("my_model")
    ('Seasonal naive', 'my_model')
    """
    return MODEL_LABELS.get(str(name), str(name))


def make_model(name: str, freq: str = "day", **kw: Any) -> Forecaster:
    """Build the registered model ``name`` for period ``freq`` with parameters ``kw``.

    >>> make_model("snaive", "month")
    SeasonalNaive(freq='month', season_length=None)
    """
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None
    return factory(freq=freq, **kw)


#: Environment variable that, set to ``1``, drops :data:`SLOW_MODELS` from default model sets.
FAST_MODELS_ENV = "MASHDEMAND_FAST_MODELS"
#: Models left out of the default sets under ``MASHDEMAND_FAST_MODELS=1``: the ones whose fit
#: takes seconds per series (gradient boosting, Stan, state space) rather than milliseconds.
SLOW_MODELS: tuple[str, ...] = ("gbm", "prophet", "ucm")


def default_candidates(
    names: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The default model set ``names``, without :data:`SLOW_MODELS` when fast models are asked for.

    The one place :data:`FAST_MODELS_ENV` is read (from ``env``, default ``os.environ``); it
    counts as set when it is ``1``, ``true`` or ``yes``. At least one model is always kept.

    >>> default_candidates(("snaive", "ets", "gbm"), env={})
    ('snaive', 'ets', 'gbm')
    >>> default_candidates(("snaive", "ets", "gbm"), env={"MASHDEMAND_FAST_MODELS": "1"})
    ('snaive', 'ets')
    """
    names = tuple(names)
    flag = (os.environ if env is None else env).get(FAST_MODELS_ENV, "")
    if flag.strip().lower() not in ("1", "true", "yes"):
        return names
    fast = tuple(n for n in names if n not in SLOW_MODELS)
    return fast or names[:1]

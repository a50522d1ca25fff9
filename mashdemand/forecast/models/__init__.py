"""Model adapters behind the forecaster protocol, one file per family, and their registry.

=========  ==========================================================================
name       model
=========  ==========================================================================
snaive     :class:`~.naive.SeasonalNaive`, the baseline
naive      :class:`~.naive.Naive`
drift      :class:`~.naive.Drift`
ets        :class:`~.ets.ETS`, statsmodels ETS(A, Ad, A)
ucm        :class:`~.statespace.UCM`, unobserved components with calendar regressors
prophet    :class:`~.prophet_model.ProphetModel`, England and Wales holidays and regressors
gbm        :class:`~.gbm.PooledGBM`, one Poisson gradient-boosting model over all series
rate       :class:`~.rate.PooledRate`, contacts per 1,000 population x projected population
=========  ==========================================================================

Heavy libraries (Prophet) are imported only when their model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from mashdemand.forecast.base import Forecaster

__all__ = ["MODELS", "make_model"]


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

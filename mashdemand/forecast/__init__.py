"""Forecast stage: protocol (base), models/, features, backtest, metrics, intervals, ensemble,
reconcile, counts, temporal, plots and the :func:`~mashdemand.forecast.api.forecast` entry point.

``mashdemand.forecast`` is one object however it is reached: this package, with its submodules
as attributes (``mashdemand.forecast.models``, imported on first use), and callable as the entry
point, so ``md.forecast(history, until="2026-12-31")`` runs
:func:`mashdemand.forecast.api.forecast`. Python binds a package to its parent's attribute once
any submodule is imported, so a separate function of the same name would be replaced (or
replace the package) depending on import order; a callable package cannot be.

>>> import mashdemand as md
>>> import mashdemand.forecast as f
>>> f is md.forecast and callable(f) and f.models.__name__
'mashdemand.forecast.models'
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# Submodules reachable as attributes before they are imported (``f.models``, ``f.metrics``).
SUBMODULES: tuple[str, ...] = (
    "api",
    "backtest",
    "base",
    "counts",
    "ensemble",
    "features",
    "intervals",
    "metrics",
    "models",
    "plots",
    "reconcile",
    "temporal",
)
# Names of the entry-point module re-exported here (``from mashdemand.forecast import forecast``).
_FROM_API: tuple[str, ...] = (
    "ForecastError",
    "ForecastResult",
    "RefitNeeded",
    "Scenario",
    "forecast",
    "forecast_as_of",
    "refit_needed",
)

__all__ = [*_FROM_API, *SUBMODULES]


class _CallablePackage(types.ModuleType):
    """This package's module type: calling it calls :func:`mashdemand.forecast.api.forecast`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from mashdemand.forecast.api import forecast

        return forecast(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FROM_API:
        return getattr(importlib.import_module(f"{__name__}.api"), name)
    if name == "__signature__":  # inspect.signature(md.forecast), help in notebooks
        import inspect

        return inspect.signature(importlib.import_module(f"{__name__}.api").forecast)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


sys.modules[__name__].__class__ = _CallablePackage

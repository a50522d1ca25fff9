"""Forecast stage: protocol (base), models/, features, backtest, metrics, intervals, ensemble,
reconcile, counts, and the :func:`~mashdemand.forecast.api.forecast` entry point.

``mashdemand.forecast`` is both this package and the entry point: once a submodule is imported
Python binds the package to the name ``mashdemand.forecast``, so the package itself is made
callable and ``md.forecast(history, until=...)`` works either way.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from mashdemand.forecast.api import forecast

        return forecast(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

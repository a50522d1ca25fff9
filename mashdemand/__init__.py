"""mashdemand: demand forecasting and staffing for Multi-Agency Safeguarding Hubs (MASH).

The public API a notebook imports::

    import mashdemand as md
    summary = md.ingest_contacts("export.csv", store="data/mashdemand.duckdb")
    with md.Store("data/mashdemand.duckdb") as st:
        daily = st.daily_counts(by=["source"])
    result = md.forecast(daily, until="2026-12-31")
    plan = md.plan_staffing(result.frame, contacts, md.load_staffing_config())

    with md.use_engine("dask", scheduler="tcp://scheduler:8786"):  # on a cluster
        result = md.forecast(daily, until="2030-03-31")

Names are imported on first use, so a command pays only for the stages it runs.
``md.forecast`` is the :mod:`mashdemand.forecast` package itself, made callable (calling it runs
:func:`mashdemand.forecast.api.forecast`), so it is the same object whichever import came
first. Every error the package raises on purpose is a :class:`MashdemandError`.
"""

from __future__ import annotations

import importlib
from typing import Any

from mashdemand.errors import MashdemandError

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "ForecastResult": "mashdemand.forecast.api",
    "Scenario": "mashdemand.forecast.api",
    "ForecastError": "mashdemand.forecast.api",
    "RefitNeeded": "mashdemand.forecast.api",
    "IngestError": "mashdemand.ingest",
    "IngestSummary": "mashdemand.ingest",
    "ingest_contacts": "mashdemand.ingest",
    "read_table": "mashdemand.ingest",
    "EngineError": "mashdemand.engine",
    "make_engine": "mashdemand.engine",
    "use_engine": "mashdemand.engine",
    "SchemaError": "mashdemand.schema",
    "Store": "mashdemand.store",
    "StoreError": "mashdemand.store",
    "StaffingPlan": "mashdemand.staffing",
    "load_staffing_config": "mashdemand.staffing",
    "plan_staffing": "mashdemand.staffing",
    # the common readers of mashdemand.io, the one module that reads files
    "read_counts": "mashdemand.io",
    "read_population": "mashdemand.io",
    "read_housing": "mashdemand.io",
    "read_establishment": "mashdemand.io",
}
# Stage sub-packages reachable as attributes (``md.staffing.plot_roster_heatmap``). ``forecast``
# is one of them: the package is callable (mashdemand/forecast/__init__.py), so never bind the
# function of the same name here or ``import mashdemand.forecast as f`` would get the function.
_SUBMODULES = (
    "calendar",
    "drivers",
    "engine",
    "errors",
    "forecast",
    "io",
    "plots",
    "report",
    "staffing",
    "style",
)

__all__ = ["MashdemandError", "__version__", "forecast", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"mashdemand.{name}")
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = getattr(module, "load_config" if name == "load_staffing_config" else name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mashdemand' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))

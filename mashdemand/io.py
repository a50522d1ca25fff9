"""Every file mashdemand reads, from one place: ``md.io.read_counts(path)`` and so on.

Each reader checks its file against CONTRACTS.md and raises a one-line
:class:`~mashdemand.errors.MashdemandError` naming the file, row or column when it does not
fit. The readers live beside the code that owns each format; this module is the one public
door to them, and the common ones are also at the top level (``md.read_counts``).

=================================  ==============================================================
reader                             reads
=================================  ==============================================================
``read_contacts(path, mapping)``   a contact-log export (CSV, XLSX, Parquet) as parsed rows,
                                   before ingest's checks (:func:`mashdemand.ingest.read_table`)
``read_counts(path)``              aggregated counts ``hub, date, contacts`` (+ splits) and the
                                   period they are in
``read_population(path)``          ``population.csv`` (CONTRACTS.md section 3)
``read_housing(path)``             ``housing.csv``
``read_establishment(path)``       ``establishment.csv``: ``hub, role, fte`` or ``hub, fte``
``read_school_holidays(path)``     school-holiday ranges ``start, end`` that override the rule
``read_interventions(path)``       intervention windows (lockdowns) as a TOML file
``read_staffing_config(path)``     the staffing TOML (roles, standards, options)
``read_standards(path)``           the service standards alone, from the same TOML
``read_forecast(path)``            a saved forecast record (``ForecastResult.to_json``)
=================================  ==============================================================

Names are imported on first use, so reading a counts file does not import the report code.

>>> import mashdemand as md
>>> md.io.read_counts is md.read_counts
True
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> (module, attribute).
_READERS: dict[str, tuple[str, str]] = {
    "read_contacts": ("mashdemand.ingest", "read_table"),
    "read_counts": ("mashdemand.forecast.counts", "read_counts"),
    "read_population": ("mashdemand.drivers", "read_population"),
    "read_housing": ("mashdemand.drivers", "read_housing"),
    "read_establishment": ("mashdemand.report.fms", "read_establishment"),
    "read_school_holidays": ("mashdemand.calendar", "read_school_holiday_overrides"),
    "read_interventions": ("mashdemand.calendar", "load_interventions"),
    "read_staffing_config": ("mashdemand.staffing.config", "load_config"),
    "read_standards": ("mashdemand.standards", "load_standards"),
    "read_forecast": ("mashdemand.forecast.api", "ForecastResult.from_json"),
}
__all__ = sorted(_READERS)


def __getattr__(name: str) -> Any:
    if name not in _READERS:
        raise AttributeError(f"module 'mashdemand.io' has no attribute {name!r}")
    module, attr = _READERS[name]
    value: Any = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_READERS))

"""mashdemand: demand forecasting and staffing for Multi-Agency Safeguarding Hubs (MASH).

The public API a notebook imports::

    import mashdemand as md
    summary = md.ingest_contacts("export.csv", store="data/mashdemand.duckdb")
    with md.Store("data/mashdemand.duckdb") as st:
        daily = st.daily_counts(by=["source"])
"""

__version__ = "0.1.0"

from mashdemand.forecast.api import ForecastResult, Scenario, forecast  # noqa: E402
from mashdemand.ingest import IngestError, IngestSummary, ingest_contacts, read_table  # noqa: E402
from mashdemand.schema import SchemaError  # noqa: E402
from mashdemand.store import Store, StoreError  # noqa: E402

__all__ = [
    "ForecastResult",
    "IngestError",
    "IngestSummary",
    "SchemaError",
    "Store",
    "StoreError",
    "Scenario",
    "__version__",
    "forecast",
    "ingest_contacts",
    "read_table",
]

"""Reports: the quarterly forecast report and the FMS appendix.

>>> import mashdemand.report as mr
>>> sorted(n for n in mr.__all__ if n.startswith("run"))
['run_fms_appendix', 'run_quarterly']
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "QuarterlyReport": "mashdemand.report.quarterly",
    "ReportError": "mashdemand.report.quarterly",
    "ReportInputs": "mashdemand.report.quarterly",
    "sample_dir": "mashdemand.report.quarterly",
    "build_quarterly": "mashdemand.report.quarterly",
    "run_quarterly": "mashdemand.report.quarterly",
    "write_report": "mashdemand.report.render",
    "render_html": "mashdemand.report.render",
    "FmsAppendix": "mashdemand.report.fms",
    "FmsTable": "mashdemand.report.fms",
    "numbered_tables": "mashdemand.report.fms",
    "check_published": "mashdemand.report.sdc",
    "build_fms_appendix": "mashdemand.report.fms",
    "run_fms_appendix": "mashdemand.report.fms",
    "DisclosureRule": "mashdemand.report.sdc",
    "protect": "mashdemand.report.sdc",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mashdemand.report' has no attribute {name!r}")

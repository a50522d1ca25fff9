"""The Force Management Statement (FMS) appendix for the MASH, as DOCX and XLSX.

An FMS sets out, for each area of demand, the demand now and over the next four years, the
workforce it needs against the workforce the force has, how well the service performs, and the
gap and risk. The appendix is made in three steps:

- data: :func:`build_fms_appendix` (:mod:`~mashdemand.report.fms.build`) reads the store,
  projects demand under each scenario and plans the workforce, then makes each table with a
  pure function of :mod:`~mashdemand.report.fms.tables`;
- words: :mod:`~mashdemand.report.fms.text` writes the paragraphs, assumptions and sources
  from the tables, the staffing config's standards and the disclosure rule;
- writers: :func:`write_docx` and :func:`write_xlsx` number the tables and lay them out.

One build serves both versions: the writers apply statistical disclosure control
(:mod:`mashdemand.report.sdc`) to every table of counts for the published version, and
``internal=True`` writes the unsuppressed version, marked as such. :func:`run_fms_appendix`
does it all and writes either version or both.

Periods: the FMS year ``Y`` reports the last complete financial year ``Y-1``-``Y`` as current
demand and projects ``Y``-``Y+1`` to ``Y+3``-``Y+4``.
"""

from __future__ import annotations

from mashdemand.report.fms.appendix import (
    INTERNAL_BANNER,
    SECTIONS,
    FmsAppendix,
    FmsPeriods,
    FmsTable,
    numbered_tables,
    reader_value,
    role_label,
)
from mashdemand.report.fms.build import (
    DEFAULT_SCENARIOS,
    build_fms_appendix,
    read_establishment,
    scenario_projections,
    workforce_forecast,
)
from mashdemand.report.fms.docx import write_docx
from mashdemand.report.fms.run import run_fms_appendix
from mashdemand.report.fms.tables import PROJECTION_ROUNDING, timeliness
from mashdemand.report.fms.xlsx import write_xlsx

__all__ = [
    "DEFAULT_SCENARIOS",
    "INTERNAL_BANNER",
    "PROJECTION_ROUNDING",
    "SECTIONS",
    "FmsAppendix",
    "FmsPeriods",
    "FmsTable",
    "build_fms_appendix",
    "numbered_tables",
    "read_establishment",
    "reader_value",
    "role_label",
    "run_fms_appendix",
    "scenario_projections",
    "timeliness",
    "workforce_forecast",
    "write_docx",
    "write_xlsx",
]

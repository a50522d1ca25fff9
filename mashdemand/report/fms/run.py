"""Make the FMS appendix files: ingest, build once, write the published and/or internal
version as DOCX and XLSX."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mashdemand.report.fms.appendix import FmsAppendix
from mashdemand.report.fms.build import DEFAULT_SCENARIOS, build_fms_appendix, read_establishment
from mashdemand.report.fms.docx import write_docx
from mashdemand.report.fms.xlsx import write_xlsx
from mashdemand.report.quarterly import ReportInputs, check_report_outputs, snapshot_inputs
from mashdemand.report.sdc import DisclosureRule

__all__ = ["fms_outputs", "run_fms_appendix"]

WRITERS: dict[str, Callable[..., Path]] = {"docx": write_docx, "xlsx": write_xlsx}
"""File format -> writer."""


def fms_outputs(
    out: str | Path, year: int, internal: bool | None = False
) -> dict[str, tuple[Path, str, bool]]:
    """The files the appendix writes: key -> (path, format, internal).

    ``internal=False`` the published version, ``True`` the internal one (``_internal`` in the
    file names), keyed ``docx`` and ``xlsx``; ``None`` both, the internal files keyed
    ``internal_docx`` and ``internal_xlsx``.

    >>> for key, (path, fmt, internal) in fms_outputs("reports", 2026, None).items():
    ...     print(key, path.name, internal)
    docx fms_2026_mash_appendix.docx False
    xlsx fms_2026_mash_appendix.xlsx False
    internal_docx fms_2026_mash_appendix_internal.docx True
    internal_xlsx fms_2026_mash_appendix_internal.xlsx True
    """
    versions = (False, True) if internal is None else (internal,)
    outputs = {}
    for version in versions:
        stem = f"fms_{year}_mash_appendix" + ("_internal" if version else "")
        prefix = "internal_" if internal is None and version else ""
        for fmt in WRITERS:
            outputs[prefix + fmt] = (Path(out) / f"{stem}.{fmt}", fmt, version)
    return outputs


def run_fms_appendix(
    inputs: ReportInputs,
    year: int,
    out: str | Path = "reports",
    *,
    establishment: str | Path | None = None,
    config: str | Path | None = None,
    scenarios: Sequence[str] = DEFAULT_SCENARIOS,
    rule: DisclosureRule | None = None,
    internal: bool | None = False,
    n_jobs: int = 2,
    progress: bool = False,
    models: Sequence[str] | None = None,
) -> tuple[FmsAppendix, dict[str, Path]]:
    """Ingest any exports into the store, build the appendix once and write
    ``<out>/fms_<year>_mash_appendix[_internal].docx`` and ``.xlsx``.

    Parameters
    ----------
    internal : bool or None
        ``False`` the published version (disclosure control applied), ``True`` the internal
        one, ``None`` both from the one build.

    Returns
    -------
    tuple
        The appendix and the paths written, keyed as :func:`fms_outputs`.
        ``facts["suppressed_cells"]`` counts the cells suppressed in what was written: none
        when only the internal version is.
    """
    from mashdemand.drivers import read_housing, read_population
    from mashdemand.report.render import close_figures
    from mashdemand.staffing import load_config

    outputs = fms_outputs(out, year, internal)
    check_report_outputs([p for p, _, _ in outputs.values()], inputs, also=[establishment, config])
    cfg = load_config(config)
    pop = read_population(inputs.population) if inputs.population else None
    hou = read_housing(inputs.housing) if inputs.housing else None
    est = read_establishment(establishment) if establishment else None
    # The appendix reads an in-memory copy: ingest and readers are not blocked meanwhile.
    with snapshot_inputs(inputs) as snap:
        app = build_fms_appendix(
            snap,
            year,
            counts=inputs.counts,
            population=pop,
            housing=hou,
            establishment=est,
            scenarios=scenarios,
            staffing_config=cfg,
            rule=rule,
            n_jobs=n_jobs,
            progress=progress,
            models=models,
        )
    if internal is True:
        app.facts["suppressed_cells"] = 0
    paths = {
        key: WRITERS[fmt](app, path, internal=version)
        for key, (path, fmt, version) in outputs.items()
    }
    close_figures(app.figures)
    return app, paths

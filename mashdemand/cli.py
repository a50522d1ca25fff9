"""The ``mashdemand`` command line: a thin Typer wrapper over importable functions.

Every command explains itself with ``--help``. Bad input gives one line on stderr naming the
file, row or column, and exit code 2; an unexpected failure gives one line and exit code 1.
Never a traceback.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from mashdemand.cli_store import store_app
from mashdemand.staffing import defaults as staffing_defaults
from mashdemand.store import DEFAULT_STORE

app = typer.Typer(
    name="mashdemand",
    help="Forecast MASH demand and turn it into staffing recommendations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

report_app = typer.Typer(
    help="Reports: the quarterly forecast report.", no_args_is_help=True, add_completion=False
)
app.add_typer(report_app, name="report")
app.add_typer(store_app, name="store")

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the package's own errors into one line on stderr and their exit code.

    Every error the package raises on purpose derives from
    :class:`~mashdemand.errors.MashdemandError`: bad input exits 2, a failure that is not the
    input's fault (``RenderError``) exits 1, each as its ``exit_code`` says. A missing file is
    bad input too. A stop signal (``Interrupted``) passes through to :func:`main`, which exits
    128 + the signal number.
    """
    from mashdemand.errors import MashdemandError
    from mashdemand.safety import Interrupted

    try:
        yield
    except Interrupted:
        raise
    except (MashdemandError, FileNotFoundError) as exc:
        typer.echo(f"mashdemand: error: {_one_line(exc)}", err=True)
        raise typer.Exit(getattr(exc, "exit_code", EXIT_BAD_INPUT)) from None


# --wait, for scheduled jobs that may meet another mashdemand process using the store.
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="Wait up to SECONDS for another mashdemand process to release the store.",
    ),
]


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Contact-log exports: .csv, .xlsx, .parquet; a folder means every export in it."
        ),
    ],
    store: Annotated[
        Path, typer.Option(help="The DuckDB store (created if missing).")
    ] = DEFAULT_STORE,
    mapping: Annotated[
        Path | None,
        typer.Option(help='Column-mapping TOML: [columns] canonical = "Export Name".'),
    ] = None,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="Write the ingest summary as JSON here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    wait: WaitOpt = 0,
) -> None:
    """Load contact logs into the store: dedupe on contact_id, quarantine unusable rows.

    Columns outside the contract (names, dates of birth, NHS numbers...) are dropped before
    anything is stored; only their names are listed in the summary. The run is stored whole
    or not at all: Ctrl-C, a kill or a full disk leaves the store as it was. A folder stands
    for every .csv, .txt, .xlsx and .parquet file directly in it, in name order; files are read
    one at a time, so memory does not grow with their number.
    """
    from mashdemand.ingest import ingest_contacts

    with _user_errors():
        _check_ingest_paths(paths, store, summary_json)
        summary = ingest_contacts(paths, store=store, mapping=mapping, wait=wait)
        if summary_json is not None:
            summary.to_json(summary_json)
    if not quiet:
        typer.echo(format_summary(summary.to_dict()))


def _check_ingest_paths(paths: list[Path], store: Path, summary_json: Path | None) -> None:
    """Refuse, before anything is read, an input that is the store and a summary path that
    would overwrite the store or an input."""
    from mashdemand.safety import UnsafePathError, check_outputs, same_file

    for p in paths:
        if same_file(p, store):
            raise UnsafePathError(f"{p} is the store (--store {store}); name a contact-log export")
    check_outputs([summary_json], store=store, inputs=paths, names=["--summary-json"])


def format_summary(s: dict) -> str:
    """Human-readable ingest summary (a few lines)."""
    lines = [
        f"store {s['store']}: read {s['rows_read']:,} rows; accepted {s['rows_accepted']:,}, "
        f"duplicate {s['rows_duplicate']:,}, quarantined {s['rows_quarantined']:,} "
        f"(of which conflicts {s['rows_conflict']:,})",
    ]
    if s["min_received_at"]:
        lines.append(f"accepted contacts received {s['min_received_at']} to {s['max_received_at']}")
    for reason, n in s["quarantine_reasons"].items():
        lines.append(f"  quarantined: {reason}: {n:,}")
    if s["dropped_columns"]:
        lines.append(f"dropped columns (not stored): {', '.join(s['dropped_columns'])}")
    mapped = {k: v for k, v in s.get("values_mapped_to_other", {}).items() if v}
    for col, n in mapped.items():
        lines.append(f"  {col}: {n:,} unknown values recorded as 'other'")
    return "\n".join(lines)


EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the parallel work runs: local (--jobs worker processes here) or dask "
        "(a Dask cluster: --scheduler's, else a local one of --jobs workers).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Address of an existing Dask scheduler (tcp://host:8786); --engine dask only.",
    ),
]


def _engine(engine: str, jobs: int, scheduler: str | None):
    """The ``use_engine`` block of a command's ``--engine``, ``--jobs`` and ``--scheduler``."""
    from mashdemand.engine import use_engine

    return use_engine(engine, n_jobs=jobs, scheduler=scheduler)


@app.command()
def forecast(
    until: Annotated[str, typer.Option(help="Last day to forecast (YYYY-MM-DD or DD/MM/YYYY).")],
    out: Annotated[Path, typer.Option(help="Forecast CSV to write (CONTRACTS.md columns).")],
    contacts: Annotated[
        list[Path] | None, typer.Option(help="Contact-log exports (repeat the option).")
    ] = None,
    counts: Annotated[Path | None, typer.Option(help="Aggregated counts CSV.")] = None,
    store: Annotated[Path | None, typer.Option(help="A store filled by ingest.")] = None,
    population: Annotated[Path | None, typer.Option(help="population.csv driver.")] = None,
    housing: Annotated[Path | None, typer.Option(help="housing.csv driver.")] = None,
    freq: Annotated[
        str | None,
        typer.Option(help="day, week, month, quarter, year or fy; default the history's own."),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Split each hub by priority, source and/or subject.")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="e.g. high or growth:risk_identification=0.05,population_variant=high"),
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="Comma-separated candidates, e.g. snaive,ets,gbm,prophet.")
    ] = None,
    backtest: Annotated[
        bool, typer.Option("--backtest/--no-backtest", help="Rolling-origin backtest.")
    ] = True,
    jobs: Annotated[int, typer.Option("--jobs", help="Parallel workers.")] = 1,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    reconciliation: Annotated[
        str,
        typer.Option(help="auto (chosen by backtest), bottom_up, ols, wls_struct or mint_shrink."),
    ] = "auto",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also save the versioned forecast record.")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="Column mapping for --contacts.")] = None,
    calendar: Annotated[
        str,
        typer.Option(
            help="Bank holidays and school terms: england-and-wales, scotland, "
            "northern-ireland or a country code (FR, IE); per hub as hub=calendar,hub=calendar."
        ),
    ] = "england-and-wales",
) -> None:
    """Forecast contacts per hub (and the force total ALL) to --until, with intervals.

    Writes hub, date, yhat, lo80, hi80, lo95, hi95 (+ one column per --by dimension), from the
    first period after the history; ALL equals the sum of the hubs.
    """
    import pandas as pd

    from mashdemand.forecast.api import forecast as run_forecast
    from mashdemand.forecast.api import load_history, period_name

    with _user_errors(), _engine(engine, jobs, scheduler):
        from mashdemand.safety import check_outputs

        check_outputs(
            [out, json_out],
            store=store,
            inputs=[*(contacts or ()), *(p for p in (counts, population, housing, mapping) if p)],
            names=["--out", "--json"],
        )
        end = _parse_day(until)
        if freq is not None:
            freq = period_name(freq, "--freq")  # daily, monthly... accepted as in the library
        from mashdemand.calendar import calendar_choice

        calendars = calendar_choice(calendar, "--calendar")  # before the history is read
        dims = [d.strip() for d in by.split(",")] if by else []
        history, history_freq = load_history(
            contacts=contacts or None, counts=counts, store=store, by=dims, mapping=mapping
        )
        from mashdemand.drivers import read_housing, read_population

        pop = read_population(population) if population else None
        hou = read_housing(housing) if housing else None
        result = run_forecast(
            history,
            until=end,
            freq=freq,
            history_freq=history_freq,
            by=dims,
            population=pop,
            housing=hou,
            scenario=scenario,
            calendar=calendars,
            models=[m.strip() for m in models.split(",")] if models else None,
            backtest=backtest,
            n_jobs=jobs,
            reconciliation=reconciliation,
            progress=True,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = result.frame.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    from mashdemand.cells import to_csv  # no live formulas in a file people open

    to_csv(frame, out, index=False)
    if json_out is not None:
        result.to_json(json_out)
    typer.echo(
        f"wrote {out}: {frame['hub'].nunique() - 1} hub(s) + ALL, {len(frame):,} rows, "
        f"{result.freq} periods {frame['date'].min()} to {frame['date'].max()} "
        f"({result.seconds:.0f} s)"
    )
    if result.backtest is not None:
        typer.echo("backtest (rolling origin, out of sample), pooled over series:")
        typer.echo(format_backtest(result.backtest.overall))


@app.command()
def staffing(
    forecast_csv: Annotated[
        Path, typer.Option("--forecast", help="Forecast CSV from `mashdemand forecast`.")
    ],
    out: Annotated[
        Path, typer.Option(help="staffing.csv to write (one row per hub/quarter/option).")
    ],
    store: Annotated[
        Path | None, typer.Option(help="Store with record-level contacts (arrival profiles).")
    ] = None,
    contacts: Annotated[
        list[Path] | None, typer.Option(help="Contact-log exports instead of a store (repeat).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="staffing.toml; default the shipped, sourced defaults.")
    ] = None,
    roster_out: Annotated[
        Path | None, typer.Option("--roster-out", help="roster.csv: staff on duty by hour.")
    ] = None,
    cover_out: Annotated[
        Path | None, typer.Option("--cover-out", help="Weekend and bank-holiday cover CSV.")
    ] = None,
    options: Annotated[
        str | None, typer.Option(help="Comma-separated option names from the config (default all).")
    ] = None,
    quantile: Annotated[
        float, typer.Option(help="Planning quantile of the forecast.")
    ] = staffing_defaults.QUANTILE,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Re-simulate the recommended rosters with fresh random arrivals.",
        ),
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed for the re-simulation.")] = staffing_defaults.SEED,
    jobs: Annotated[
        int, typer.Option("--jobs", help="Worker processes.")
    ] = staffing_defaults.N_JOBS,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    mapping: Annotated[Path | None, typer.Option(help="Column mapping for --contacts.")] = None,
) -> None:
    """Staff, rosters and operating hours that meet the MASH timeliness standards.

    Spreads the forecast over the hour of week by each hub's own history, plans at the given
    quantile, finds the smallest roster meeting every target for each hub, quarter and option,
    converts it to FTE by role and recommends the cheapest option. Writes staffing.csv (hub,
    quarter, option, contacts, workload_hours, fte_required, recommended, within_<priority>,
    ...) and optionally roster.csv (hub, quarter, option, day_type, hour, staff).
    """
    from mashdemand.staffing import load_config, load_contacts, plan_staffing
    from mashdemand.staffing.config import StaffingError

    with _user_errors(), _engine(engine, jobs, scheduler):
        from mashdemand.safety import check_outputs

        check_outputs(
            [out, roster_out, cover_out],
            store=store,
            inputs=[forecast_csv, *(contacts or ()), *(p for p in (config, mapping) if p)],
            names=["--out", "--roster-out", "--cover-out"],
        )
        if not 0.5 <= quantile < 1:
            raise StaffingError(f"--quantile {quantile}: choose a value from 0.5 to 0.99")
        fc = _read_forecast_csv(forecast_csv)
        cfg = load_config(config)
        if options:
            cfg = cfg.with_options([o.strip() for o in options.split(",") if o.strip()])
        recs = load_contacts(paths=contacts or None, store=store, mapping=mapping)
        plan = plan_staffing(
            fc, recs, cfg, quantile=quantile, seed=seed, n_jobs=jobs, progress=True
        )
        plan.to_csv(out, roster_out)
        if cover_out is not None:
            cover_out.parent.mkdir(parents=True, exist_ok=True)
            from mashdemand.cells import to_csv

            to_csv(plan.weekend_cover, cover_out, index=False)
        checked = plan.verify(n_jobs=jobs) if verify else None
    typer.echo(format_staffing(plan.summary, checked))
    typer.echo(f"wrote {out}" + (f" and {roster_out}" if roster_out else ""))


def _read_forecast_csv(path: Path):
    """The forecast CSV, checked (columns, dates, values) with errors naming the file."""
    import pandas as pd

    from mashdemand.staffing.arrivals import validate_forecast
    from mashdemand.staffing.config import StaffingError

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        fc = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise StaffingError(f"{path}: not a forecast CSV ({_one_line(exc)})") from None
    return validate_forecast(fc, where=str(path))


def format_staffing(summary, checked=None) -> str:
    """Recommended option and FTE per hub for each quarter, as printed by the command."""
    rec = summary[summary["recommended"]]
    lines = [
        "quarter  hub                      option             FTE   urgent  high  medium  standard"
    ]
    for r in rec.sort_values(["quarter", "hub"]).itertuples():
        lines.append(
            f"{r.quarter:<8} {r.hub:<24} {r.option:<16} {r.fte_required:6.1f}   "
            f"{r.within_urgent:5.1%} {r.within_high:5.1%} {r.within_medium:6.1%} "
            f"{r.within_standard:7.1%}"
        )
    tot = rec.groupby("quarter")["fte_required"].sum()
    lines.append("force FTE (recommended): " + ", ".join(f"{q} {v:.1f}" for q, v in tot.items()))
    if checked is not None and len(checked):
        met = int(checked["met"].sum())
        lines.append(
            f"re-simulated with fresh random arrivals: {met}/{len(checked)} hub-quarters meet "
            "every target"
        )
    return "\n".join(lines)


def format_backtest(overall) -> str:
    """The backtest's overall table as aligned text (one row per model)."""
    cols = [
        c
        for c in ("model", "n", "mase", "rmsse", "rel_bias", "coverage80", "coverage95")
        if c in overall.columns
    ]
    return overall[cols].round(3).to_string(index=False)


def _parse_day(text: str):
    import pandas as pd

    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return pd.to_datetime(text, format=fmt)
        except ValueError:
            continue
    from mashdemand.forecast.api import ForecastError

    raise ForecastError(f"--until {text!r}: use YYYY-MM-DD or DD/MM/YYYY")


@app.command()
def summary(
    store: Annotated[Path, typer.Option(help="The DuckDB store.")] = DEFAULT_STORE,
    wait: WaitOpt = 0,
) -> None:
    """Summarise the store: contacts per hub and month span, quarantine by reason."""
    from mashdemand.store import Store

    with _user_errors(), Store(store, read_only=True, wait=wait) as st:
        typer.echo(st.overview_text())


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder to write the sample force into.")] = Path(
        "data/sample"
    ),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 20170101,
    end: Annotated[
        str | None,
        typer.Option(help="Last day (YYYY-MM-DD); default: end of the latest complete quarter."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Also write the whole force as contacts_full.csv.")
    ] = False,
    hubs: Annotated[
        int | None,
        typer.Option(
            "--hubs",
            min=1,
            help="Write a nation of N hubs instead: the nine Thames Valley hubs, then synthetic "
            "ones (synthetic-010, ...) of varied size and growth; one contact log per hub in "
            "OUT/contacts, population.csv and hubs.csv.",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="With --hubs: contact logs as csv or parquet (default)."),
    ] = None,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2017-01-01",
) -> None:
    """Generate the synthetic Thames Valley force (9 hubs, January 2017 onwards), or with
    --hubs N a nation of N hubs written one hub at a time."""
    from mashdemand.sample import SampleError, write_nation, write_sample

    with _user_errors():
        if hubs is None:
            if fmt is not None:
                raise SampleError("--format needs --hubs (the default sample's formats are fixed)")
            written = write_sample(out, seed=seed, start=start, end=end, full=full, progress=True)
        else:
            if full:
                raise SampleError("--full is for the default sample, not with --hubs")
            written = write_nation(
                out, hubs, seed=seed, fmt=fmt or "parquet", start=start, end=end, progress=True
            )
    for name, path in written.items():
        typer.echo(f"wrote {name}: {path}")


# Options shared by the report commands (same meaning, same help).
StoreOpt = Annotated[
    Path | None,
    typer.Option(help="Store (contacts and the forecast archive); default data/mashdemand.duckdb."),
]
ReportContactsOpt = Annotated[
    list[Path] | None,
    typer.Option("--contacts", help="Contact-log exports to ingest into the store first (repeat)."),
]
CountsOpt = Annotated[
    Path | None, typer.Option(help="Daily counts CSV for hubs without record-level logs.")
]
PopulationOpt = Annotated[Path | None, typer.Option(help="population.csv driver.")]
HousingOpt = Annotated[Path | None, typer.Option(help="housing.csv driver.")]
ConfigOpt = Annotated[
    Path | None, typer.Option(help="staffing.toml; default the shipped, sourced defaults.")
]
SampleOpt = Annotated[
    bool,
    typer.Option(
        "--sample",
        help="Use the synthetic nine-hub sample force: data/sample in a checkout, else made "
        "once in the cache folder (MASHDEMAND_CACHE).",
    ),
]
JobsOpt = Annotated[int, typer.Option("--jobs", help="Worker processes.")]
MappingOpt = Annotated[Path | None, typer.Option(help="Column mapping for --contacts.")]


def _report_inputs(sample, store, contacts, counts, population, housing, mapping):
    """Where a report's data come from: ``--sample`` or the user's store, exports and files."""
    from mashdemand.report.quarterly import ReportError, ReportInputs

    if sample:
        if contacts or counts:
            raise ReportError("--sample uses data/sample; leave out --contacts and --counts")
        return ReportInputs.sample(store)
    if not contacts and store is None:
        raise ReportError("give --store, --contacts or --sample")
    return ReportInputs(
        store=store or DEFAULT_STORE,
        contacts=tuple(contacts or ()),
        counts=counts,
        population=population,
        housing=housing,
        mapping=mapping,
    )


def _warn_left_out(left_out: list[dict] | None) -> None:
    """One warning line on stderr naming the hubs a report left out (too little history)."""
    if left_out:
        from mashdemand.report.quarterly import left_out_text

        typer.echo(f"mashdemand: warning: {left_out_text(left_out)}", err=True)


@report_app.command("quarterly")
def report_quarterly(
    out: Annotated[Path, typer.Option(help="Folder for the HTML, PDF and CSV tables.")] = Path(
        "reports"
    ),
    quarter: Annotated[
        str | None,
        typer.Option(help="Calendar quarter, e.g. 2026Q3; default the last complete one."),
    ] = None,
    store: StoreOpt = None,
    contacts: ReportContactsOpt = None,
    counts: CountsOpt = None,
    population: PopulationOpt = None,
    housing: HousingOpt = None,
    config: ConfigOpt = None,
    scenario: Annotated[
        str | None,
        typer.Option(help="Forecast scenario, e.g. high or growth:risk_identification=0.05"),
    ] = None,
    sample: SampleOpt = False,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")] = True,
    archive: Annotated[
        bool,
        typer.Option("--archive/--no-archive", help="Archive this run's forecast in the store."),
    ] = True,
    jobs: JobsOpt = 2,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """The quarterly forecast report: last quarter's demand, the forecast, staffing, data quality.

    Writes OUT/mash_quarterly_<quarter>.html (self-contained), .pdf, .json (headline figures)
    and the tables as CSV in OUT/mash_quarterly_<quarter>_tables/. Each run archives its
    forecast in the store, once the report is written, so the next quarter's report can compare
    it with what happened. The report works on a copy of the store: summary and ingest can use
    the store meanwhile. Hubs with too little history (under 14 days or 14 contacts) are left
    out and named in the notes and on stderr.
    """
    from mashdemand.report.quarterly import run_quarterly
    from mashdemand.report.render import RenderError

    with _user_errors(), _engine(engine, jobs, scheduler):
        inputs = _report_inputs(sample, store, contacts, counts, population, housing, mapping)
        try:
            report, paths = run_quarterly(
                inputs,
                out,
                quarter=quarter,
                config=config,
                scenario=scenario,
                pdf=pdf,
                archive=archive,
                n_jobs=jobs,
                progress=True,
            )
        except RenderError as exc:
            typer.echo(f"mashdemand: error: {_one_line(exc)}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
    _warn_left_out(report.facts.get("left_out"))
    f = report.facts
    typer.echo(
        f"{report.label}: {f['quarter_contacts']:,} contacts "
        f"({f['change_on_year_pct']:+.1f}% on the year); "
        f"{f['first_plan_quarter']} FTE {f['force_fte']:.1f} recommended vs "
        f"{f['force_baseline_fte']:.1f} on today's hours; {f['met']}/{f['checked']} "
        f"hub-quarters meet every target ({report.seconds:.0f} s)"
    )
    for kind in ("html", "pdf", "json", "tables"):
        if kind in paths:
            typer.echo(f"wrote {paths[kind]}")


@app.command("fms-appendix")
def fms_appendix(
    year: Annotated[int, typer.Option(help="FMS year: current demand is FY YEAR-1 to YEAR.")],
    out: Annotated[Path, typer.Option(help="Folder for the DOCX and XLSX.")] = Path("reports"),
    store: StoreOpt = None,
    contacts: ReportContactsOpt = None,
    counts: CountsOpt = None,
    population: PopulationOpt = None,
    housing: HousingOpt = None,
    establishment: Annotated[
        Path | None, typer.Option(help="CSV hub, role, fte: the funded posts (establishment).")
    ] = None,
    config: ConfigOpt = None,
    scenarios: Annotated[
        str | None,
        typer.Option(
            help="Semicolon-separated scenarios, first = principal; default "
            "principal;low;high;risk_growth:risk_identification=0.05"
        ),
    ] = None,
    disclosure: Annotated[
        Path | None,
        typer.Option(
            help="TOML with a \\[disclosure] table (low, high, secondary, suppress_zeros)."
        ),
    ] = None,
    internal: Annotated[
        bool,
        typer.Option("--internal", help="Unsuppressed internal version (not for publication)."),
    ] = False,
    sample: SampleOpt = False,
    jobs: JobsOpt = 2,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """The Force Management Statement appendix for the MASH, as DOCX and XLSX.

    Current demand, demand over the next four financial years with scenarios and drivers,
    workforce required against establishment, performance against the timeliness standards,
    the gap and risk, assumptions and sources. Published tables suppress counts 1-5 (\\[c]) and
    whatever would reveal them; --internal writes the unsuppressed version.
    """
    import tomllib

    from mashdemand.report.fms import DEFAULT_SCENARIOS, run_fms_appendix
    from mashdemand.report.quarterly import ReportError
    from mashdemand.report.sdc import DisclosureRule

    with _user_errors(), _engine(engine, jobs, scheduler):
        inputs = _report_inputs(sample, store, contacts, counts, population, housing, mapping)
        if sample and establishment is None and inputs.population is not None:
            establishment = inputs.population.parent / "establishment.csv"
        rule = None
        if disclosure is not None:
            if not disclosure.exists():
                raise FileNotFoundError(f"{disclosure}: no such file")
            try:
                doc = tomllib.loads(disclosure.read_text(encoding="utf-8"))
                rule = DisclosureRule.from_mapping(doc.get("disclosure", {}))
            except (tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
                raise ReportError(f"{disclosure}: {_one_line(exc)}") from None
        scen = [s.strip() for s in scenarios.split(";") if s.strip()] if scenarios else None
        app_, paths = run_fms_appendix(
            inputs,
            year,
            out,
            establishment=establishment,
            config=config,
            scenarios=scen or DEFAULT_SCENARIOS,
            rule=rule,
            internal=internal,
            n_jobs=jobs,
            progress=True,
        )
    _warn_left_out(app_.facts.get("left_out"))
    f = app_.facts
    typer.echo(
        f"FMS {year}: {f['current_fy']} {f['current_contacts']:,.0f} contacts; projected "
        + ", ".join(f"{k} {v:,.0f}" for k, v in f["projection"].items())
        + "; FTE required "
        + ", ".join(f"{k} {v:.1f}" for k, v in f["fte_required"].items())
        + f"; {f['suppressed_cells']} cell(s) suppressed ({app_.seconds:.0f} s)"
    )
    for p in paths.values():
        typer.echo(f"wrote {p}")


def unwrap_help(text: str) -> str:
    r"""A docstring's paragraphs with their hard line breaks removed, for ``--help``.

    Typer keeps single line breaks inside a paragraph, so a docstring wrapped at 95 columns
    breaks mid-sentence on an 80-column terminal. Joining each paragraph's lines lets the
    terminal wrap it; lines that start a list item (``-`` or ``*``) keep their own line.

    >>> unwrap_help("Short line.\n\nA paragraph\nwrapped by hand.\n- one\n- two")
    'Short line.\n\nA paragraph wrapped by hand.\n- one\n- two'
    """
    out = []
    for para in inspect.cleandoc(text).split("\n\n"):
        lines: list[str] = []
        for line in para.splitlines():
            item = line.lstrip().startswith(("- ", "* "))
            if lines and not item:
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.strip())
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _unwrap_command_help(*apps: typer.Typer) -> None:
    """Give every command of ``apps`` its docstring as unwrapped ``--help`` text."""
    for a in apps:
        for info in a.registered_commands:
            text = info.help or (info.callback.__doc__ if info.callback else None)
            if text:
                info.help = unwrap_help(text)


def main() -> None:
    """Console-script entry point: run the app; any unexpected error becomes one line.

    Everything the command writes (store, WAL, summaries, reports, charts) is created
    readable by the user only (files ``0600``, folders ``0700``), whatever the umask: it is
    safeguarding data.
    """
    import click

    from mashdemand.errors import MashdemandError
    from mashdemand.safety import PRIVATE_UMASK, Interrupted

    os.umask(PRIVATE_UMASK)
    try:
        rv = app(standalone_mode=False)
    except Interrupted as exc:  # the ingest rolled back (or had just committed) first
        typer.echo(f"mashdemand: {_one_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        typer.echo("mashdemand: interrupted", err=True)
        sys.exit(130)
    except MashdemandError as exc:  # raised outside a command's _user_errors block
        typer.echo(f"mashdemand: error: {_one_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the CLI promises no traceback
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage errors: click's message
            exc.show()
            sys.exit(exc.exit_code)
        typer.echo(f"mashdemand: error: {type(exc).__name__}: {_one_line(exc)}", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


_unwrap_command_help(app, report_app, store_app)

if __name__ == "__main__":
    main()

"""The quarterly report and the FMS appendix, end to end on two sample hubs (fast models).

One store serves every test: the report for 2026Q2 runs first and archives its forecast; the
report for 2026Q3 must then judge that archived forecast against what happened.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from mashdemand.cli import app
from mashdemand.report.fms import (
    INTERNAL_BANNER,
    FmsAppendix,
    FmsTable,
    numbered_tables,
    run_fms_appendix,
    timeliness,
    write_docx,
    write_xlsx,
)
from mashdemand.report.quarterly import ReportError, ReportInputs, run_quarterly
from mashdemand.report.sdc import SUPPRESSED, DisclosureRule, check_published
from mashdemand.report.sections import SECTIONS
from mashdemand.store import Store

FAST = ["snaive", "ets"]
HUBS = ["contacts_slough.parquet", "contacts_bracknell-forest.parquet"]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("report")


@pytest.fixture(scope="module")
def inputs(work) -> ReportInputs:
    return ReportInputs(
        store=work / "store.duckdb",
        contacts=tuple(SAMPLE / h for h in HUBS),
        population=SAMPLE / "population.csv",
        housing=SAMPLE / "housing.csv",
    )


@pytest.fixture(scope="module")
def q2(inputs, work):
    return run_quarterly(inputs, work / "q2", quarter="2026Q2", models=FAST, pdf=False)


@pytest.fixture(scope="module")
def q3(q2, inputs, work):
    return run_quarterly(inputs, work / "q3", quarter="2026Q3", models=FAST)


def stored_count(store: Path, hub: str | None, lo: str, hi: str) -> int:
    with Store(store, read_only=True) as st:
        sql = "SELECT count(*) FROM contacts WHERE received_date BETWEEN ? AND ?"
        params: list = [pd.Timestamp(lo).date(), pd.Timestamp(hi).date()]
        if hub:
            sql += " AND hub = ?"
            params.append(hub)
        return int(st.scalar(sql, params))


# --- the quarterly report -------------------------------------------------------------------
@pytest.mark.slow
def test_first_report_reconstructs_last_quarters_forecast_and_archives_its_own(q2, inputs):
    report, paths = q2
    assert report.label == "2026Q2"
    run = report.facts["prior_run"]
    assert run["kind"] == "reconstructed"
    assert pd.Timestamp(run["data_end"]) == pd.Timestamp("2026-03-31")
    with Store(inputs.store, read_only=True) as st:
        runs = st.forecast_runs()
    archived = runs[runs["kind"] == "archived"]
    assert set(archived["freq"]) == {"day", "fy"}
    assert (archived["data_end"] == pd.Timestamp("2026-06-30")).all()  # data to the quarter end
    assert "pdf" not in paths and paths["html"].exists()


@pytest.mark.slow
def test_next_report_judges_the_archived_forecast(q3, inputs):
    report, _ = q3
    run = report.facts["prior_run"]
    assert run["kind"] == "archived" and run["report_quarter"] == "2026Q2"
    assert pd.Timestamp(run["data_end"]) == pd.Timestamp("2026-06-30")
    fva = report.tables["forecast_vs_actual"].set_index("hub")
    for hub in ("slough", "bracknell-forest"):
        assert fva.loc[hub, "actual"] == stored_count(inputs.store, hub, "2026-07-01", "2026-09-30")
        assert fva.loc[hub, "days"] == 92
    assert fva.loc["ALL", "actual"] == fva.loc[["slough", "bracknell-forest"], "actual"].sum()
    # the archived forecast is what was archived, not a new one
    with Store(inputs.store, read_only=True) as st:
        arch = st.archived_forecast(int(run["run_id"]))
    sl = arch[(arch["hub"] == "slough") & (arch["date"].between("2026-07-01", "2026-09-30"))]
    assert fva.loc["slough", "forecast"] == pytest.approx(sl["yhat"].sum(), abs=0.1)
    # honest intervals: most days inside the 80% interval, not all and not few
    assert 0.55 <= fva.loc["slough", "days_in_80"] <= 0.98
    err = fva.loc["ALL", "error_pct"]
    assert abs(err) < 15


@pytest.mark.slow
def test_headline_numbers_match_the_store(q3, inputs):
    report, _ = q3
    head = report.tables["headline"].set_index("hub")
    for hub in ("slough", "bracknell-forest"):
        assert head.loc[hub, "contacts"] == stored_count(
            inputs.store, hub, "2026-07-01", "2026-09-30"
        )
        assert head.loc[hub, "same_quarter_last_year"] == stored_count(
            inputs.store, hub, "2025-07-01", "2025-09-30"
        )
    assert report.facts["quarter_contacts"] == stored_count(
        inputs.store, None, "2026-07-01", "2026-09-30"
    )
    pri = report.tables["demand_by_priority"].set_index("hub")
    assert pri.loc["ALL", "total"] == report.facts["quarter_contacts"]
    assert (pri.drop(columns="total").sum(axis=1) == pri["total"]).all()


def report_store(report) -> Path:
    return Path(report.facts["store"])


@pytest.mark.slow
def test_forecast_and_staffing_sections_agree_with_their_sources(q3):
    report, paths = q3
    fy = report.tables["forecast_fy"]
    assert list(fy[fy["hub"] == "ALL"]["financial_year"]) == [
        "2026-27",
        "2027-28",
        "2028-29",
        "2029-30",
        "2030-31",
    ]
    # force = sum of hubs in every financial year
    for _, g in fy.groupby("financial_year"):
        assert g[g["hub"] == "ALL"]["yhat"].iloc[0] == pytest.approx(
            g[g["hub"] != "ALL"]["yhat"].sum(), rel=1e-6
        )
    # the current year is observed so far + the daily forecast for the rest
    cur = fy[(fy["hub"] == "slough") & (fy["financial_year"] == "2026-27")].iloc[0]
    assert cur["observed_so_far"] == stored_count(
        report_store(report), "slough", "2026-04-01", "2026-09-30"
    )
    assert cur["lo80"] >= cur["observed_so_far"]
    st = report.tables["staffing"]
    assert set(st["quarter"]) == {"2026Q4", "2027Q1"}
    assert (st["fte_required"] > 0).all()
    assert report.facts["force_fte"] == pytest.approx(
        st[st["quarter"] == "2026Q4"]["fte_required"].sum()
    )
    tables = paths["tables"]
    csv = pd.read_csv(tables / "staffing.csv")
    assert csv["fte_required"].sum() == pytest.approx(st["fte_required"].sum())
    bt = report.tables["backtest"]
    assert {"snaive", "ensemble"} <= set(bt["model"])


@pytest.mark.slow
def test_html_and_pdf_have_every_section_and_the_numbers(q3):
    report, paths = q3
    html = paths["html"].read_text(encoding="utf-8")
    for h in (
        "1. Summary",
        "2. Demand",
        "3. Forecast",
        "4. Staffing",
        "5. Data quality",
        "6. Method",
    ):
        assert f"<h2>{h}</h2>" in html
    assert html.count("data:image/png;base64,") == len(report.figures) >= 9
    # tables and figures numbered when written: 1..n in reading order, each built one shown
    doc = report.document
    tables = [int(n) for n in re.findall(r"<h3>Table (\d+): ", html)]
    assert tables == list(range(1, len(list(doc.all_tables())) + 1))
    figures = [int(n) for n in re.findall(r"<figcaption>Figure (\d+)", html)]
    assert figures == list(range(1, len(report.figures) + 1))
    assert [s.key for s in doc.sections] == [s.key for s in SECTIONS]
    for t in doc.all_tables():
        assert html.count(f'id="table-{t.key}"') == 1
    assert f"{report.facts['quarter_contacts']:,}" in html
    assert f"{report.facts['force_fte']:.1f}" in html
    assert "{{" not in html and "&#34;" not in html  # rendered, styles not escaped
    kind = report.facts["prior_run"]["kind"]  # the headline says which forecast it compares
    assert f"forecast ({kind})" in html and kind in ("archived", "reconstructed")
    # what a person reads names hubs, not slugs (ids and data URIs aside)
    words = re.sub(r"<[^>]*>|data:image/png;base64,[A-Za-z0-9+/=]*", " ", html)
    for slug in ("bracknell-forest", "milton-keynes", "west-berkshire", "windsor-and-maidenhead"):
        assert slug not in words, slug
    pdf = paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(paths["pdf"])], capture_output=True, text=True)
        pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
        assert 6 <= pages <= 20
        fonts = subprocess.run(["pdffonts", str(paths["pdf"])], capture_output=True, text=True)
        assert "DejaVuSans" in fonts.stdout.replace("-", "")


@pytest.mark.slow
def test_report_errors_are_one_line(work, inputs, q3):
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "report",
            "quarterly",
            "--store",
            str(inputs.store),
            "--quarter",
            "2027Q1",
            "--out",
            str(work / "x"),
        ],
    )
    assert r.exit_code == 2
    assert "2027Q1" in r.output and "30/09/2026" in r.output and "Traceback" not in r.output
    r = runner.invoke(
        app,
        [
            "report",
            "quarterly",
            "--store",
            str(inputs.store),
            "--quarter",
            "spring",
            "--out",
            str(work / "x"),
        ],
    )
    assert r.exit_code == 2 and "2026Q3" in r.output
    r = runner.invoke(
        app, ["report", "quarterly", "--store", str(work / "none.duckdb"), "--out", str(work / "x")]
    )
    assert r.exit_code == 2 and "none.duckdb" in r.output
    with pytest.raises(ReportError, match="no history|not found|no contacts"):
        run_quarterly(ReportInputs(store=work / "missing.duckdb"), work / "x")


# --- the FMS appendix -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fms(q3, inputs, work):
    """The published and the internal appendix, written from one build."""
    est = work / "establishment.csv"
    pd.DataFrame({"hub": ["slough", "bracknell-forest"], "fte": [8.0, 6.0]}).to_csv(
        est, index=False
    )
    app_, paths = run_fms_appendix(
        inputs,
        2026,
        work / "fms",
        establishment=est,
        scenarios=["principal", "high", "risk:risk_identification=0.1"],
        models=FAST,
        internal=None,
    )
    published = {k: paths[k] for k in ("docx", "xlsx")}
    internal = {k: paths[f"internal_{k}"] for k in ("docx", "xlsx")}
    return (app_, published), (app_, internal)


@pytest.mark.slow
def test_fms_docx_has_every_section_and_matching_numbers(fms, inputs):
    import docx

    (app_, paths), _ = fms
    doc = docx.Document(str(paths["docx"]))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for h in (
        "1. Current demand",
        "2. Demand over the next four years",
        "3. Workforce capacity and capability",
        "4. Performance against the timeliness standards",
        "5. The gap and the risk from demand that cannot be met",
        "6. Assumptions and data sources",
    ):
        assert h in heads
    assert len(doc.tables) == len(app_.tables) >= 10
    t1 = doc.tables[0]
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in t1.rows}
    n = stored_count(inputs.store, "slough", "2025-04-01", "2026-03-31")
    assert rows["Slough"][2] == f"{n:,}"  # display names, not slugs
    assert "slough" not in rows
    assert (
        rows["Force total"][2]
        == f"{stored_count(inputs.store, None, '2025-04-01', '2026-03-31'):,}"
    )


@pytest.mark.slow
def test_fms_xlsx_opens_and_matches_the_forecast(fms):
    from openpyxl import load_workbook

    (app_, paths), _ = fms
    wb = load_workbook(paths["xlsx"])
    assert wb.sheetnames[:2] == ["Cover", "Notes"]
    assert len(wb.sheetnames) == 2 + len(app_.tables)
    proj = app_.table("projection")
    n = next(n for n, t in numbered_tables(app_) if t.key == "projection")
    ws = wb[f"Table_{n}"]
    assert ws["A1"].value == f"Table {n}: {proj.title}"
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, r in enumerate(values) if r[0] == "financial year")
    first = values[header + 1]
    assert first[0] == "2026-27"
    assert first[1] == proj.data["forecast"].iloc[0]
    assert first[1] % 10 == 0  # projections rounded to the nearest 10
    wf = app_.table("workforce").data
    assert (wf["gap_fte"] == (wf["establishment_fte"] - wf["fte_required"]).round(1)).all()
    assert wf["establishment_fte"].iloc[0] == 14.0


@pytest.mark.slow
def test_no_published_cell_between_1_and_5(fms):
    from openpyxl import load_workbook

    (app_, paths), (internal, ipaths) = fms
    for t in app_.tables:
        if t.counts:
            assert check_published(t.published[t.counts]) == [], t.key
    wb = load_workbook(paths["xlsx"])
    titles = {f"Table {n}: {t.title}": t for n, t in numbered_tables(app_)}
    for ws in wb.worksheets[2:]:
        counts_sheet = titles[ws["A1"].value]
        if not counts_sheet.counts:
            continue
        for row in ws.iter_rows(min_row=2, values_only=True):
            for v in row[1:]:
                assert not (isinstance(v, (int, float)) and 1 <= v <= 5 and float(v).is_integer())
    # forcing suppression with a stricter rule: every small count goes, totals stay safe
    t = app_.table("demand_priority")
    strict = FmsTable(t.key, t.title, t.data, counts=t.counts, rule=DisclosureRule(high=300))
    assert strict.n_suppressed > 0
    assert check_published(strict.published[t.counts], DisclosureRule(high=300)) == []
    assert ipaths["docx"].name.endswith("_internal.docx")
    assert internal.facts["suppressed_cells"] == app_.suppressed_cells
    iwb = load_workbook(ipaths["xlsx"])
    assert iwb["Cover"]["A2"].value == INTERNAL_BANNER
    tables = iwb.worksheets[2:]  # after the cover and the notes (which list the symbols)
    assert SUPPRESSED not in {v for ws in tables for r in ws.iter_rows(values_only=True) for v in r}


def test_one_build_writes_the_published_and_the_internal_version(tmp_path):
    """Before: the published and the internal version were two full builds; now the writer
    applies disclosure control (or not) to the one appendix."""
    import docx
    from openpyxl import load_workbook

    data = pd.DataFrame(
        {"hub": ["slough", "reading", "bracknell-forest", "ALL"], "contacts": [90, 3, 40, 133]}
    )
    t = FmsTable("demand_now", "Contacts received by hub", data, counts=["contacts"])
    app_ = FmsAppendix(year=2026, tables=[t], paragraphs={}, figures={}, assumptions=[], sources=[])
    pub = load_workbook(write_xlsx(app_, tmp_path / "p.xlsx"))
    internal = load_workbook(write_xlsx(app_, tmp_path / "i.xlsx", internal=True))

    def column(wb):
        return [r[1] for r in wb["Table_1"].iter_rows(min_row=3, values_only=True)]

    assert column(internal) == [90, 3, 40, 133]
    # 3 is suppressed, and 40 with it, so the total cannot reveal it
    assert column(pub) == [90, SUPPRESSED, SUPPRESSED, 133] and t.n_suppressed == 2
    assert internal["Cover"]["A2"].value == INTERNAL_BANNER
    assert pub["Cover"]["A2"].value != INTERNAL_BANNER
    for internal_doc, shown in (
        (False, ["90", "[c]", "[c]", "133"]),
        (True, ["90", "3", "40", "133"]),
    ):
        d = docx.Document(str(write_docx(app_, tmp_path / "a.docx", internal=internal_doc)))
        assert [r.cells[1].text for r in d.tables[0].rows[1:]] == shown
        assert (INTERNAL_BANNER in [p.text for p in d.paragraphs]) is internal_doc


def test_timeliness_standards_are_counted_in_working_days():
    c = pd.DataFrame(
        {
            "hub": "a",
            "priority": ["urgent", "urgent", "high", "high", "standard"],
            "received_at_utc": pd.to_datetime(
                [
                    "2026-03-06 09:00",
                    "2026-03-06 09:00",
                    "2026-03-06 15:00",
                    "2026-03-07 10:00",
                    "2026-03-06 10:00",
                ]
            ),
            "decided_at_utc": pd.to_datetime(
                [
                    "2026-03-06 12:59",
                    "2026-03-06 13:30",
                    "2026-03-09 09:00",
                    "2026-03-09 11:00",
                    "2026-03-17 10:00",
                ]
            ),
        }
    )
    met = timeliness(c)["met"].tolist()
    # 3h59 working yes; 4h30 no; Fri 15:00 is after Friday's 14:00 cut-off, so Monday is in
    # time; Sat -> Mon yes; Fri -> Tue week after is 7 working days: yes
    assert met == [True, False, True, True, True]
    assert np.all(timeliness(c.iloc[:0])["met"].to_numpy() == [])


def test_too_little_history_is_a_clear_error(tmp_path):
    from conftest import make_contacts, write_csv

    from mashdemand.ingest import ingest_contacts
    from mashdemand.report.quarterly import build_quarterly

    f = write_csv(make_contacts(3000), tmp_path / "short.csv")  # Jan 2023 to Feb 2024
    with Store(tmp_path / "s.duckdb") as st:
        ingest_contacts([f], store=st)
        with pytest.raises(ReportError, match="complete financial year"):
            build_quarterly(st, quarter="2023Q4", models=FAST)


def test_fms_command_errors_are_one_line(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "sdc.toml"
    bad.write_text("[disclosure]\ntreshold = 10\n", encoding="utf-8")
    r = runner.invoke(
        app,
        [
            "fms-appendix",
            "--year",
            "2026",
            "--sample",
            "--disclosure",
            str(bad),
            "--out",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 2 and "treshold" in r.output and str(bad) in r.output
    est = tmp_path / "est.csv"
    est.write_text("hub,fte\nslough,lots\n", encoding="utf-8")
    r = runner.invoke(
        app,
        [
            "fms-appendix",
            "--year",
            "2026",
            "--store",
            str(tmp_path / "s.db"),
            "--establishment",
            str(est),
            "--out",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 2
    assert "row 2, column fte" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["fms-appendix", "--year", "2026", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--sample" in r.output


@pytest.mark.slow
def test_fms_workforce_agrees_with_the_quarterly_report(fms, q3):
    """The FMS's first year is staffed from the same daily forecast and quarter as the report's
    first planned quarter, so the two documents give the planner the same FTE."""
    (app_, _), _ = fms
    report, _ = q3
    wf = app_.table("workforce").data
    assert wf["fte_required"].iloc[0] == pytest.approx(report.facts["force_fte"], abs=0.15)
    # every projection year is staffed (whole staff on duty make small hubs' FTE move in
    # steps, so the years need not rise smoothly)
    assert list(wf["financial_year"]) == ["2026-27", "2027-28", "2028-29", "2029-30"]
    assert (wf["fte_required"] > 0.5 * wf["fte_required"].iloc[0]).all()


@pytest.mark.slow
def test_fms_scenarios_move_the_projection_as_stated(fms, inputs):
    """High population lifts every year; +10% police risk identification lifts each hub by
    10% of its police share, not by 10% of everything."""
    (app_, _), _ = fms
    sc = app_.table("scenarios").data.set_index("scenario")
    last = sc.columns[-1]
    assert sc.loc["high", last] > sc.loc["principal", last]
    with Store(inputs.store, read_only=True) as st:
        police = st.scalar("SELECT avg((source = 'police')::INT) FROM contacts")
    assert 0.3 < police < 0.7
    ratio = sc.loc["risk", last] / sc.loc["principal", last]
    assert ratio == pytest.approx(1 + 0.1 * police, abs=0.005)


def _small_appendix(with_priority: bool) -> FmsAppendix:
    hubs = pd.DataFrame({"hub": ["slough", "bracknell-forest", "ALL"], "contacts": [90, 60, 150]})
    tables = [
        FmsTable("demand_now", "Contacts received by hub", hubs),
        FmsTable("demand_source", "Contacts by source", hubs),
    ]
    if with_priority:
        tables.append(FmsTable("demand_priority", "Contacts by priority", hubs))
    wf = pd.DataFrame(
        {
            "hub": ["slough", "bracknell-forest"],
            "option": ["long_day_0719", "today"],
            "fte": [4.0, 3.5],
        }
    )
    roles = pd.DataFrame({"role": ["social_care", "police"], "share_of_work_pct": [40.0, 35.0]})
    tables += [
        FmsTable("workforce_hub", "Workforce by hub", wf),
        FmsTable("capability", "Capability", roles),
    ]
    return FmsAppendix(
        year=2026,
        tables=tables,
        paragraphs={},
        figures={},
        assumptions=[],
        sources=[],
        labels={
            "option": {
                "long_day_0719": "07:00-19:00 weekdays; weekend cover 09:00-17:00",
                "today": "08:00-16:00 Mon-Thu, 08:00-15:30 Fri",
            },
            "role": {"social_care": "Social care", "police": "Police"},
        },
    )


@pytest.mark.parametrize("with_priority", [True, False])
def test_fms_tables_are_numbered_when_written_without_gaps(tmp_path, with_priority):
    """Before: titles carried hand-written numbers, so a table left out left a gap."""
    from openpyxl import load_workbook

    app_ = _small_appendix(with_priority)
    numbered = numbered_tables(app_)
    assert [n for n, _ in numbered] == list(range(1, len(app_.tables) + 1))
    wb = load_workbook(write_xlsx(app_, tmp_path / "fms.xlsx"))
    for n, t in numbered:
        assert wb[f"Table_{n}"]["A1"].value == f"Table {n}: {t.title}"
    cover = [r[0] for r in wb["Cover"].iter_rows(values_only=True)]
    assert f"Table {len(numbered)}: Capability" in cover


def test_fms_writers_show_names_not_keys(tmp_path):
    """Before: published tables showed slugs and keys (slough, long_day_0719, social_care)."""
    import docx
    from openpyxl import load_workbook

    app_ = _small_appendix(True)
    wb = load_workbook(write_xlsx(app_, tmp_path / "fms.xlsx"))
    cells = {c for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r}
    assert {"Slough", "Bracknell Forest", "Force total", "Social care", "Police"} <= cells
    assert "07:00-19:00 weekdays; weekend cover 09:00-17:00" in cells
    assert not {"slough", "bracknell-forest", "ALL", "long_day_0719", "social_care"} & cells
    d = docx.Document(str(write_docx(app_, tmp_path / "fms.docx")))
    texts = {c.text for t in d.tables for r in t.rows for c in r.cells}
    assert {"Slough", "Force total", "07:00-19:00 weekdays; weekend cover 09:00-17:00"} <= texts
    assert not {"slough", "long_day_0719", "social_care"} & texts
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert "Table 4: Workforce by hub" in heads

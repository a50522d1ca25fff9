"""Store housekeeping: hubs, removing a stray hub (never silently), the audit trail, snapshots;
and a report that goes on without a stray hub."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE, make_contacts, write_csv
from typer.testing import CliRunner

from mashdemand.cli import app
from mashdemand.ingest import ingest_contacts
from mashdemand.report import quarterly as rq
from mashdemand.store import HUB_REMOVED, SCHEMA_VERSION, Store, StoreError

STRAY = (
    "contact_id,received_at,hub,source,subject,priority\n"
    "X1,03/09/2026 10:00,sluogh,police,child,standard\n"
    "X2,03/09/2026 11:00,sluogh,police,child,standard\n"
    "X3,04/09/2026 09:30,sluogh,education,child,high\n"
)
WARNING = (
    "mashdemand: warning: left out hub(s) sluogh (3 contacts, 2 days of history): too little "
    "history to forecast"
)


@pytest.fixture
def small(tmp_path) -> Path:
    """300 contacts in three hubs plus the 3-contact stray hub ``sluogh``."""
    store = tmp_path / "s.duckdb"
    write_csv(make_contacts(300), tmp_path / "c.csv")
    (tmp_path / "stray.csv").write_text(STRAY, encoding="utf-8")
    ingest_contacts([tmp_path / "c.csv", tmp_path / "stray.csv"], store=store)
    return store


def test_hub_overview_counts_and_days(small):
    with Store(small, read_only=True) as st:
        ov = st.hub_overview().set_index("hub")
        per_hub = st.table("contacts").groupby("hub").size()
    assert list(ov.index) == ["milton-keynes", "reading", "slough", "sluogh"]
    assert (ov["contacts"] == per_hub.reindex(ov.index)).all() and ov["contacts"].sum() == 303
    assert ov.loc["sluogh", "first_received"] == pd.Timestamp("2026-09-03")
    assert ov.loc["sluogh", "last_received"] == pd.Timestamp("2026-09-04")
    assert (ov["quarantined"] == 0).all()


def test_remove_hub_moves_rows_to_quarantine_and_audits(small):
    with Store(small) as st:
        quarantined = st.count("quarantine")
        assert st.remove_hub("sluogh", "  typo for   slough ") == 3
        assert st.count() == 300 and "sluogh" not in st.hubs()
        q = st.table("quarantine")
        log = st.audit_log()
        ov = st.hub_overview()
    removed = q[q["reason"] == HUB_REMOVED].sort_values("contact_id")
    assert len(q) == quarantined + 3
    assert list(removed["contact_id"]) == ["X1", "X2", "X3"]
    assert list(removed["received_at"]) == [  # UTC: 10:00 BST is 09:00 UTC
        "2026-09-03T09:00:00+00:00",
        "2026-09-03T10:00:00+00:00",
        "2026-09-04T08:30:00+00:00",
    ]
    assert set(removed["reasons"]) == {"hub_removed: typo for slough"}
    assert removed["file"].str.endswith("stray.csv").all()
    assert log[["action", "hub", "rows_affected", "reason"]].to_dict("records") == [
        {"action": "remove_hub", "hub": "sluogh", "rows_affected": 3, "reason": "typo for slough"}
    ]
    assert log["package_version"].notna().all()
    assert "sluogh" not in set(ov["hub"])


def test_remove_hub_refuses_unknown_hub_and_empty_reason(small):
    with Store(small) as st:
        with pytest.raises(StoreError, match="no hub 'nowhere'.*sluogh"):
            st.remove_hub("nowhere", "typo")
        with pytest.raises(StoreError, match="reason"):
            st.remove_hub("sluogh", "  ")
        assert st.count() == 303 and st.audit_log().empty


def test_migration_3_adds_the_audit_table(tmp_path):
    with Store(tmp_path / "s.duckdb") as st:
        assert st.schema_version() == SCHEMA_VERSION == 3
        assert list(st.audit_log().columns) == [
            "audit_id",
            "created_at",
            "action",
            "hub",
            "rows_affected",
            "reason",
            "package_version",
        ]


def test_snapshot_is_a_copy_and_frees_the_file(small):
    with Store(small, read_only=True) as st:
        snap = st.snapshot()
    with snap:
        assert snap.path == str(small) and snap.count() == 303
        with Store(small) as writer:  # the file is free: a writer gets in at once
            writer.remove_hub("sluogh", "typo")
        assert snap.count() == 303  # the copy is the state when it was taken
        assert set(snap.hubs()) == {"milton-keynes", "reading", "slough", "sluogh"}
        snap.con.execute("DELETE FROM contacts")
    with Store(small, read_only=True) as st:
        assert st.count() == 300  # deleting in the copy changed nothing on disk


# --- the CLI --------------------------------------------------------------------------------
def test_cli_hubs_remove_hub_and_audit(small):
    runner = CliRunner()
    r = runner.invoke(app, ["store", "hubs", "--store", str(small)])
    assert r.exit_code == 0
    line = next(x for x in r.output.splitlines() if x.startswith("sluogh"))
    assert line.split() == ["sluogh", "Sluogh", "3", "03/09/2026", "04/09/2026", "0"]

    # without --yes: says what it would do, changes nothing
    r = runner.invoke(
        app, ["store", "remove-hub", "sluogh", "--store", str(small), "--reason", "x"]
    )
    assert r.exit_code == 0 and "would remove 3 contacts of hub sluogh" in r.output
    with Store(small, read_only=True) as st:
        assert st.count() == 303 and st.audit_log().empty

    r = runner.invoke(
        app, ["store", "remove-hub", "sluogh", "--yes", "--reason", "typo", "--store", str(small)]
    )
    assert r.exit_code == 0 and "removed 3 contacts of hub sluogh" in r.output
    assert "quarantine as hub_removed" in r.output
    with Store(small, read_only=True) as st:
        assert st.count() == 300
        assert len(st.audit_log()) == 1
        q = st.table("quarantine")
        assert (q["reason"] == HUB_REMOVED).sum() == 3

    r = runner.invoke(app, ["store", "audit", "--store", str(small)])
    assert r.exit_code == 0
    row = r.output.splitlines()[1].split()
    assert row[2:5] == ["remove_hub", "sluogh", "3"] and row[-1] == "typo"


def test_cli_remove_hub_errors_are_one_line(small, tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        app, ["store", "remove-hub", "nowhere", "--yes", "--reason", "x", "--store", str(small)]
    )
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"mashdemand: error: {small}: no hub 'nowhere' in the store "
        "(hubs: milton-keynes, reading, slough, sluogh)"
    ]
    missing = tmp_path / "none.duckdb"
    r = runner.invoke(
        app, ["store", "remove-hub", "sluogh", "--yes", "--reason", "x", "--store", str(missing)]
    )
    assert r.exit_code == 2 and "store not found" in r.output and not missing.exists()
    r = runner.invoke(app, ["store", "remove-hub", "sluogh", "--store", str(small)])
    assert r.exit_code == 2 and "--reason" in r.output  # the reason is required


# --- a stray hub no longer blocks the report ------------------------------------------------
@pytest.fixture
def force_with_stray(tmp_path) -> Path:
    """Slough from April 2020 to September 2026, plus a mistyped hub ``sluogh`` (3 contacts)."""
    log = pd.read_parquet(SAMPLE / "contacts_slough.parquet")
    log = log[(log["received_at"] >= "2020-04-01") & (log["received_at"] < "2026-10-01")]
    log.to_parquet(tmp_path / "slough.parquet")
    (tmp_path / "stray.csv").write_text(STRAY, encoding="utf-8")
    store = tmp_path / "store.duckdb"
    ingest_contacts([tmp_path / "slough.parquet", tmp_path / "stray.csv"], store=store)
    return store


def test_report_leaves_out_a_stray_hub_until_it_is_removed(force_with_stray, tmp_path, monkeypatch):
    store = force_with_stray
    fast = functools.partial(rq.run_quarterly, models=["snaive"])
    monkeypatch.setattr(rq, "run_quarterly", fast)
    runner = CliRunner()
    args = ["report", "quarterly", "--store", str(store), "--quarter", "2026Q3", "--no-pdf"]
    args += ["--population", str(SAMPLE / "population.csv"), "--out", str(tmp_path / "r1")]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines().count(WARNING) == 1
    html = (tmp_path / "r1" / "mash_quarterly_2026Q3.html").read_text(encoding="utf-8")
    assert "sluogh (3 contacts, 2 days of history)" in html
    head = pd.read_csv(tmp_path / "r1" / "mash_quarterly_2026Q3_tables" / "headline.csv")
    with Store(store, read_only=True) as st:
        slough_q3 = st.scalar(
            "SELECT count(*) FROM contacts WHERE hub = 'slough' "
            "AND received_date BETWEEN '2026-07-01' AND '2026-09-30'"
        )
    assert list(head["hub"]) == ["slough", "ALL"]
    assert head.set_index("hub").loc["ALL", "contacts"] == slough_q3  # sluogh's 3 left out

    r = runner.invoke(
        app, ["store", "remove-hub", "sluogh", "--yes", "--reason", "typo", "--store", str(store)]
    )
    assert r.exit_code == 0
    with Store(store, read_only=True) as st:
        assert len(st.audit_log()) == 1
        assert (st.table("quarantine")["reason"] == HUB_REMOVED).sum() == 3

    report, _ = rq.run_quarterly(
        rq.ReportInputs(store=store), tmp_path / "r2", quarter="2026Q3", pdf=False, archive=False
    )
    assert report.facts["left_out"] == []
    assert not any("left out" in n for n in report.notes)


def test_a_store_of_only_short_hubs_is_one_line(tmp_path):
    (tmp_path / "stray.csv").write_text(
        STRAY.replace("03/09/2026", "29/09/2026").replace("04/09/2026", "30/09/2026"),
        encoding="utf-8",
    )
    store = tmp_path / "s.duckdb"
    ingest_contacts([tmp_path / "stray.csv"], store=store)
    r = CliRunner().invoke(
        app, ["report", "quarterly", "--store", str(store), "--out", str(tmp_path / "r")]
    )
    assert r.exit_code == 2 and "Traceback" not in r.output
    # (the progress bar shares stderr; the error is the one line after it)
    errors = [x[x.index("mashdemand: error:") :] for x in r.output.splitlines() if "error:" in x]
    assert errors == [
        "mashdemand: error: too little history to forecast any hub up to 30/09/2026: sluogh "
        "(3 contacts, 2 days of history); a hub needs contacts spanning 14 days or more, first "
        "to last, and 14 contacts or more"
    ]


def test_split_forecastable_rule_at_the_edges():
    day = pd.Timestamp("2026-01-01")
    rows = [  # hub, offsets of days with contacts, contacts per day
        ("two-weeks", range(14), 1),  # 14 days, 14 contacts: kept
        ("thirteen-days", range(13), 5),  # 13 days: out
        ("few", [0, 20], 6),  # 21 days but 12 contacts: out
    ]
    daily = pd.concat(
        pd.DataFrame({"hub": h, "date": [day + pd.Timedelta(days=o) for o in offs], "contacts": n})
        for h, offs, n in rows
    )
    kept, left = rq.split_forecastable(daily)
    assert sorted(kept["hub"].unique()) == ["two-weeks"]
    assert left.to_dict("records") == [
        {"hub": "few", "contacts": 12, "days": 21},
        {"hub": "thirteen-days", "contacts": 65, "days": 13},
    ]


def test_reports_refuse_to_write_over_the_store(force_with_stray, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    store = out / "mash_quarterly_2026Q3.html"
    shutil.copy(force_with_stray, store)
    r = CliRunner().invoke(
        app,
        ["report", "quarterly", "--store", str(store), "--quarter", "2026Q3", "--out", str(out)],
    )
    assert r.exit_code == 2
    assert "is the store" in r.output and len(r.output.strip().splitlines()) == 1


def test_record_reads_are_store_methods_matching_the_table(small):
    """Reports and the staffing plan read the store through named methods (no SQL of their own)."""
    with Store(small, read_only=True) as st:
        c = st.table("contacts")
        a = st.arrivals("2026-09-03", "2026-09-04", hubs=["sluogh"])
        assert len(a) == 3 and list(a.columns) == ["hub", "received_date", "received_hour"]
        every = st.arrivals()
        assert len(every) == len(c)
        prio = st.arrivals(with_priority=True)
        assert len(prio) == int(c["priority"].notna().sum())
        assert {"priority", "source", "rpa"} <= set(prio.columns)
        by = st.counts_by("source", hubs=["sluogh"]).set_index("source")["contacts"]
        assert by.to_dict() == {"police": 2, "education": 1}
        assert int(st.counts_by("priority")["contacts"].sum()) == len(c)
        with pytest.raises(StoreError, match="cannot count by 'name'"):
            st.counts_by("name")
        d = st.decisions("2026-01-01", "2026-12-31", ["sluogh"])
        assert len(d) == 3 and "decided_date" in d.columns
        assert st.rows_read() == 303
        assert st.quarantine_by_reason().empty

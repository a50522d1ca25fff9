"""Ingest: formats, encodings, UK dates, DST, PII, dedupe, conflicts, quarantine, errors."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from conftest import make_contacts, stored, write_csv
from typer.testing import CliRunner

from mashdemand import schema
from mashdemand.cli import app
from mashdemand.ingest import IngestError, ingest_contacts, parse_contacts
from mashdemand.ingest.parsing import parse_local_timestamps
from mashdemand.store import SCHEMA_VERSION, Store, StoreError

runner = CliRunner()


def _identity(s) -> None:
    assert s.rows_read == s.rows_accepted + s.rows_duplicate + s.rows_quarantined


# --- every input variant gives the same stored content -----------------------------------
CSV_VARIANTS = [
    (enc, sep, nl)
    for enc in ("utf-8", "utf-8-sig", "cp1252")
    for sep in (",", ";")
    for nl in ("\n", "\r\n")
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    d = tmp_path_factory.mktemp("ref")
    path = write_csv(make_contacts(), d / "ref.csv")
    s = ingest_contacts(path, store=d / "ref.duckdb")
    assert s.rows_accepted == 300 and s.rows_quarantined == 0
    return stored(d / "ref.duckdb")


@pytest.mark.parametrize(("encoding", "sep", "newline"), CSV_VARIANTS)
def test_csv_variants_store_identical_rows(tmp_path, reference, encoding, sep, newline):
    path = write_csv(make_contacts(), tmp_path / "x.csv", encoding, sep, newline)
    s = ingest_contacts(path, store=tmp_path / "s.duckdb")
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (300, 300, 0)
    got = stored(tmp_path / "s.duckdb")
    assert got["row_hash"].tolist() == reference["row_hash"].tolist()
    # Windows-1252 and UTF-8 both decode the curly apostrophe and the accent.
    assert (
        (got[schema.CATEGORY] == "café’s_concern").sum()
        == (reference[schema.CATEGORY] == "café’s_concern").sum()
        > 50
    )


def test_xlsx_and_parquet_store_identical_rows(tmp_path, reference):
    df = make_contacts()
    df.to_excel(tmp_path / "x.xlsx", index=False)
    typed = df.assign(
        received_at=pd.to_datetime(df["received_at"], format="%d/%m/%Y %H:%M"),
        decided_at=pd.to_datetime(df["decided_at"]),
        rpa=df["rpa"] == "true",
    )
    typed.to_parquet(tmp_path / "x.parquet")
    for name in ("x.xlsx", "x.parquet"):
        st = tmp_path / f"{name}.duckdb"
        s = ingest_contacts(tmp_path / name, store=st)
        assert (s.rows_read, s.rows_accepted) == (300, 300), name
        assert stored(st)["row_hash"].tolist() == reference["row_hash"].tolist(), name


def test_xlsx_with_real_datetime_cells(tmp_path):
    df = make_contacts(20)
    df["received_at"] = pd.to_datetime(df["received_at"], format="%d/%m/%Y %H:%M")
    df.to_excel(tmp_path / "d.xlsx", index=False)
    s = ingest_contacts(tmp_path / "d.xlsx", store=tmp_path / "s.duckdb")
    assert s.rows_accepted == 20
    got = stored(tmp_path / "s.duckdb")
    first = df.sort_values("contact_id").iloc[0]
    assert got.loc[0, schema.RECEIVED_DATE] == first["received_at"].normalize()


# --- dates: day-first always, UK local time, DST --------------------------------------
def test_day_first_parsing():
    s = pd.Series(
        ["04/05/2024", "4/5/2024 9:05", "13/01/2024 23:59:59", "01/13/2024", "2024-05-04"]
    )
    utc, bad = parse_local_timestamps(s)
    assert str(utc[0]) == "2024-05-03 23:00:00+00:00"  # 4 May, BST midnight
    assert str(utc[1]) == "2024-05-04 08:05:00+00:00"
    assert str(utc[2]) == "2024-01-13 23:59:59+00:00"  # GMT
    assert bad.tolist() == [False, False, False, True, False]
    assert utc[4] == utc[0]


def test_dst_gap_and_overlap():
    s = pd.Series(
        [
            "31/03/2024 00:59",  # GMT, before the gap
            "31/03/2024 01:30",  # does not exist: moved forward to 02:30 BST
            "31/03/2024 02:00",  # first valid BST minute
            "27/10/2024 00:59",  # BST
            "27/10/2024 01:30",  # happens twice: first occurrence (BST)
            "27/10/2024 02:00",  # GMT
            "2024-10-27T01:30:00+00:00",  # explicit offset: the second occurrence
        ]
    )
    utc, bad = parse_local_timestamps(s)
    assert not bad.any()
    assert [t.strftime("%Y-%m-%d %H:%M") for t in utc] == [
        "2024-03-31 00:59",
        "2024-03-31 01:30",
        "2024-03-31 01:00",
        "2024-10-26 23:59",
        "2024-10-27 00:30",
        "2024-10-27 02:00",
        "2024-10-27 01:30",
    ]
    raw = pd.DataFrame({"contact_id": list("abcdefg"), "received_at": s, "hub": "reading"})
    raw["row_number"] = range(2, 9)
    parsed = parse_contacts(raw)
    assert parsed[schema.RECEIVED_HOUR].tolist() == [0, 2, 2, 0, 1, 2, 1]
    assert parsed[schema.RECEIVED_DATE].dt.day.tolist() == [31, 31, 31, 27, 27, 27, 27]


def test_offsets_and_iso_variants():
    s = pd.Series(
        [
            "2024-07-01T12:00:00+00:00",
            "2024-07-01T12:00Z",
            "2024-07-01 12:00:00.5",
            "2024-07-01T13:00:00+01:00",
            "2024-01-15 12:00",
        ]
    )
    utc, bad = parse_local_timestamps(s)
    assert not bad.any()
    assert utc[0] == utc[1] == utc[3] == pd.Timestamp("2024-07-01 12:00", tz="UTC")
    assert utc[2] == pd.Timestamp("2024-07-01 11:00:00.5", tz="UTC")
    assert utc[4] == pd.Timestamp("2024-01-15 12:00", tz="UTC")


# --- quarantine: every reason, row numbers, identity ----------------------------------
def test_quarantine_reasons_and_row_numbers(tmp_path, store_path):
    rows = [
        ("ok1", "05/03/2024 10:00", "reading", "police", "high", "yes"),
        ("", "05/03/2024 10:00", "reading", "police", "high", "yes"),
        ("q2", "", "reading", "police", "high", "yes"),
        ("q3", "35/03/2024", "reading", "police", "high", "yes"),
        ("q4", "01/01/1999", "reading", "police", "high", "yes"),
        ("q5", "01/01/2099", "reading", "police", "high", "yes"),
        ("q6", "05/03/2024", "", "police", "high", "yes"),
        ("q7", "05/03/2024", "reading", "police", "extreme", "yes"),
        ("q8", "05/03/2024", "reading", "police", "high", "perhaps"),
        ("ok2", "05/03/2024", "Slough", "Carrier Pigeon", "Medium", "N"),
    ]
    df = pd.DataFrame(
        rows, columns=["contact_id", "received_at", "hub", "source", "priority", "rpa"]
    )
    path = write_csv(df, tmp_path / "q.csv")
    s = ingest_contacts(path, store=store_path)
    _identity(s)
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (10, 2, 8)
    assert s.quarantine_reasons == {
        "missing_contact_id": 1,
        "missing_received_at": 1,
        "unparseable_received_at": 1,
        "received_at_before_2000": 1,
        "received_at_in_future": 1,
        "missing_hub": 1,
        "invalid_priority": 1,
        "invalid_rpa": 1,
    }
    assert s.values_mapped_to_other == {"source": 1}
    with Store(store_path, read_only=True) as st:
        q = st.table("quarantine").set_index("reason")
        c = st.table("contacts").set_index("contact_id")
    assert q.loc["missing_contact_id", "row_number"] == 3
    assert q.loc["invalid_rpa", "row_number"] == 10
    assert q.loc["invalid_priority", "priority"] == "extreme"  # raw value kept for the analyst
    assert c.loc["ok2", "source"] == "other" and c.loc["ok2", "hub"] == "slough"
    assert c.loc["ok2", "rpa"] == False  # noqa: E712


def test_malformed_csv_rows_are_quarantined_with_line_numbers(tmp_path, store_path):
    text = (
        "contact_id,received_at,hub\n"
        "a,05/03/2024 10:00,reading\n"
        "b,05/03/2024 10:00,reading,extra\n"
        "c,05/03/2024 11:00,reading\n"
        "d\n"
        "e,06/03/2024,reading\n"
    )
    (tmp_path / "m.csv").write_text(text)
    s = ingest_contacts(tmp_path / "m.csv", store=store_path)
    _identity(s)
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (5, 3, 2)
    with Store(store_path, read_only=True) as st:
        q = st.table("quarantine")
        c = st.table("contacts").set_index("contact_id")
    assert sorted(q["row_number"]) == [3, 5]
    assert set(q["reason"]) == {"malformed_row"}
    assert c["row_number"].to_dict() == {"a": 2, "c": 4, "e": 6}


# --- PII never stored -------------------------------------------------------------------
def test_pii_columns_absent_from_store_bytes(tmp_path, store_path):
    df = make_contacts(50)
    df.insert(1, "Child Name", "Zebedee Quuxworthington")
    df["Date of Birth"] = "07/07/1977"
    df["NHS Number"] = "9434765919"
    df.loc[3, "priority"] = "bogus"  # one row goes to quarantine too
    path = write_csv(df, tmp_path / "pii.csv")
    s = ingest_contacts(path, store=store_path)
    assert s.dropped_columns == ["Child Name", "Date of Birth", "NHS Number"]
    assert s.rows_quarantined == 1
    with Store(store_path) as st:
        st.con.execute("CHECKPOINT")
    data = store_path.read_bytes()
    assert len(data) > 10_000
    for secret in (b"Zebedee", b"Quuxworthington", b"9434765919", b"07/07/1977", b"1977"):
        assert secret not in data, secret
    assert b"C000001" in data  # the search does find stored values


# --- idempotence and conflicts ----------------------------------------------------------
def test_reingest_adds_nothing(tmp_path, store_path):
    df = make_contacts(200)
    df.loc[5, "priority"] = "nonsense"
    path = write_csv(df, tmp_path / "a.csv")
    first = ingest_contacts(path, store=store_path)
    with Store(store_path, read_only=True) as st:
        counts = {t: st.count(t) for t in ("contacts", "quarantine", "conflicts")}
    second = ingest_contacts(path, store=store_path)
    _identity(second)
    assert (first.rows_accepted, first.rows_quarantined) == (199, 1)
    assert (second.rows_accepted, second.rows_duplicate, second.rows_quarantined) == (0, 199, 1)
    with Store(store_path, read_only=True) as st:
        assert {t: st.count(t) for t in counts} == counts
        assert st.count("ingests") == 2


def test_same_id_different_content_is_a_conflict(tmp_path, store_path):
    df = make_contacts(20)
    ingest_contacts(write_csv(df, tmp_path / "a.csv"), store=store_path)
    changed = df.copy()
    changed.loc[0, "priority"] = "urgent" if df.loc[0, "priority"] != "urgent" else "standard"
    changed.loc[20] = changed.loc[1]  # an exact repeat inside the file
    changed.loc[21] = df.loc[2].replace({df.loc[2, "outcome"]: "strategy_discussion"})
    changed.loc[22] = changed.loc[21]  # same content as the row above, within file
    s = ingest_contacts(write_csv(changed, tmp_path / "b.csv"), store=store_path)
    _identity(s)
    assert s.rows_accepted == 0
    assert s.rows_quarantined == 3 and s.rows_conflict == 3
    assert s.rows_duplicate == 20
    with Store(store_path, read_only=True) as st:
        c = st.table("contacts").set_index("contact_id")
        conflicts = st.table("conflicts")
    assert c.loc["C000000", "priority"] == df.loc[0, "priority"]  # not overwritten
    assert sorted(conflicts["contact_id"]) == ["C000000", "C000002", "C000002"]


def test_within_file_conflict_keeps_first(tmp_path, store_path):
    df = pd.DataFrame(
        {
            "contact_id": ["x", "x", "x"],
            "received_at": ["05/03/2024 10:00", "05/03/2024 10:00", "05/03/2024 10:05"],
            "hub": ["reading"] * 3,
        }
    )
    s = ingest_contacts(write_csv(df, tmp_path / "w.csv"), store=store_path)
    assert (s.rows_accepted, s.rows_duplicate, s.rows_quarantined) == (1, 1, 1)
    assert s.quarantine_reasons == {"conflict_within_file": 1}
    got = stored(store_path)
    assert got.loc[0, schema.RECEIVED_AT_UTC] == pd.Timestamp("2024-03-05 10:00")


# --- mapping ----------------------------------------------------------------------------
def test_mapping_file_renames_export_columns(tmp_path, store_path):
    df = make_contacts(30).rename(
        columns={"contact_id": "Contact Ref", "received_at": "Date Received", "hub": "MASH"}
    )
    (tmp_path / "map.toml").write_text(
        '[columns]\ncontact_id = "Contact Ref"\nreceived_at = "date received"\nhub = "MASH"\n'
    )
    s = ingest_contacts(
        write_csv(df, tmp_path / "e.csv"), store=store_path, mapping=tmp_path / "map.toml"
    )
    assert s.rows_accepted == 30 and s.dropped_columns == []


def test_bad_mapping_file(tmp_path, store_path):
    (tmp_path / "map.toml").write_text('[columns]\nname = "Child Name"\n')
    with pytest.raises(IngestError, match=r"map\.toml: unknown canonical column 'name'"):
        ingest_contacts(
            write_csv(make_contacts(5), tmp_path / "e.csv"),
            store=store_path,
            mapping=tmp_path / "map.toml",
        )


# --- unreadable files: one line, exit 2, nothing written --------------------------------
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("blank.csv", b"\n\n", "no header row"),
        ("header.csv", b"contact_id,received_at,hub\n", "no data rows"),
        ("cols.csv", b"id,when\n1,2\n", "missing required column(s) contact_id, received_at, hub"),
        ("bin.csv", b"\x00\x01\x02\x00PK\x03\x04", "not a text table"),
        ("fake.xlsx", b"not a workbook", "cannot be read as an XLSX workbook"),
        ("fake.parquet", b"not parquet", "cannot be read as Parquet"),
        ("notes.docx", b"x", "unsupported file type .docx"),
    ],
)
def test_unreadable_file_cli(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    store = tmp_path / "s.duckdb"
    r = runner.invoke(app, ["ingest", str(tmp_path / name), "--store", str(store)])
    assert r.exit_code == 2
    assert message in r.stderr
    assert name in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.output + r.stderr
    assert not store.exists()


def test_one_bad_file_writes_nothing(tmp_path):
    good = write_csv(make_contacts(10), tmp_path / "good.csv")
    (tmp_path / "bad.csv").write_text("nope\n1\n")
    with pytest.raises(IngestError):
        ingest_contacts([good, tmp_path / "bad.csv"], store=tmp_path / "s.duckdb")
    assert not (tmp_path / "s.duckdb").exists()


def test_cli_summary_json(tmp_path):
    path = write_csv(make_contacts(40), tmp_path / "a.csv")
    out = tmp_path / "summary.json"
    store = tmp_path / "s.duckdb"
    r = runner.invoke(app, ["ingest", str(path), "--store", str(store), "--summary-json", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads(out.read_text())
    for key in (
        "rows_read",
        "rows_accepted",
        "rows_duplicate",
        "rows_quarantined",
        "quarantine_reasons",
        "dropped_columns",
        "min_received_at",
        "max_received_at",
    ):
        assert key in s
    assert s["rows_read"] == 40 == s["rows_accepted"]
    first = make_contacts(40)["received_at"].iloc[0]  # sorted by time in the fixture
    assert pd.Timestamp(s["min_received_at"]).strftime("%d/%m/%Y %H:%M") == first
    r = runner.invoke(app, ["summary", "--store", str(store)])
    assert r.exit_code == 0 and "40 contacts in" in r.output


# --- the store --------------------------------------------------------------------------
def test_store_schema_version_and_newer_store(tmp_path):
    p = tmp_path / "s.duckdb"
    with Store(p) as st:
        assert st.schema_version() == SCHEMA_VERSION == 3
        st.con.execute("INSERT INTO schema_version VALUES (99, 'future', now()::TIMESTAMP)")
    with pytest.raises(StoreError, match="newer"):
        Store(p)
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.close()
    with Store(tmp_path / "other.duckdb") as st:  # an empty DuckDB file is migrated
        assert st.schema_version() == 3


def test_daily_counts_zero_filled_and_additive(tmp_path, store_path):
    df = make_contacts(400)
    df.loc[:9, "priority"] = ""  # missing values are counted as "unknown"
    ingest_contacts(write_csv(df, tmp_path / "a.csv"), store=store_path)
    with Store(store_path, read_only=True) as st:
        total = st.daily_counts()
        split = st.daily_counts(by=["source", "priority", "subject"])
    assert total["contacts"].sum() == split["contacts"].sum() == 400
    per_hub_days = total.groupby("hub")["date"].agg(["min", "max", "count"])
    spans = (per_hub_days["max"] - per_hub_days["min"]).dt.days + 1
    assert (spans == per_hub_days["count"]).all()  # every day present
    assert (total["contacts"] == 0).sum() > 0
    assert "unknown" in set(split["priority"])
    back = split.groupby(["hub", "date"])["contacts"].sum().reset_index()
    merged = total.merge(back, on=["hub", "date"], how="left", suffixes=("", "_split")).fillna(0)
    assert (merged["contacts"] == merged["contacts_split"]).all()
    with pytest.raises(StoreError, match="cannot split by outcome"):
        Store(store_path, read_only=True).daily_counts(by=["outcome"])


def test_uk_summer_time_arithmetic_matches_tzdata_hour_by_hour():
    """The SQL rule for Europe/London equals tzdata at every half hour, 2000-2037.

    2037 is the last year: some builds of the tz database (and pandas' reading of it) list no
    transitions after 2037 and keep GMT all year from 2038, while the UK rule goes on.
    """
    from mashdemand.ingest.parsing import connect

    utc = pd.date_range("2000-01-01", "2037-12-31 23:30", freq="30min")
    local = utc.tz_localize("UTC").tz_convert("Europe/London").tz_localize(None)
    con = connect()
    con.register("t", pd.DataFrame({"utc": utc, "local": local}))
    got = con.execute(
        "SELECT md_utc_to_local(utc) AS l, md_local_to_utc(local) AS u FROM t ORDER BY utc"
    ).df()
    assert (got["l"].to_numpy() == local.to_numpy()).all()
    # local -> UTC is the inverse except in the autumn overlap, where the first (BST)
    # occurrence is taken: exactly two half-hours a year map back one hour early.
    back = got["u"].to_numpy()
    differ = back != utc.to_numpy()
    assert differ.sum() == 2 * 38
    assert ((utc.to_numpy()[differ] - back[differ]) == pd.Timedelta(hours=1).to_timedelta64()).all()


def test_typed_timestamps_missing_or_present(tmp_path):
    """Typed (Parquet) timestamps: a missing received_at quarantines the row, a missing
    decided_at does not, and both are read as local UK time."""
    df = make_contacts(4)
    typed = df.assign(
        received_at=pd.to_datetime(df["received_at"], format="%d/%m/%Y %H:%M"),
        decided_at=pd.to_datetime(df["decided_at"]),
    )
    typed.loc[1, "received_at"] = pd.NaT
    typed.loc[2, "decided_at"] = pd.NaT
    typed.loc[3, ["received_at", "decided_at"]] = [
        pd.Timestamp("2024-07-01 09:00"),
        pd.Timestamp("2024-07-01 10:30"),
    ]
    typed.to_parquet(tmp_path / "t.parquet")
    s = ingest_contacts(tmp_path / "t.parquet", store=tmp_path / "s.duckdb")
    assert (s.rows_accepted, s.quarantine_reasons) == (3, {"missing_received_at": 1})
    got = stored(tmp_path / "s.duckdb").set_index(schema.CONTACT_ID)
    assert pd.isna(got.loc["C000002", schema.DECIDED_AT_UTC])
    assert got.loc["C000003", schema.RECEIVED_AT_UTC] == pd.Timestamp("2024-07-01 08:00")
    assert got.loc["C000003", schema.DECIDED_AT_UTC] == pd.Timestamp("2024-07-01 09:30")

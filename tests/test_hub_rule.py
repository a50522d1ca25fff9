"""One hub rule everywhere (mashdemand.hubs): the ingest SQL and Python agree; every reader
applies it."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from mashdemand import drivers
from mashdemand.forecast.counts import CountsError, read_counts
from mashdemand.hubs import (
    HUB_SLUG_PATTERN,
    display_name,
    hub_problem,
    hub_slug,
    hub_text,
    validate_hubs,
)
from mashdemand.ingest import parsing
from mashdemand.report.fms import read_establishment
from mashdemand.report.quarterly import ReportError
from mashdemand.schema import SchemaError

# Spaces, underscores, unicode, "|", "=", tabs, CR, LF, leading hyphen, and letters whose lower
# case differs between Python and DuckDB ("İ" is "i̇" in Python, "i" in DuckDB).
TRICKY: dict[str, str | None] = {
    "reading": "reading",
    " Reading ": "reading",
    "Milton Keynes": "milton-keynes",
    "milton_keynes": "milton-keynes",
    "milton  keynes": "milton-keynes",
    "\u00a0reading\u00a0": "reading",
    "reading_": "reading-",
    "West-Berkshire": "west-berkshire",
    "123": "123",
    "north|south": None,
    '=HYPERLINK("http://x","y")': None,
    "@sum": None,
    "+1": None,
    "-reading": None,
    "_reading": None,
    "a\tb": None,
    "reading\t": None,
    "\treading": None,
    "reading\r": None,
    "x\ny": None,
    "café": None,
    "\u0130stanbul": None,
    "\u212aent": None,  # Kelvin sign: lower-cases to ASCII "k" in both engines
    "x\u2003y": None,
    "": None,
    "   ": None,
}


def _ingest_sql_hubs(values: list[str]) -> tuple[list[str | None], list[str | None]]:
    """Hub and quarantine reason from the ingest SQL, as ingest runs it (pretokenised)."""
    raw = pd.DataFrame(
        {
            "contact_id": [f"c{i}" for i in range(len(values))],
            "received_at": "01/02/2024 10:00",
            "hub": values,
        }
    )
    con = parsing.connect()
    try:
        table, done = parsing.pretokenise(pa.Table.from_pandas(raw, preserve_index=False), con)
        table = table.append_column("row_number", pa.array(range(2, len(values) + 2)))
        types = {f.name: f.type for f in table.schema}
        con.register("_raw", table)
        sql = parsing.parse_sql("_raw", types, pd.Timestamp.now(tz="UTC"), pretokenised=done)
        out = con.execute(sql + " ORDER BY row_number").df()
    finally:
        con.close()
    hubs = [None if pd.isna(h) else h for h in out["hub"]]
    return hubs, [None if pd.isna(r) else r for r in out["reason"]]


def test_ingest_sql_and_python_rule_agree_on_tricky_values():
    values = list(TRICKY)
    sql_hubs, reasons = _ingest_sql_hubs(values)
    direct = parsing.parse_contacts(
        pd.DataFrame({"contact_id": values, "received_at": "01/02/2024 10:00", "hub": values})
    )
    for value, sql_hub, reason, direct_hub in zip(
        values, sql_hubs, reasons, direct["hub"], strict=True
    ):
        expected = TRICKY[value]
        assert hub_slug(value) == expected, value
        assert sql_hub == expected, value
        assert (None if pd.isna(direct_hub) else direct_hub) == expected, value
        if expected is None:
            assert reason == ("missing_hub" if hub_text(value) is None else "invalid_hub"), value
        else:
            assert reason is None and pd.Series([expected]).str.fullmatch(HUB_SLUG_PATTERN)[0]


def test_sql_is_built_from_the_rule_constants():
    from mashdemand.hubs import HUB_FORM, HUB_SEPARATORS

    assert HUB_SEPARATORS in parsing.TOKEN_SQL["hub"] and HUB_FORM in parsing.HUB_SQL


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "missing hub"),
        (None, "missing hub"),
        ("north|south", "contains '|'"),
        ("north\tsouth", "control character"),
        ("north\rsouth", "control character"),
        ('=HYPERLINK("http://x","y")', "is not a hub slug"),
    ],
)
def test_validate_hubs_names_file_row_column_and_what_is_wrong(value, words):
    with pytest.raises(CountsError) as err:
        validate_hubs(["reading", "slough", value], "counts.csv", error=CountsError)
    msg = str(err.value)
    assert "\n" not in msg and "\r" not in msg
    assert msg.startswith("counts.csv: row 4, column hub: ")  # header is row 1
    assert words in msg
    assert hub_problem(value) is not None and hub_problem("reading") is None


def test_validate_hubs_returns_the_slugs_and_cuts_a_long_value():
    assert validate_hubs(["Milton Keynes", "west_berkshire"], "f.csv") == [
        "milton-keynes",
        "west-berkshire",
    ]
    with pytest.raises(ValueError) as err:
        validate_hubs(["=" + "x" * 500], "f.csv", first_row=1)
    assert "row 1, column hub" in str(err.value) and len(str(err.value)) < 250


def test_display_name():
    assert display_name("bracknell-forest") == "Bracknell Forest"
    assert display_name("windsor-and-maidenhead") == "Windsor and Maidenhead"
    assert display_name("north-east") == "North East"
    assert display_name("ALL") == "Force total"


# --- every reader applies it -----------------------------------------------------------------
def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_counts_pipe_hub_is_refused_not_renamed(tmp_path):
    """Before: ``north|south`` passed, and the forecast split it to ``north`` (issue 10)."""
    path = _write(
        tmp_path,
        "pipe.csv",
        "hub,date,contacts\nreading,2024-01-01,5\nnorth|south,2024-01-01,7\n"
        "reading,2024-01-02,5\nnorth|south,2024-01-02,3\n",
    )
    with pytest.raises(CountsError, match=r"pipe\.csv: row 3, column hub: 'north\|south'"):
        read_counts(path)


def test_counts_hubs_get_the_ingest_slug(tmp_path):
    path = _write(
        tmp_path,
        "ok.csv",
        "hub,date,contacts\nMilton Keynes,2024-01-01,5\nmilton_keynes,2024-01-02,6\n",
    )
    df, freq = read_counts(path)
    assert freq == "day"
    assert df["hub"].tolist() == ["milton-keynes", "milton-keynes"]
    assert df["contacts"].tolist() == [5, 6]


def test_drivers_hubs_get_the_ingest_slug(tmp_path):
    """Before: population and housing only lower-cased (``milton_keynes`` stayed, and never
    matched the contact logs' ``milton-keynes``)."""
    pop = _write(
        tmp_path,
        "population.csv",
        "hub,year,age_band,population,kind\nMilton_Keynes,2023,all,290000,estimate\n",
    )
    assert drivers.read_population(pop)["hub"].tolist() == ["milton-keynes"]
    hou = _write(
        tmp_path,
        "housing.csv",
        "hub,year,net_additional_dwellings,kind\nMilton Keynes,2023,9,actual\n",
    )
    assert drivers.read_housing(hou)["hub"].tolist() == ["milton-keynes"]
    bad = _write(
        tmp_path,
        "bad_pop.csv",
        "hub,year,age_band,population,kind\nreading,2023,all,1,estimate\n"
        "north|south,2023,all,1,estimate\n",
    )
    with pytest.raises(SchemaError, match=r"bad_pop\.csv: row 2, column hub: 'north\|south'"):
        drivers.read_population(bad)


def test_establishment_hubs_get_the_ingest_slug(tmp_path):
    ok = _write(tmp_path, "est.csv", "hub,role,fte\nMilton Keynes,Social worker,4.5\n")
    est = read_establishment(ok)
    assert est.to_dict("list") == {
        "hub": ["milton-keynes"],
        "role": ["social worker"],
        "fte": [4.5],
    }
    bad = _write(tmp_path, "bad.csv", "hub,fte\nreading,2\n,3\n")
    with pytest.raises(ReportError, match=r"bad\.csv: row 3, column hub: missing hub"):
        read_establishment(bad)

"""mashdemand.safety and the store's own checks: safe outputs, private files, signals."""

from __future__ import annotations

import os
import signal
import stat

import duckdb
import pytest

from mashdemand.ingest.pipeline import IngestSummary
from mashdemand.safety import (
    Interrupted,
    UnsafePathError,
    check_outputs,
    make_private,
    private_umask,
    same_file,
    stop_on_signals,
)
from mashdemand.store import CONNECT_CONFIG, Store, StoreError, check_store_file


def _mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# -- check_outputs ----------------------------------------------------------------------------
def test_check_outputs_refuses_the_store_its_wal_and_inputs(tmp_path):
    store, data = tmp_path / "s.duckdb", tmp_path / "a.csv"
    data.write_text("x\n")
    check_outputs([tmp_path / "summary.json", None], store=store, inputs=[data])
    with pytest.raises(UnsafePathError, match=r"^--summary-json .*s\.duckdb is the store; choose"):
        check_outputs([store], store=store, names=["--summary-json"])
    with pytest.raises(UnsafePathError, match="is the store"):
        check_outputs([tmp_path / "s.duckdb.wal"], store=store)
    with pytest.raises(UnsafePathError, match="a.csv is an input file; choose another path"):
        check_outputs([tmp_path / "sub" / ".." / "a.csv"], inputs=[data])
    check_outputs([":memory:"], store=":memory:")  # a throwaway store is no file


def test_check_outputs_sees_links_to_the_same_file(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("x\n")
    (tmp_path / "sym.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    assert same_file(tmp_path / "sym.csv", data)
    assert same_file(tmp_path / "hard.csv", data)
    assert not same_file(tmp_path / "other.csv", data)
    for alias in ("sym.csv", "hard.csv"):
        with pytest.raises(UnsafePathError):
            check_outputs([tmp_path / alias], inputs=[data])


# -- private files ----------------------------------------------------------------------------
def test_private_umask_is_restored(tmp_path):
    old = os.umask(0o022)
    try:
        with private_umask():
            (tmp_path / "inside").write_text("x")
            (tmp_path / "dir").mkdir()
        (tmp_path / "after").write_text("x")
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(old)
    assert _mode(tmp_path / "inside") == 0o600
    assert _mode(tmp_path / "dir") == 0o700
    assert _mode(tmp_path / "after") == 0o644


def test_make_private(tmp_path):
    f, d = tmp_path / "f", tmp_path / "d"
    f.write_text("x")
    d.mkdir()
    f.chmod(0o664)
    d.chmod(0o775)
    make_private(f)
    make_private(d)
    make_private(tmp_path / "missing")  # no error
    assert (_mode(f), _mode(d)) == (0o600, 0o700)


def test_store_and_summary_are_private_under_a_loose_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with Store(tmp_path / "a" / "b" / "s.duckdb") as st:
            assert st.created
        IngestSummary("s", 0, 0, 0, 0, 0, {}, [], {}, None, None, []).to_json(
            tmp_path / "out" / "sum.json"
        )
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a" / "b" / "s.duckdb") == 0o600
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(tmp_path / "out" / "sum.json") == 0o600
    assert _mode(tmp_path / "out") == 0o700
    with Store(tmp_path / "a" / "b" / "s.duckdb") as st:
        assert not st.created


# -- what the store accepts -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "looks"),
    [
        (b"contact_id,hub\nC1,reading\n", "CSV/text"),
        (b"PAR1\x15\x04", "Parquet"),
        (b'  {"a": 1}', "JSON"),
        (b"SQLite format 3\x00" + bytes(100), "an SQLite database"),
        (b"PK\x03\x04" + bytes(20), "a ZIP/XLSX file"),
    ],
)
def test_store_refuses_files_that_are_not_duckdb(tmp_path, content, looks):
    path = tmp_path / "x.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=rf"not a DuckDB store \(looks like {looks}\)"):
        Store(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.duckdb"]


def test_store_accepts_its_own_files_and_folders_are_refused(tmp_path):
    with Store(tmp_path / "s.duckdb"):
        pass
    check_store_file(tmp_path / "s.duckdb")
    check_store_file(tmp_path / "new.duckdb")
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_connections_never_autoload_extensions(tmp_path):
    assert CONNECT_CONFIG == {
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
    }
    with Store(tmp_path / "s.duckdb") as st:
        settings = dict(
            st.con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('autoload_known_extensions', 'autoinstall_known_extensions')"
            ).fetchall()
        )
        assert settings == {
            "autoload_known_extensions": "false",
            "autoinstall_known_extensions": "false",
        }
        with pytest.raises(duckdb.Error):  # would autoload the sqlite scanner
            st.con.execute("SELECT * FROM sqlite_scan('x.db', 't')").fetchall()


# -- signals ----------------------------------------------------------------------------------
def test_stop_on_signals_records_and_raises_interrupted():
    before = signal.getsignal(signal.SIGTERM)
    calls = []
    with pytest.raises(Interrupted) as info, stop_on_signals(lambda: calls.append(1)) as guard:
        os.kill(os.getpid(), signal.SIGTERM)
        assert guard.signum == signal.SIGTERM
        guard.check()
    assert info.value.exit_code == 143
    assert str(info.value) == ("interrupted (SIGTERM); nothing was stored, the store is as it was")
    assert calls == [1]
    assert signal.getsignal(signal.SIGTERM) is before


def test_stop_on_signals_turns_errors_after_a_signal_into_interrupted():
    with pytest.raises(Interrupted) as info, stop_on_signals() as guard:
        guard.hold()
        os.kill(os.getpid(), signal.SIGINT)
        raise RuntimeError("Query interrupted")  # what DuckDB raises
    assert info.value.exit_code == 130
    with pytest.raises(Interrupted), stop_on_signals():
        raise KeyboardInterrupt  # pyarrow's own SIGINT handler raises this
    with pytest.raises(ValueError), stop_on_signals():
        raise ValueError("no signal: the error itself")

"""Benchmark: ingest of a full-size force against DuckDB's own CSV load.

Generates the whole sample force (9 hubs, January 2017 to the latest complete quarter, over a
million contacts) as one CSV with UK day-first timestamps, then, each in a fresh process so
that peak memory is that step's own:

1. DuckDB's own load of that CSV into a table of a new database file (the reference);
2. ``mashdemand ingest`` of the CSV into a new store;
3. the same ingest again (idempotent: nothing added).

Prints a table and writes it to ``reports/benchmarks/ingest.md`` (and ``.csv``).
Goal (issue 2): ingest within 3x DuckDB's load, peak memory under 2 GB.

Run: ``python benchmarks/ingest.py [--rows-scale 1.0] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"

DUCKDB_LOAD = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE contacts AS SELECT * FROM read_csv(?)", [sys.argv[1]])
n = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
con.close()
print(n)
"""

INGEST = """
import json, sys
from mashdemand import ingest_contacts
s = ingest_contacts(sys.argv[1], store=sys.argv[2])
print(json.dumps({k: v for k, v in s.to_dict().items() if k != "files"}))
"""


def run_measured(code: str, *args: str) -> tuple[float, float, str]:
    """Run ``python -c code args`` in a fresh process: (seconds, peak RSS [MB], last stdout line).

    Output goes to temporary files (a pipe could fill and stall the child before ``wait4``).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark step failed: {stderr.strip().splitlines()[-3:]}")
    return seconds, usage.ru_maxrss / 1024, (stdout.strip().splitlines() or [""])[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="volume multiplier for the force")
    ap.add_argument("--repeat", type=int, default=3, help="timed repetitions of each step")
    ap.add_argument("--end", default="2026-09-30", help="last day of the generated force")
    args = ap.parse_args()

    from mashdemand.sample import generate_contacts

    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        csv = tmpd / "contacts_full.csv"
        t0 = time.perf_counter()
        df = generate_contacts(end=args.end, scale=args.scale, progress=True)
        gen_s = time.perf_counter() - t0
        for col in ("received_at", "decided_at"):
            df[col] = df[col].dt.strftime("%d/%m/%Y %H:%M:%S")
        df.to_csv(csv, index=False)
        rows = len(df)
        del df
        size_mb = csv.stat().st_size / 1e6
        print(f"generated {rows:,} contacts in {gen_s:.1f} s; CSV {size_mb:.0f} MB")

        records = []
        for i in range(args.repeat):
            ref_db, store = tmpd / f"ref{i}.duckdb", tmpd / f"store{i}.duckdb"
            d_s, d_mb, n = run_measured(DUCKDB_LOAD, str(csv), str(ref_db))
            assert int(n) == rows, (n, rows)
            i1_s, i1_mb, out1 = run_measured(INGEST, str(csv), str(store))
            s1 = json.loads(out1)
            i2_s, i2_mb, out2 = run_measured(INGEST, str(csv), str(store))
            s2 = json.loads(out2)
            assert s1["rows_accepted"] == rows and s2["rows_accepted"] == 0
            assert s2["rows_duplicate"] == rows
            records += [
                {"run": i + 1, "step": "duckdb read_csv -> table", "seconds": d_s, "peak_mb": d_mb},
                {
                    "run": i + 1,
                    "step": "mashdemand ingest (new store)",
                    "seconds": i1_s,
                    "peak_mb": i1_mb,
                },
                {
                    "run": i + 1,
                    "step": "mashdemand ingest again (idempotent)",
                    "seconds": i2_s,
                    "peak_mb": i2_mb,
                },
            ]
            for p in (ref_db, store):
                p.unlink(missing_ok=True)

    res = pd.DataFrame(records)
    table = res.groupby("step", sort=False).agg(
        seconds_median=("seconds", "median"),
        seconds_min=("seconds", "min"),
        peak_mb_max=("peak_mb", "max"),
    )
    ref = table.loc["duckdb read_csv -> table", "seconds_median"]
    table["x_duckdb"] = table["seconds_median"] / ref
    table["goal"] = ["reference", "<= 3x, < 2048 MB", "<= 3x, < 2048 MB"]
    table["met"] = [
        "",
        *[
            "yes" if (r.x_duckdb <= 3 and r.peak_mb_max < 2048) else "NO"
            for r in table.iloc[1:].itertuples()
        ],
    ]
    text = (
        f"# Ingest benchmark\n\n{rows:,} contact rows ({size_mb:.0f} MB CSV, UK day-first "
        f"timestamps), {args.repeat} runs, median seconds; each step in a fresh process "
        f"(peak = max resident set size). Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"duckdb {_version('duckdb')}, pandas {pd.__version__}, pyarrow {_version('pyarrow')}. "
        f"Run {time.strftime('%d/%m/%Y %H:%M')}.\n\n"
        + markdown_table(table.round(2).reset_index())
        + "\n"
    )
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.md").write_text(text, encoding="utf-8")
    res.to_csv(OUT / "ingest.csv", index=False)
    print(f"wrote {OUT / 'ingest.md'}")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-style markdown table (no extra dependency)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _version(mod: str) -> str:
    import importlib.metadata as md

    return md.version(mod)


if __name__ == "__main__":
    main()

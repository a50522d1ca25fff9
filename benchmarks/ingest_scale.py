"""Benchmark: ingest of a sample nation (about 20 million contacts in ~140 files) against
DuckDB's own load of the same files, for CSV and for Parquet.

Issue 13 (part 1): 20 million contact rows, many files, streamed; peak memory under 4 GB;
time within 3x DuckDB's own load of the same files, measured in the same run; row accounting
exactly as for one force.

Steps, each in a fresh process so that peak memory (maximum resident set size, from
``wait4``) is that step's own:

1. generate the nation with ``write_nation`` (the hubs whose expected contacts first reach
   ``--rows``), once as CSV and once as Parquet, one file per hub;
2. for each format: DuckDB's own load (``read_csv``/``read_parquet`` of the glob into a table
   of a new database file), the reference;
3. ``mashdemand ingest`` of the same folder into a new store; its summary must account for
   every row (``rows_read == rows_accepted + rows_duplicate + rows_quarantined``) and read
   as many rows as DuckDB loaded.

Prints a table and writes it to ``reports/benchmarks/ingest_scale.md`` (and ``.csv``).

Run: ``python benchmarks/ingest_scale.py`` (full size, once: it took about 10 minutes on
two cores) or ``python benchmarks/ingest_scale.py --rows 500000 --no-write`` (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import _version, markdown_table, run_measured  # noqa: E402

GOAL_RATIO = 3.0  # x DuckDB's own load
GOAL_MB = 4096.0  # peak resident memory [MB]

DUCKDB_LOAD = """
import duckdb, sys
reader, pattern, db = sys.argv[1:4]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute(f"CREATE TABLE contacts AS SELECT * FROM {reader}(?)", [pattern])
n = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
con.close()
print(n)
"""

INGEST = """
import json, sys
from mashdemand import ingest_contacts
s = ingest_contacts(sys.argv[1], store=sys.argv[2])
print(json.dumps({k: v for k, v in s.to_dict().items() if k != "files"} | {"files": len(s.files)}))
"""

GENERATE = """
import sys
from mashdemand.sample import write_nation
out, hubs, fmt, start, end = sys.argv[1:6]
write_nation(out, int(hubs), fmt=fmt, start=start, end=end)
"""


def hubs_for(rows: int, start: str, end: str) -> tuple[int, float]:
    """The smallest nation whose expected contacts reach ``rows``, and that expectation."""
    from mashdemand.sample import nation_expected_contacts

    n = 16
    while True:
        total = nation_expected_contacts(n, start=start, end=end).cumsum()
        if total.iloc[-1] >= rows:
            k = int((total < rows).sum()) + 1
            return k, float(total.iloc[k - 1])
        n *= 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000, help="target contacts (expected)")
    ap.add_argument("--hubs", type=int, default=None, help="hubs (instead of --rows)")
    ap.add_argument("--start", default="2017-01-01", help="first day of the nation")
    ap.add_argument("--end", default="2026-09-30", help="last day of the nation")
    ap.add_argument("--formats", default="csv,parquet", help="comma-separated: csv, parquet")
    ap.add_argument("--tmp", default=None, help="folder for the files (default: system temp)")
    ap.add_argument("--no-write", action="store_true", help="print only (a smoke run)")
    ap.add_argument(
        "--repeats", type=int, default=3, help="runs of each load, alternating (default 3)"
    )
    args = ap.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]

    if args.hubs is None:
        n_hubs, expected = hubs_for(args.rows, args.start, args.end)
    else:
        n_hubs, expected = args.hubs, float("nan")
    print(f"nation of {n_hubs} hubs, {expected:,.0f} contacts expected", flush=True)

    records = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        tmpd = Path(tmp)
        for fmt in formats:
            nation = tmpd / f"nation_{fmt}"
            gen_s, gen_mb, _ = run_measured(
                GENERATE, str(nation), str(n_hubs), fmt, args.start, args.end
            )
            folder = nation / "contacts"
            files = sorted(folder.iterdir())
            size_mb = sum(p.stat().st_size for p in files) / 1e6
            print(f"{fmt}: generated {len(files)} files, {size_mb:,.0f} MB in {gen_s:.0f} s "
                  f"(peak {gen_mb:,.0f} MB)", flush=True)  # fmt: skip
            reader = "read_csv" if fmt == "csv" else "read_parquet"
            # DuckDB's load and the ingest alternate, so that a shared machine's slow spells
            # fall on both; each pair gives a ratio, and the median pair is reported.
            pairs = []
            for k in range(args.repeats):
                ref_db = tmpd / f"ref_{fmt}.duckdb"
                d_s, d_mb, n = run_measured(
                    DUCKDB_LOAD, reader, str(folder / f"*.{fmt}"), str(ref_db)
                )
                rows = int(n)
                ref_db.unlink()
                store = tmpd / f"store_{fmt}.duckdb"
                i_s, i_mb, out = run_measured(INGEST, str(folder), str(store))
                store.unlink()
                s = json.loads(out)
                print(f"{fmt} run {k + 1}: duckdb {rows:,} rows in {d_s:.1f} s "
                      f"(peak {d_mb:,.0f} MB); mashdemand {s['rows_read']:,} rows in "
                      f"{i_s:.1f} s (peak {i_mb:,.0f} MB): "
                      f"{i_s / d_s:.2f}x", flush=True)  # fmt: skip
                accounted = s["rows_accepted"] + s["rows_duplicate"] + s["rows_quarantined"]
                assert s["rows_read"] == accounted, ("rows lost", s)
                assert s["rows_read"] == rows, (
                    "rows read differ from DuckDB's",
                    s["rows_read"],
                    rows,
                )
                assert s["files"] == len(files)
                pairs.append((i_s / d_s, d_s, d_mb, i_s, i_mb, s))
            pairs.sort(key=lambda p: p[0])
            _, d_s, _, i_s, _, s = pairs[len(pairs) // 2]
            d_mb = max(p[2] for p in pairs)
            i_mb = max(p[4] for p in pairs)
            runs = ", ".join(f"{p[0]:.2f}" for p in pairs)
            shutil.rmtree(nation)
            common = {"format": fmt, "rows": rows, "files": len(files), "MB": round(size_mb)}
            records += [
                common
                | {
                    "step": f"duckdb {reader} -> table",
                    "seconds": d_s,
                    "peak_mb": d_mb,
                    "accounted": "",
                    "ratios": "",
                },
                common
                | {
                    "step": "mashdemand ingest FOLDER (new store)",
                    "seconds": i_s,
                    "peak_mb": i_mb,
                    "accounted": (
                        f"{s['rows_read']:,} read = {s['rows_accepted']:,} stored + "
                        f"{s['rows_quarantined']:,} quarantined + "
                        f"{s['rows_duplicate']:,} duplicate"
                    ),
                    "ratios": runs,
                },
            ]

    res = pd.DataFrame(records)
    ref = res[res["step"].str.startswith("duckdb")].set_index("format")["seconds"]
    res["x_duckdb"] = res["seconds"] / res["format"].map(ref)
    is_ref = res["step"].str.startswith("duckdb")
    res["goal"] = ["reference" if r else f"<= {GOAL_RATIO:g}x, < {GOAL_MB:.0f} MB" for r in is_ref]
    res["met"] = [
        ""
        if r
        else (
            "yes"
            if (x <= GOAL_RATIO and mb < GOAL_MB)
            else "time NO"
            if mb < GOAL_MB
            else ("memory NO" if x <= GOAL_RATIO else "NO")
        )
        for r, x, mb in zip(is_ref, res["x_duckdb"], res["peak_mb"], strict=True)
    ]
    cols = ["format", "step", "rows", "files", "MB", "seconds", "peak_mb", "x_duckdb", "goal",
            "met", "accounted", "ratios"]  # fmt: skip
    res = res[cols]
    text = (
        f"# Ingest at scale\n\nA sample nation of {n_hubs} hubs (`mashdemand sample --hubs "
        f"{n_hubs}`, {args.start} to {args.end}), one contact log per hub, loaded by DuckDB's "
        f"own reader (the reference) and by `mashdemand ingest FOLDER`, each in a fresh process, "
        f"{args.repeats} times, alternating; the row shows the run with the median ratio, "
        f"`ratios` every run's (ingest / DuckDB of the same round), peak the maximum resident "
        f"set size over the runs. MB = size of the files. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}, duckdb {_version('duckdb')}, pyarrow "
        f"{_version('pyarrow')}. Run {time.strftime('%d/%m/%Y %H:%M')}.\n\n"
        + markdown_table(res.round({"seconds": 1, "peak_mb": 0, "x_duckdb": 2}))
        + "\n"
    )
    print(text)
    if not args.no_write:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "ingest_scale.md").write_text(text, encoding="utf-8")
        res.to_csv(OUT / "ingest_scale.csv", index=False)
        print(f"wrote {OUT / 'ingest_scale.md'}")


if __name__ == "__main__":
    main()

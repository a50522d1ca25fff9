#!/usr/bin/env bash
# Produce the quarterly report and the FMS appendix (published and internal) from the sample force.
# Usage: bash scripts/report_outputs.sh CODE_DIR OUT_ROOT
#   e.g. bash scripts/report_outputs.sh /work/before /tmp/before   (a worktree at the old commit)
#        bash scripts/report_outputs.sh .            /tmp/after
# Writes OUT_ROOT/q, OUT_ROOT/fms, OUT_ROOT/fms_int (one fresh store OUT_ROOT/store.duckdb,
# used by the three commands in this order) and a log of each command in OUT_ROOT/logs/.
# The package has no __main__, so the CLI is called through mashdemand.cli:main.
set -euo pipefail
CODE=$(cd "${1:?code dir}" && pwd)
OUT=$(mkdir -p "${2:?out root}" && cd "$2" && pwd)
cd "$CODE"   # --sample reads data/sample of the working folder
export PYTHONPATH="$CODE" OMP_NUM_THREADS=1 MPLBACKEND=Agg
md() { python -c 'from mashdemand.cli import main; main()' "$@"; }
rm -rf "$OUT/q" "$OUT/fms" "$OUT/fms_int" "$OUT/logs" "$OUT/store.duckdb" "$OUT/store.duckdb.wal"
mkdir -p "$OUT/logs"
python -c 'import mashdemand; print(mashdemand.__file__)' | tee "$OUT/logs/import.txt"
git -C "$CODE" rev-parse HEAD > "$OUT/logs/commit.txt" || true
STORE="$OUT/store.duckdb"
run() { local name=$1; shift; local t0=$SECONDS
  md "$@" >"$OUT/logs/$name.out" 2>"$OUT/logs/$name.err"
  echo "$name: $((SECONDS - t0)) s" | tee -a "$OUT/logs/times.txt"; }
run q       report quarterly --sample --quarter 2026Q3 --store "$STORE" --out "$OUT/q" --jobs 1
run fms     fms-appendix --year 2026 --sample --store "$STORE" --out "$OUT/fms" --jobs 1
run fms_int fms-appendix --year 2026 --sample --internal --store "$STORE" --out "$OUT/fms_int" --jobs 1

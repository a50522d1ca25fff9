#!/usr/bin/env bash
# Compare two output roots made by scripts/report_outputs.sh.
# Usage: bash scripts/compare_report_outputs.sh CODE_DIR BEFORE_ROOT AFTER_ROOT [SUMMARY.md]
# Masks only what differs between any two runs: the store path, timestamps, run time in seconds.
set -euo pipefail
python "$1/scripts/compare_outputs.py" "$2" "$3" \
  --ignore 'logs/*' --ignore 'store.duckdb*' \
  --ignore-key '$.store' --ignore-key '*.created_at' --ignore-key '$.seconds' \
  --mask 'Produced \d\d/\d\d/\d{4} \d\d:\d\d' --normalise-numbering \
  --out "${4:-$3/../compare_summary.md}"

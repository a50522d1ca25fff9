#!/usr/bin/env bash
# System libraries mashdemand needs beyond PyPI, installed only when missing (Debian/Ubuntu):
#   - Pango, HarfBuzz and fontconfig with a font: WeasyPrint lays the report's PDF out with them;
#   - poppler-utils (pdftoppm, pdfinfo): the tests turn report pages into images and count them.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail
missing=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib "libpango-1.0.so.0" || missing+=(libpango-1.0-0)
have_lib "libpangoft2-1.0.so.0" || missing+=(libpangoft2-1.0-0)
have_lib "libharfbuzz.so.0" || missing+=(libharfbuzz0b)
have_lib "libharfbuzz-subset.so.0" || missing+=(libharfbuzz-subset0)
have_lib "libfontconfig.so.1" || missing+=(libfontconfig1)
fc-list 2>/dev/null | grep -qi "dejavu" || missing+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -eq 0 ]; then
  echo "system libraries: all present"
  exit 0
fi
echo "system libraries: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root to install: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "system libraries: installed ${missing[*]}"

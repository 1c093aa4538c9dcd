#!/usr/bin/env bash
# Copies the CRDs from crds/ (the single source) into the Helm chart, byte for byte:
#   charts/ferrymq-operator/files/crds/*.yaml  (rendered by templates/crds.yaml when crds.install is true)
#
#   scripts/sync_chart_crds.sh           copy (adds, updates and removes files)
#   scripts/sync_chart_crds.sh --check   exit 1 if the chart's copy differs from crds/ (ctest: chart_crds_in_sync)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=crds
DST=charts/ferrymq-operator/files/crds

if [[ "${1:-}" == "--check" ]]; then
  if diff -r -q -x README.md "$SRC" "$DST" >/dev/null 2>&1 && [[ -n "$(ls "$DST"/*.yaml 2>/dev/null)" ]]; then
    echo "sync_chart_crds: $DST matches $SRC"
    exit 0
  fi
  diff -r -x README.md "$SRC" "$DST" | head -40 || true
  echo "sync_chart_crds: $DST differs from $SRC; run scripts/sync_chart_crds.sh" >&2
  exit 1
fi

mkdir -p "$DST"
rm -f "$DST"/*.yaml
cp -p "$SRC"/*.yaml "$DST"/
echo "sync_chart_crds: copied $(ls "$SRC"/*.yaml | wc -l) CRDs into $DST"

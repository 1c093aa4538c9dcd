#!/usr/bin/env bash
# Builds the release preset and runs the storage-engine benchmarks, 3 repetitions each, writing the JSON to
# bench/results/store-<date>.json. Usage: bench/run_store_bench.sh [extra Google Benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target store_bench
out="bench/results/store-$(date +%Y-%m-%d).json"
build/release/bench/store_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=false \
  --benchmark_out="$out" --benchmark_out_format=json "$@"
echo "results: $out"

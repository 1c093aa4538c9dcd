#!/usr/bin/env bash
# Runs every libFuzzer target of the `fuzz` preset for a chosen time each, on a corpus kept between runs.
#
#   scripts/fuzz.sh [seconds per target]     (default $FMQ_FUZZ_SECONDS, else 20: scripts/test.sh's short run)
#
# Builds the `fuzz` preset first (clang, ASan + UBSan with -fno-sanitize-recover=all: every finding fails).
# Each target starts from its corpus in $FMQ_CACHE_DIR/fuzz-corpus/<target> (default ~/.cache/ferrymq), which
# keeps what earlier runs found interesting, plus its checked-in seeds in tests/fuzz/seeds/<name>. New inputs go
# to the cached corpus only; crash reproducers to build/fuzz/artifacts/. FMQ_FUZZ_JOBS (default 1) runs that many
# targets at once. Prints each target's executions; exits 1 if any target found something (its log is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-${FMQ_FUZZ_SECONDS:-20}}"
[[ $SECONDS_PER_TARGET =~ ^[0-9]+$ && $SECONDS_PER_TARGET -gt 0 ]] ||
  { echo "usage: scripts/fuzz.sh [seconds per target]" >&2; exit 2; }
CORPUS_ROOT="${FMQ_CACHE_DIR:-$HOME/.cache/ferrymq}/fuzz-corpus"
PARALLEL="${FMQ_FUZZ_JOBS:-1}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${FMQ_JOBS:-$(nproc)}"
mkdir -p build/fuzz/artifacts "$CORPUS_ROOT"

run_one() {  # run_one <target binary>: 0 clean, 1 a finding
  local target=$1 name seeds corpus log
  name=$(basename "$target")
  seeds="tests/fuzz/seeds/${name%_fuzz}"
  corpus="$CORPUS_ROOT/$name"
  log="build/fuzz/$name.log"
  mkdir -p "$corpus"
  if "$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=70000 -print_final_stats=1 -timeout=30 \
       -artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" "$seeds" >"$log" 2>&1; then
    echo "fuzz $name: clean, $(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log") executions" \
      "in ${SECONDS_PER_TARGET}s, corpus $(find "$corpus" -type f | wc -l) inputs"
    return 0
  fi
  echo "fuzz $name: FINDING (build/fuzz/$name.log, reproducers in build/fuzz/artifacts/)"
  tail -40 "$log"
  return 1
}

targets=(build/fuzz/tests/fuzz/*_fuzz)
failed=0
pids=()
for target in "${targets[@]}"; do
  run_one "$target" &
  pids+=($!)
  if ((${#pids[@]} >= PARALLEL)); then
    wait "${pids[0]}" || failed=$((failed + 1))
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
echo "fuzz: ${#targets[@]} targets, $failed with findings"
((failed == 0))

#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the build needs, then builds and runs every test tier
# that exists, each in its CMake preset:
#   debug  all tests (unit + integration)          asan  all tests under AddressSanitizer + UBSan
#   tsan   unit tests under ThreadSanitizer        clang build with -Wthread-safety, unit tests
#   compat real clients (Java, mqadmin, Go, Node) against `ferrymq standalone` (tests/compat/run_all.sh)
#   e2e    a real kube-apiserver + controller-manager + our pod runner; every tests/e2e/*_test.py (debug build;
#          tools from scripts/install_e2e_tools.sh, cached in ~/.cache/ferrymq/tools; needs root)
#   release the release preset (-O2), everything including tests, and its unit tests (a release-mode test build
#          must not rot: GCC's -O2 warnings differ from -O0's)
#   plain  the packager's route without presets: `cmake -DCMAKE_BUILD_TYPE=Release` (-O3), the four programs,
#          `cmake --install` to build/plain/prefix, then `ferrymq version` from there (README "Building by hand")
#   fuzz   libFuzzer targets, a short run each on the cached corpus (scripts/fuzz.sh; FMQ_FUZZ_SECONDS, default 20)
#   image  (last) the Dockerfile built by buildah on a debootstrap base, then run: scripts/image_test.sh (needs root)
# FMQ_TEST_PRESETS picks a subset, e.g. FMQ_TEST_PRESETS="debug" scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ferrymq/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
# A fresh clone at another path (CI) still hits the cache: paths below the checkout are hashed relative to it,
# and the build directory's own path is not hashed (debug info then names the first clone's directory).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
mkdir -p "$CCACHE_DIR"
export FMQ_LOG_LEVEL="${FMQ_LOG_LEVEL:-warn}"
JOBS="${FMQ_JOBS:-$(nproc)}"
PRESETS="${FMQ_TEST_PRESETS:-debug compat e2e asan tsan clang release plain fuzz image}"
FUZZ_SECONDS="${FMQ_FUZZ_SECONDS:-20}"

passed=0
failed=0
failures=()
timings=()
start_all=$(date +%s)

# The disk the tests write to (their stores live under /tmp), as df prints it: the brokers the tests start ignore
# the host's fill (testing_process::kHostDiskConf), but a full disk still fails writes, so CI's log says how full.
disk_line() { df -h --output=pcent,avail /tmp | tail -1 | awk '{print $1 " used, " $2 " available"}'; }
disk_start=$(disk_line)
echo "== disk holding /tmp: $disk_start"

took() {  # $1 = tier; prints and records how long it took since t0
  local s=$(( $(date +%s) - t0 ))
  timings+=("$1 ${s}s")
  echo "== $1 took ${s}s"
}

# FMQ_PRUNE_BUILDS=1 (.ci/run sets it): once a tier is done, delete its object files and static libraries, so a
# CI clone's build trees do not add up to ~15 GB on a machine whose disk may already be nearly full.
prune() {  # $1 = build directory
  [[ "${FMQ_PRUNE_BUILDS:-0}" == 1 && -d "$1" ]] || return 0
  find "$1" \( -name '*.o' -o -name '*.a' \) -delete
}

count_ctest() {  # $1 = log file, $2 = preset
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$1" | tail -1 || true)
  if [[ -z "$line" ]]; then
    failed=$((failed + 1)); failures+=("$2: ctest did not run"); return
  fi
  local total fail
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  fail=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  passed=$((passed + total - fail)); failed=$((failed + fail))
  ((fail == 0)) || failures+=("$2: $fail ctest failure(s), see $1")
}

# The Kubernetes tools (etcd, kube-apiserver, ...) serve the `kube`-labelled ctest tests of the debug and asan
# presets and the e2e stage; built once from the Go module proxy and cached (scripts/install_e2e_tools.sh).
if [[ " $PRESETS " =~ " "(debug|asan|e2e)" " ]]; then
  echo "== Kubernetes tools for the kube and e2e tests"
  mkdir -p build
  if ! FMQ_JOBS="$JOBS" bash scripts/install_e2e_tools.sh >build/install_e2e_tools.log 2>&1; then
    tail -30 build/install_e2e_tools.log
    echo "FAILED: scripts/install_e2e_tools.sh (see build/install_e2e_tools.log)"
    exit 1
  fi
  tail -1 build/install_e2e_tools.log
fi

echo "== dependency rule"
if python3 scripts/check_deps.py; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("dependency rule"); fi

for preset in $PRESETS; do
  t0=$(date +%s)
  if [[ "$preset" == image ]]; then
    echo "== image: buildah bud the Dockerfile, run ferrymq standalone from it, round-trip a message"
    mkdir -p build/image
    set +e; FMQ_JOBS="$JOBS" bash scripts/image_test.sh 2>&1 | tee build/image/image.log; rc=${PIPESTATUS[0]}; set -e
    if ((rc == 0)); then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("image: see build/image/image.log"); fi
    took image
    continue
  fi
  if [[ "$preset" == compat ]]; then
    echo "== compat: real RocketMQ clients against ferrymq standalone (debug build)"
    cmake --preset debug >/dev/null
    cmake --build --preset debug -j "$JOBS" --target ferrymq ferryctl
    mkdir -p build/compat
    set +e; bash tests/compat/run_all.sh build/debug/broker/cmd/ferrymq 2>&1 | tee build/compat/compat.log; set -e
    line=$(grep -E '^compat: [0-9]+ passed, [0-9]+ failed' build/compat/compat.log | tail -1 || true)
    if [[ -z "$line" ]]; then
      failed=$((failed + 1)); failures+=("compat: did not finish, see build/compat/compat.log")
    else
      p=$(sed -E 's/compat: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")
      passed=$((passed + p)); failed=$((failed + f))
      if ((f != 0)); then
        # The failing checks' own lines (at most three), so the closing summary says what failed.
        first=$(grep -E '\[FAIL\]' build/compat/compat.log | head -3 | cut -c1-400 | paste -sd'|' || true)
        failures+=("compat: $f check(s) failed, see build/compat/compat.log${first:+: $first}")
      fi
    fi
    took compat
    continue
  fi
  if [[ "$preset" == e2e ]]; then
    echo "== e2e: real Kubernetes control plane + pod runner (debug build)"
    cmake --preset debug >/dev/null
    targets=(ferrymq ferryctl ferrymq-operator fmq-queue-check)
    cmake --build --preset debug -j "$JOBS" --target "${targets[@]}"
    mkdir -p build/e2e
    export FMQ_BIN_DIR="$PWD/build/debug/broker/cmd:$PWD/build/debug/broker/cli:$PWD/build/debug/operator/cmd:$PWD/build/debug/tests"
    if ! FMQ_JOBS="$JOBS" bash scripts/install_e2e_tools.sh >build/e2e/install.log 2>&1; then
      tail -30 build/e2e/install.log
      failed=$((failed + 1)); failures+=("e2e: tool install failed, see build/e2e/install.log")
    else
      tail -3 build/e2e/install.log
      for t in tests/e2e/*_test.py; do
        name=$(basename "$t" .py)
        echo "-- $name"
        set +e; python3 "$t" 2>&1 | tee "build/e2e/$name.log"; rc=${PIPESTATUS[0]}; set -e
        line=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "build/e2e/$name.log" | tail -1 || true)
        if [[ -z "$line" ]]; then
          failed=$((failed + 1)); failures+=("e2e $name: did not finish, see build/e2e/$name.log")
        else
          p=$(sed -E 's/^[^:]+: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
          passed=$((passed + p)); failed=$((failed + f))
          if ((f == 0 && rc != 0)); then f=1; failed=$((failed + 1)); fi
          if ((f != 0)); then
            # The first failing check's line, so the closing summary says what failed without the whole log.
            first=$(grep -m1 -E '^FAIL ' "build/e2e/$name.log" | cut -c1-400 || true)
            failures+=("e2e $name: $f check(s) failed (exit $rc), see build/e2e/$name.log${first:+: $first}")
          fi
        fi
      done
    fi
    took e2e
    continue
  fi
  if [[ "$preset" == plain ]]; then
    echo "== plain: cmake -DCMAKE_BUILD_TYPE=Release, the four programs, cmake --install, ferrymq version"
    mkdir -p build/plain
    set +e
    (
      set -e
      cmake -S . -B build/plain -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
      cmake --build build/plain -j "$JOBS" --target ferrymq ferryctl ferrymq-bench ferrymq-operator
      rm -rf build/plain/prefix
      cmake --install build/plain --prefix build/plain/prefix >/dev/null
      for p in ferrymq ferryctl ferrymq-bench ferrymq-operator; do
        [[ -x build/plain/prefix/bin/$p ]] || { echo "cmake --install did not install bin/$p"; exit 1; }
      done
      build/plain/prefix/bin/ferrymq version
    ) 2>&1 | tee build/plain/plain.log
    rc=${PIPESTATUS[0]}; set -e
    warnings=$(grep -c 'warning:' build/plain/plain.log || true)
    if ((rc == 0 && warnings == 0)); then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); failures+=("plain: exit $rc, $warnings compiler warning(s), see build/plain/plain.log")
    fi
    prune build/plain
    took plain
    continue
  fi
  echo "== preset $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
  log="build/$preset/ctest.log"
  case "$preset" in
    fuzz)
      # scripts/fuzz.sh: every target for FUZZ_SECONDS on the cached corpus; one pass or failure per target.
      set +e; FMQ_JOBS="$JOBS" bash scripts/fuzz.sh "$FUZZ_SECONDS" 2>&1 | tee build/fuzz/fuzz.log; set -e
      p=$(grep -cE '^fuzz [a-z0-9_]+: clean' build/fuzz/fuzz.log || true)
      f=$(grep -cE '^fuzz [a-z0-9_]+: FINDING' build/fuzz/fuzz.log || true)
      passed=$((passed + p)); failed=$((failed + f))
      ((f == 0)) || failures+=("fuzz: $f target(s) with findings, see build/fuzz/fuzz.log")
      # The end of a CI log is often all that survives: name each finding, its first error and its input.
      for name in $(sed -nE 's/^fuzz ([a-z0-9_]+): FINDING.*/\1/p' build/fuzz/fuzz.log); do
        what=$(grep -m1 -E 'check failed|ERROR: |runtime error|SUMMARY' "build/fuzz/$name.log" | cut -c1-200)
        input=$(find build/fuzz/artifacts -name "$name-*" -type f | head -1)
        failures+=("fuzz $name: $what; input (base64): $( [[ -n $input ]] && head -c 512 "$input" | base64 -w0)")
      done
      if ((p + f == 0)); then failed=$((failed + 1)); failures+=("fuzz: no target ran, see build/fuzz/fuzz.log"); fi
      ;;
    tsan|clang|release)
      set +e; ctest --preset "$preset" -L unit -j "$JOBS" 2>&1 | tee "$log"; set -e
      count_ctest "$log" "$preset" ;;
    *)
      set +e; ctest --preset "$preset" -j "$JOBS" 2>&1 | tee "$log"; set -e
      count_ctest "$log" "$preset" ;;
  esac
  # debug stays whole: the compat and e2e tiers use its programs.
  [[ "$preset" == debug ]] || prune "build/$preset"
  took "$preset"
done

echo "== all tiers took $(( $(date +%s) - start_all ))s: ${timings[*]}"
echo "== disk holding /tmp: $disk_start at the start, $(disk_line) at the end"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed"
((failed == 0))

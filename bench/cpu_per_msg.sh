#!/usr/bin/env bash
# CPU cost per produced message of the FerryMQ broker and of the load generator, the figure that stays
# meaningful on a small shared machine where throughput does not (other work steals the cores, but not the CPU
# time each process itself spends per message).
#
#   bench/cpu_per_msg.sh [-b build-dir] [-s server] [-l load] [-d seconds] [-r runs] [-p port-base]
#
#   -b  build directory with broker/cmd/ferrymq, broker/cli/ferryctl and ferrymq-bench (default build/release)
#   -s  ferrymq (default), or apache: Apache RocketMQ 4.9.7 via tests/compat/apache_rocketmq.sh
#   -l  fmq:    ferrymq-bench produce -s 1024 -c 64 --threads 64 (as bench/run_broker_bench.sh)
#       fmq-json: the same with JSON request headers
#       apache: Apache RocketMQ's benchmark Producer -s 1024 -w 64 (tests/compat/apache_rocketmq.sh)
#       (default fmq)
#   -d  seconds per run (default 15); -r runs (default 3); -p name server port, broker = port + 1 (19976)
#
# Starts `ferrymq namesrv` and `ferrymq broker` (or Apache's; ASYNC_FLUSH) in a temporary directory, creates an 8-queue
# topic, warms up for 5 s, then for each run reads the broker's utime+stime (/proc/<pid>/stat) and the
# topic's message count (ferryctl topic stats) before and after the load, and the load generator's own CPU
# (cutime+cstime of the shell that waited for it). Prints one line per run and the medians:
#   run 1: msgs=412345 tps=27489 broker_us=24.8 load_us=52.1 load=3.10
# FMQ_BROKER_BIN / FMQ_BENCH_BIN: other ferrymq / ferrymq-bench binaries (to compare two builds);
# FMQ_BENCH_ARGS: extra ferrymq-bench arguments (e.g. --io-threads 2); FMQ_BROKER_CONF_EXTRA: extra broker.conf
# lines (e.g. serverSelectorThreads=1).
# FMQ_PERF_OUT=<file>: `perf record -g` of the broker during the first run into <file>;
# FMQ_PERF_STAT=<events>: `perf stat -e <events>` of the broker during the first run (e.g. context-switches);
# FMQ_PERF_LOAD_STAT=<events>: the same for ferrymq-bench; FMQ_PERF_LOAD_OUT=<file>: the same for ferrymq-bench (its CPU figure then includes perf's).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BUILD=build/release
LOAD=fmq
SECS=15
RUNS=3
PORT=19976
SERVER=ferrymq
while getopts "b:s:l:d:r:p:" o; do
  case $o in
    b) BUILD=$OPTARG ;;
    s) SERVER=$OPTARG ;;
    l) LOAD=$OPTARG ;;
    d) SECS=$OPTARG ;;
    r) RUNS=$OPTARG ;;
    p) PORT=$OPTARG ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
  esac
done
NS="127.0.0.1:$PORT"
FERRYMQ=${FMQ_BROKER_BIN:-$BUILD/broker/cmd/ferrymq}
FERRYCTL=$BUILD/broker/cli/ferryctl
BENCH=${FMQ_BENCH_BIN:-$BUILD/bench/loadgen/ferrymq-bench}
for b in "$FERRYMQ" "$FERRYCTL" "$BENCH"; do [[ -x $b ]] || { echo "missing $b (build it first)" >&2; exit 1; }; done
TICK=$(getconf CLK_TCK)
TOPIC=CpuTopic
work=$(mktemp -d /tmp/fmq-cpu-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [[ $SERVER == apache ]]; then bash tests/compat/apache_rocketmq.sh stop "$work/apache" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ $SERVER == apache ]]; then
  bash tests/compat/apache_rocketmq.sh start "$work/apache" "$PORT" "$((PORT + 1))" >"$work/apache.log" 2>&1 ||
    { cat "$work/apache.log" >&2; exit 1; }
  bpid=$(cat "$work/apache/broker.pid")
else
  fmq_bench_start_ferrymq "$FERRYMQ" "$work" "$PORT" "$((PORT + 1))"
  bpid=$fmq_broker_pid
fi
for _ in $(seq 50); do
  "$FERRYCTL" -n "$NS" topic create "$TOPIC" -c DefaultCluster -q 8 >/dev/null 2>&1 && break
  sleep 0.2
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
messages() { "$FERRYCTL" -n "$NS" -o json topic stats "$TOPIC" | python3 -c 'import json,sys; print(sum(q["maxOffset"] for q in json.load(sys.stdin)))'; }

# run_load <seconds>: runs the load; prints the CPU ticks it used (its process tree, once waited for).
run_load() {
  local secs=$1
  case $LOAD in
    fmq | fmq-json)
      local ser=rocketmq
      [[ $LOAD == fmq-json ]] && ser=json
      bash -c '"$@" >/dev/null 2>&1; awk "{print \$16 + \$17}" /proc/$$/stat' _ ${LOAD_PREFIX:-} \
        "$BENCH" produce -n "$NS" -t "$TOPIC" -s 1024 -c 64 --threads 64 -d "$secs" --serialize "$ser" ${FMQ_BENCH_ARGS:-} ;;
    apache)
      bash -c '"$@" >/dev/null 2>&1; awk "{print \$16 + \$17}" /proc/$$/stat' _ \
        bash tests/compat/apache_rocketmq.sh producer-bench "$NS" --seconds "$secs" -s 1024 -w 64 -t "$TOPIC" ;;
    *) echo "unknown load $LOAD" >&2; exit 2 ;;
  esac
}

run_load 5 >/dev/null  # warm-up: segments, routes, (JIT)
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: >"$work/results"
for r in $(seq "$RUNS"); do
  la=$(cut -d' ' -f1 /proc/loadavg)
  m0=$(messages)
  b0=$(cpu_ticks "$bpid")
  t0=$(date +%s.%N)
  perf_pid=
  if [[ -n ${FMQ_PERF_OUT:-} && $r == 1 ]]; then
    perf record -F 999 -g -p "$bpid" -o "$FMQ_PERF_OUT" >/dev/null 2>&1 &
    perf_pid=$!
  elif [[ -n ${FMQ_PERF_STAT:-} && $r == 1 ]]; then
    perf stat -e "$FMQ_PERF_STAT" -p "$bpid" -o "$work/perf-stat" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  LOAD_PREFIX=
  [[ -n ${FMQ_PERF_LOAD_OUT:-} && $r == 1 ]] && LOAD_PREFIX="perf record -F 999 -g -o $FMQ_PERF_LOAD_OUT --"
  [[ -n ${FMQ_PERF_LOAD_STAT:-} && $r == 1 ]] && LOAD_PREFIX="perf stat -e $FMQ_PERF_LOAD_STAT -o $work/perf-stat --"
  lticks=$(run_load "$SECS")
  if [[ -n $perf_pid ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  [[ -f $work/perf-stat ]] && grep -E '^ +[0-9]' "$work/perf-stat" >&2 && rm "$work/perf-stat"
  t1=$(date +%s.%N)
  b1=$(cpu_ticks "$bpid")
  m1=$(messages)
  python3 - "$r" "$m0" "$m1" "$b0" "$b1" "$lticks" "$t0" "$t1" "$TICK" "$la" <<'PY' | tee -a "$work/results"
import sys
r, m0, m1, b0, b1, lt, t0, t1, tick, la = sys.argv[1:]
n = int(m1) - int(m0)
us = lambda ticks: 1e6 * ticks / int(tick) / max(n, 1)
print("run %s: msgs=%d tps=%.0f broker_us=%.1f load_us=%.1f load=%s" % (
    r, n, n / (float(t1) - float(t0)), us(int(b1) - int(b0)), us(int(lt)), la))
PY
done
for k in tps broker_us load_us; do
  printf '%s median: %s\n' "$k" "$(grep -oE "$k=[0-9.]+" "$work/results" | cut -d= -f2 | median)"
done

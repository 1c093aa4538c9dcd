#!/usr/bin/env bash
# Benchmark of the message semantics (issue 15): send throughput of plain, delayed (DELAY=3), timer
# (TIMER_DELAY_SEC=86400) and transactional messages (the last with Apache's benchmark TransactionProducer, next
# to its plain Producer), Apache RocketMQ 4.9.7 and FerryMQ one after the other on this machine with
# the same ferrymq-bench load (1 KiB bodies, 64 synchronous senders on 16 connections, ASYNC_FLUSH). Apache 4.9.7
# has no timer wheel: it stores a TIMER_* message as a plain one, so its timer row is a plain send (marked).
# Then one million pending timers on FerryMQ: broker RssAnon with them pending, and the restart-to-serving time
# after SIGTERM and after kill -9 (until the broker answers sends, and until the timer service has rebuilt its
# wheel, from its log line `timer service loaded ... took_ms=`).
# Writes bench/results/semantics-<date>.md and .json.
#
#   bench/run_semantics_bench.sh [seconds per load, default 20] [pending timers, default 1000000]
#
# Not a test: run it when nothing else is busy.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SECS=${1:-20}
TIMERS=${2:-1000000}
NS_PORT=${FMQ_BENCH_NS_PORT:-19876}
BROKER_PORT=${FMQ_BENCH_BROKER_PORT:-20911}
NS="127.0.0.1:$NS_PORT"
DATE=$(date +%F)
OUT_MD=bench/results/semantics-$DATE.md
OUT_JSON=bench/results/semantics-$DATE.json
APACHE=tests/compat/apache_rocketmq.sh
work=$(mktemp -d /tmp/fmq-semantics-bench-XXXXXX)
pids=()
trap fmq_bench_cleanup EXIT
say() { echo "[bench $(date +%T)] $*" >&2; }
rss_anon() { awk '/^RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# java_tps <log>: median "Send TPS" of Apache's benchmark output, its first sample dropped when there are more
java_tps() {
  local samples
  samples=$(grep -oE 'Send TPS: *[0-9]+' "$1" | grep -oE '[0-9]+$')
  if (($(wc -l <<<"$samples") > 1)); then samples=$(tail -n +2 <<<"$samples"); fi
  median <<<"$samples"
}
# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

fmq_bench_build_release
bash "$APACHE" fetch >/dev/null
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; ${SECS}s per load"

# produce <name> <topic> [--property ...]: one ferrymq-bench run; prints its JSON line.
produce() {
  local name=$1 topic=$2; shift 2
  "$BENCH" produce -n "$NS" -t "$topic" -s 1024 -c 64 --threads 16 -d "$SECS" "$@" >"$work/$name.log" 2>&1 || true
  grep '^{' "$work/$name.log" | tail -1
}

# loads <name>: plain, delayed and timer sends; prints a JSON object.
loads() {
  local name=$1 plain delayed timer
  "$BENCH" produce -n "$NS" -t Warm -s 1024 -c 64 --threads 16 -d 5 >/dev/null 2>&1 || true
  say "$name: plain sends (${SECS}s)"
  plain=$(produce "$name-plain" BenchPlain)
  say "$name: $plain"
  say "$name: delayed sends DELAY=3 (${SECS}s)"
  delayed=$(produce "$name-delayed" BenchDelayed --property DELAY=3)
  say "$name: $delayed"
  say "$name: timer sends TIMER_DELAY_SEC=86400 (${SECS}s)"
  timer=$(produce "$name-timer" BenchTimer --property TIMER_DELAY_SEC=86400)
  say "$name: $timer"
  # Transactions: Apache's own benchmark programs (ferrymq-bench has no transactional producer), the plain
  # Producer and the TransactionProducer (half message, then commit) with the same 32 threads and 1 KiB.
  # They print "Send TPS: N ..." every 10 s: run SECS + 5 s and take the median of the samples after the first
  # (the JIT's warm-up), or the only one.
  local jplain jtx jsecs=$((SECS + 5))
  say "$name: Apache benchmark Producer -w 32 (${jsecs}s)"
  bash "$APACHE" producer-bench "$NS" --seconds "$jsecs" -s 1024 -w 32 -t BenchJPlain >"$work/$name-jplain.log" 2>&1 || true
  jplain=$(java_tps "$work/$name-jplain.log")
  say "$name: Apache benchmark TransactionProducer -w 32 (${jsecs}s)"
  bash "$APACHE" tx-bench "$NS" --seconds "$jsecs" -s 1024 -w 32 -t BenchJTx >"$work/$name-jtx.log" 2>&1 || true
  jtx=$(java_tps "$work/$name-jtx.log")
  say "$name: Java plain ${jplain:-0}/s, transactional ${jtx:-0}/s"
  printf '{"plain":%s,"delayed":%s,"timer":%s,"java_plain_tps":%s,"java_tx_tps":%s}\n' "${plain:-null}" \
    "${delayed:-null}" "${timer:-null}" "${jplain:-0}" "${jtx:-0}"
}

# ---- Apache RocketMQ
say "starting Apache RocketMQ 4.9.7"
bash "$APACHE" start "$work/apache" "$NS_PORT" "$BROKER_PORT" >"$work/apache-start.log" 2>&1 || { cat "$work/apache-start.log" >&2; exit 1; }
apache_json=$(loads apache)
bash "$APACHE" stop "$work/apache" >/dev/null 2>&1

# ---- FerryMQ
say "starting FerryMQ (release)"
fmq_bench_start_ferrymq "$FERRYMQ" "$work/ferrymq" "$NS_PORT" "$BROKER_PORT"
ferrymq_json=$(loads ferrymq)
kill "$fmq_broker_pid"; wait "$fmq_broker_pid" 2>/dev/null || true
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()

# ---- one million pending timers (a fresh FerryMQ, info logs for the timer service's line)
say "FerryMQ: $TIMERS pending timers"
FMQ_LOG_LEVEL=info
export FMQ_BROKER_CONF_EXTRA=""
dir="$work/timers"
start_broker_timed() {  # sets serving_ms: ms until the broker answers a send (not in a subshell: it sets pids)
  local t0 t1
  t0=$(date +%s%3N)
  FMQ_LOG_LEVEL=info "$FERRYMQ" broker -c "$dir/broker.conf" >>"$dir/broker.log" 2>&1 &
  fmq_broker_pid=$!; pids+=("$fmq_broker_pid")
  until "$FERRYCTL" -n "$NS" send BenchPing x >/dev/null 2>&1; do sleep 0.05; done
  t1=$(date +%s%3N)
  serving_ms=$((t1 - t0))
}
fmq_bench_start_ferrymq "$FERRYMQ" "$dir" "$NS_PORT" "$BROKER_PORT"
sent=0
t_fill0=$(date +%s)
while ((sent < TIMERS)); do
  "$BENCH" produce -n "$NS" -t BenchTimers -s 256 -c 64 --threads 16 -d 10 --property TIMER_DELAY_SEC=86400 \
    >"$work/fill.log" 2>&1 || true
  n=$(grep '^{' "$work/fill.log" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin).get("sent",0))' 2>/dev/null || echo 0)
  ((n > 0)) || { cat "$work/fill.log" >&2; exit 1; }
  sent=$((sent + n))
done
fill_secs=$(($(date +%s) - t_fill0))
sleep 3  # the timer service links the last ones
rss_pending=$(rss_anon "$fmq_broker_pid")
pending=$(bash "$APACHE" mqadmin "$NS" brokerStatus -b "127.0.0.1:$BROKER_PORT" 2>/dev/null | awk '$1 == "timerPending" {print $3}')
say "FerryMQ: $sent timers sent in ${fill_secs}s, timerPending=${pending:-?}, RssAnon $((rss_pending / 1024)) MiB"
results=()
for how in TERM KILL; do
  kill -"$how" "$fmq_broker_pid"; wait "$fmq_broker_pid" 2>/dev/null || true
  : >"$dir/broker.log"
  start_broker_timed
  # Load (checkpoint, scan for deliveries) then relink every pending timer: its log line says when it is done.
  until grep -q 'timer wheel rebuilt' "$dir/broker.log"; do sleep 0.1; done
  rebuild_ms=$(sed -nE 's/.*timer wheel rebuilt pending=[0-9]+ took_ms=([0-9]+).*/\1/p' "$dir/broker.log" | tail -1)
  sleep 2
  rss_after=$(rss_anon "$fmq_broker_pid")
  say "FerryMQ after SIG$how: serving in ${serving_ms} ms, wheel rebuilt in ${rebuild_ms} ms, RssAnon $((rss_after / 1024)) MiB"
  results+=("{\"signal\":\"$how\",\"serving_ms\":$serving_ms,\"rebuild_ms\":${rebuild_ms:-0},\"rss_anon_kib\":$rss_after}")
done
timers_json=$(printf '{"sent":%s,"fill_seconds":%s,"timer_pending":"%s","rss_anon_kib_pending":%s,"restarts":[%s]}' \
  "$sent" "$fill_secs" "${pending:-}" "$rss_pending" "$(IFS=,; echo "${results[*]}")")

python3 - "$apache_json" "$ferrymq_json" "$timers_json" "$OUT_MD" "$OUT_JSON" "$SECS" <<'PY'
import json, sys, os
a, f, t = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
md, js, secs = sys.argv[4], sys.argv[5], sys.argv[6]
def tps(d, k): return ((d or {}).get(k) or {}).get("tps") or 0
def p99(d, k): return ((d or {}).get(k) or {}).get("p99_ms") or 0
def r(x, y): return round(x / y, 2) if y else None
out = ["# Message semantics benchmark, %s" % md[-13:-3], "",
       "Apache RocketMQ 4.9.7 (JDK 17, 512 MiB heap) and FerryMQ, one after the other on this machine (%d cores), "
       "ASYNC_FLUSH, ferrymq-bench 64 synchronous senders on 16 connections, 1 KiB, %s s per load. "
       "Produced by `bench/run_semantics_bench.sh`." % (os.cpu_count(), secs), "",
       "| send | Apache TPS | FerryMQ TPS | FerryMQ / Apache | Apache p99 ms | FerryMQ p99 ms | FerryMQ / its plain sends |",
       "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
for k, label in (("plain", "plain"), ("delayed", "delayed (DELAY=3)"), ("timer", "timer (TIMER_DELAY_SEC=86400)")):
    note = " (Apache 4.9.7: stored as a plain message, it has no timers)" if k == "timer" else ""
    out.append("| %s%s | %s | %s | %s | %s | %s | %s |" % (label, note, tps(a, k), tps(f, k), r(tps(f, k), tps(a, k)),
               p99(a, k), p99(f, k), r(tps(f, k), tps(f, "plain"))))
jp = lambda d: (d or {}).get("java_plain_tps") or 0
jt = lambda d: (d or {}).get("java_tx_tps") or 0
out += ["", "Transactions, with Apache's own benchmark programs (32 threads, 1 KiB): the plain `Producer` and the "
        "`TransactionProducer` (a half message, then its commit).", "",
        "| send | Apache TPS | FerryMQ TPS | FerryMQ / Apache |", "| --- | ---: | ---: | ---: |",
        "| plain (benchmark Producer) | %s | %s | %s |" % (jp(a), jp(f), r(jp(f), jp(a))),
        "| transactional (TransactionProducer) | %s | %s | %s |" % (jt(a), jt(f), r(jt(f), jt(a))),
        "| transactional / plain | %s | %s | |" % (r(jt(a), jp(a)), r(jt(f), jp(f)))]
out += ["", "## %d pending timers (FerryMQ)" % t["sent"], "",
        "Sent in %d s (256-byte bodies, 1 day ahead); `timerPending` %s; broker RssAnon with them pending: %.1f MiB." %
        (t["fill_seconds"], t["timer_pending"], t["rss_anon_kib_pending"] / 1024), "",
        "| restart | serving sends after (ms) | wheel rebuilt (ms) | RssAnon after (MiB) |", "| --- | ---: | ---: | ---: |"]
for x in t["restarts"]:
    out.append("| SIG%s | %d | %d | %.1f |" % (x["signal"], x["serving_ms"], x["rebuild_ms"], x["rss_anon_kib"] / 1024))
open(md, "w").write("\n".join(out) + "\n")
json.dump({"apache": a, "ferrymq": f, "timers": t}, open(js, "w"), indent=2)
print("\n".join(out))
PY

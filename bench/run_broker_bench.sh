#!/usr/bin/env bash
# Broker benchmark: Apache RocketMQ 4.9.7 (name server + broker from Maven Central, JDK 17, 512 MiB heap) and
# FerryMQ (`ferrymq namesrv` + `ferrymq broker`, release build) run one after the other on this machine, on the
# same ports, both with ASYNC_FLUSH, and each is measured with the same load:
#   1. ferrymq-bench produce: 1 KiB bodies, 64 concurrent synchronous senders on 64 connections (-c 64 --threads 64)
#   2. Apache RocketMQ's own benchmark Producer (rocketmq-example): -s 1024 -w 64
#   3. ferrymq-bench consume: a new group catching up on everything produced
# and the broker process's private memory (RssAnon, peak over the run; mapped store pages do not count), and
# the CPU time per produced message of the broker and of ferrymq-bench during load 1.
# Writes bench/results/broker-<date>.md and .json with the figures and the FerryMQ / Apache ratios.
#
#   bench/run_broker_bench.sh [seconds per load, default 30]
#
# Not a test: the machine is small and shared, so run it when nothing else is busy; the script prints the load
# average it started with.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SECS=${1:-${FMQ_BENCH_SECONDS:-30}}
NS_PORT=${FMQ_BENCH_NS_PORT:-19876}
BROKER_PORT=${FMQ_BENCH_BROKER_PORT:-20911}
NS="127.0.0.1:$NS_PORT"
TOPIC=BenchTopic
DATE=$(date +%F)
OUT_MD=bench/results/broker-$DATE.md
OUT_JSON=bench/results/broker-$DATE.json
APACHE=tests/compat/apache_rocketmq.sh
work=$(mktemp -d /tmp/fmq-broker-bench-XXXXXX)
pids=()
trap fmq_bench_cleanup EXIT
say() { echo "[bench $(date +%T)] $*" >&2; }

fmq_bench_build_release
bash "$APACHE" fetch >/dev/null
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; ${SECS}s per load"

# rss_peak <pid> <file>: writes the peak RssAnon (KiB) of <pid> to <file> until the pid exits or the file is
# removed.
rss_peak() {
  local pid=$1 file=$2 max=0 v
  echo 0 >"$file"
  while kill -0 "$pid" 2>/dev/null && [[ -f "$file" ]]; do
    v=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    if [[ -n "$v" ]] && ((v > max)); then max=$v; echo "$max" >"$file"; fi
    sleep 0.5
  done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure <name> <broker pid>: runs the three loads against $NS; prints a JSON object.
measure() {
  local name=$1 bpid=$2
  bash "$APACHE" mqadmin "$NS" updateTopic -c DefaultCluster -t "$TOPIC" -r 8 -w 8 >"$work/$name-topic.log" 2>&1
  grep -q "create topic to .* success" "$work/$name-topic.log" || { cat "$work/$name-topic.log" >&2; exit 1; }
  say "$name: warm-up (5 s)"
  "$BENCH" produce -n "$NS" -t "$TOPIC" -s 1024 -c 64 --threads 64 -d 5 >/dev/null 2>&1 || true
  rss_peak "$bpid" "$work/$name-rss" &
  local sampler=$!
  say "$name: ferrymq-bench produce (${SECS}s)"
  # CPU time of the broker and of ferrymq-bench over the run (utime+stime, clock ticks): per message, the
  # figure that stays comparable when other work shares the machine.
  local b0 b1 bench_ticks
  b0=$(cpu_ticks "$bpid")
  bench_ticks=$(bash -c '"$@" >"'"$work/$name-produce.log"'" 2>&1; awk "{print \$16 + \$17}" /proc/$$/stat' _ \
    "$BENCH" produce -n "$NS" -t "$TOPIC" -s 1024 -c 64 --threads 64 -d "$SECS")
  b1=$(cpu_ticks "$bpid")
  local produce_json
  produce_json=$(grep '^{' "$work/$name-produce.log" | tail -1)
  say "$name: $produce_json"
  local cpu_json
  cpu_json=$(python3 -c 'import json,sys; sent=json.loads(sys.argv[1] or "{}").get("sent") or 0; t=int(sys.argv[4])
us=lambda ticks: round(1e6*ticks/t/sent, 1) if sent else 0
print(json.dumps({"broker_us_per_msg": us(int(sys.argv[3])-int(sys.argv[2])), "bench_us_per_msg": us(int(sys.argv[5]))}))' \
    "${produce_json:-}" "$b0" "$b1" "$(getconf CLK_TCK)" "$bench_ticks")
  say "$name: CPU per produced message $cpu_json"
  say "$name: Apache benchmark Producer -s 1024 -w 64 (${SECS}s)"
  bash "$APACHE" producer-bench "$NS" --seconds "$SECS" -s 1024 -w 64 -t "$TOPIC" >"$work/$name-apache-producer.log" 2>&1 || true
  # The Producer prints a line every 10 s; steady state: drop the first.
  local tps rt maxrt
  tps=$(grep -oE 'Send TPS: *[0-9]+' "$work/$name-apache-producer.log" | awk '{print $NF}' | tail -n +2 | median)
  rt=$(grep -oE 'Average RT(\(ms\))?: *[0-9.]+' "$work/$name-apache-producer.log" | awk '{print $NF}' | tail -n +2 | median)
  maxrt=$(grep -oE 'Max RT(\(ms\))?: *[0-9]+' "$work/$name-apache-producer.log" | awk '{print $NF}' | sort -n | tail -1)
  say "$name: Apache Producer median TPS ${tps:-0}, median average RT ${rt:-0} ms, max RT ${maxrt:-0} ms"
  say "$name: ferrymq-bench consume, a new group catching up (${SECS}s)"
  "$BENCH" consume -n "$NS" -t "$TOPIC" -g "catchup_$name" -c 1 --threads 4 -d "$SECS" >"$work/$name-consume.log" 2>&1 || true
  local consume_json
  consume_json=$(grep '^{' "$work/$name-consume.log" | tail -1)
  local rss
  rss=$(cat "$work/$name-rss")
  kill "$sampler" 2>/dev/null || true
  printf '{"broker":"%s","ferrymq_bench_produce":%s,"produce_cpu":%s,"apache_producer":{"tps":%s,"avg_rt_ms":%s,"max_rt_ms":%s},"ferrymq_bench_consume":%s,"rss_anon_kib":%s}\n' \
    "$name" "${produce_json:-null}" "$cpu_json" "${tps:-0}" "${rt:-0}" "${maxrt:-0}" "${consume_json:-null}" "$rss"
}

# ---- Apache RocketMQ
say "starting Apache RocketMQ 4.9.7"
bash "$APACHE" start "$work/apache" "$NS_PORT" "$BROKER_PORT" >"$work/apache-start.log" 2>&1 || { cat "$work/apache-start.log" >&2; exit 1; }
apache_pid=$(cat "$work/apache/broker.pid")
apache_json=$(measure apache "$apache_pid")
bash "$APACHE" stop "$work/apache" >/dev/null 2>&1

# ---- FerryMQ
say "starting FerryMQ (ferrymq namesrv + ferrymq broker, release)"
fmq_bench_start_ferrymq "$FERRYMQ" "$work/ferrymq" "$NS_PORT" "$BROKER_PORT"
ferrymq_json=$(measure ferrymq "$fmq_broker_pid")

# ---- results
python3 - "$apache_json" "$ferrymq_json" "$OUT_MD" "$OUT_JSON" "$SECS" <<'PY'
import json, sys, os
a, f = json.loads(sys.argv[1]), json.loads(sys.argv[2])
md, js, secs = sys.argv[3], sys.argv[4], sys.argv[5]
def g(d, *path):
    for p in path:
        d = (d or {}).get(p)
    return d or 0
def ratio(x, y):
    return round(x / y, 2) if y else None
rows = [
    ("ferrymq-bench produce TPS (64 senders, 1 KiB)", g(a,"ferrymq_bench_produce","tps"), g(f,"ferrymq_bench_produce","tps"), "higher"),
    ("ferrymq-bench produce p50 ms", g(a,"ferrymq_bench_produce","p50_ms"), g(f,"ferrymq_bench_produce","p50_ms"), "lower"),
    ("ferrymq-bench produce p99 ms", g(a,"ferrymq_bench_produce","p99_ms"), g(f,"ferrymq_bench_produce","p99_ms"), "lower"),
    ("ferrymq-bench produce p999 ms", g(a,"ferrymq_bench_produce","p999_ms"), g(f,"ferrymq_bench_produce","p999_ms"), "lower"),
    ("ferrymq-bench produce max ms", g(a,"ferrymq_bench_produce","max_ms"), g(f,"ferrymq_bench_produce","max_ms"), "lower"),
    ("broker CPU µs per message (ferrymq-bench produce)", g(a,"produce_cpu","broker_us_per_msg"), g(f,"produce_cpu","broker_us_per_msg"), "lower"),
    ("ferrymq-bench CPU µs per message", g(a,"produce_cpu","bench_us_per_msg"), g(f,"produce_cpu","bench_us_per_msg"), "lower"),
    ("Apache Producer -w 64 TPS (median)", g(a,"apache_producer","tps"), g(f,"apache_producer","tps"), "higher"),
    ("Apache Producer average RT ms (median)", g(a,"apache_producer","avg_rt_ms"), g(f,"apache_producer","avg_rt_ms"), "lower"),
    ("Apache Producer max RT ms", g(a,"apache_producer","max_rt_ms"), g(f,"apache_producer","max_rt_ms"), "lower"),
    ("consumer catch-up msgs/s", g(a,"ferrymq_bench_consume","tps"), g(f,"ferrymq_bench_consume","tps"), "higher"),
    ("broker RssAnon MiB (peak)", round(g(a,"rss_anon_kib")/1024,1), round(g(f,"rss_anon_kib")/1024,1), "lower"),
]
out = ["# Broker benchmark, %s" % os.path.basename(md)[7:17], "",
       "Apache RocketMQ 4.9.7 (JDK 17, 512 MiB heap) and FerryMQ, one after the other on this machine (%d cores), "
       "ASYNC_FLUSH, topic with 8 queues, %s s per load. Produced by `bench/run_broker_bench.sh`." % (os.cpu_count(), secs), "",
       "| measure | Apache RocketMQ | FerryMQ | FerryMQ / Apache |", "| --- | ---: | ---: | ---: |"]
for name, av, fv, better in rows:
    out.append("| %s | %s | %s | %s |" % (name, av, fv, ratio(fv, av)))
rss_ratio = ratio(g(a,"rss_anon_kib"), g(f,"rss_anon_kib"))
tps_ratio = ratio(g(f,"ferrymq_bench_produce","tps"), g(a,"ferrymq_bench_produce","tps"))
out += ["", "Goals (issue 3): produce TPS >= 1.5x Apache (measured %sx), lower p99 (%s vs %s ms), RssAnon at least 4x smaller (measured %sx smaller)."
        % (tps_ratio, g(f,"ferrymq_bench_produce","p99_ms"), g(a,"ferrymq_bench_produce","p99_ms"), rss_ratio)]
open(md, "w").write("\n".join(out) + "\n")
json.dump({"apache": a, "ferrymq": f, "produce_tps_ratio": tps_ratio, "rss_anon_ratio_apache_over_ferrymq": rss_ratio}, open(js, "w"), indent=2)
print("\n".join(out))
PY

#!/usr/bin/env bash
# Replication benchmark: produce throughput and latency of a master with one slave, asynchronous (ASYNC_MASTER)
# and synchronous (SYNC_MASTER: a send is acknowledged once the slave holds it), for FerryMQ (release build) and
# Apache RocketMQ 4.9.7 (Maven Central jars, JDK 17, 512 MiB heaps) with the same topology, one configuration
# after the other on this machine:
#   name server + master (ASYNC_FLUSH) + slave, all on 127.0.0.1; FerryMQ's SYNC_MASTER with its defaults
#   (minInSyncReplicas=2, whenBelowMinInSync=reject), Apache's with its own (one slave must acknowledge);
#   load: ferrymq-bench produce, 1 KiB bodies, 64 concurrent synchronous senders on 64 connections, after a 5 s
#   warm-up; the slave must have caught up with the master afterwards (checked).
# Writes bench/results/replication-<date>.md and .json: TPS, p50/p99/p999 per configuration, sync/async ratios and
# FerryMQ sync / Apache sync. Goals (issue 10): FerryMQ sync within 30 % of FerryMQ async throughput, and at least
# 1.5x Apache's sync throughput.
#
#   bench/run_replication_bench.sh [seconds per load, default 30]
#
# Not a test: run it when nothing else is busy; it prints the load average it started with.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SECS=${1:-${FMQ_BENCH_SECONDS:-30}}
NS_PORT=${FMQ_BENCH_NS_PORT:-19876}
MASTER_PORT=${FMQ_BENCH_BROKER_PORT:-20911}
SLAVE_PORT=$((MASTER_PORT + 10))
NS="127.0.0.1:$NS_PORT"
TOPIC=BenchTopic
DATE=$(date +%F)
OUT_MD=bench/results/replication-$DATE.md
OUT_JSON=bench/results/replication-$DATE.json
APACHE=tests/compat/apache_rocketmq.sh
work=$(mktemp -d /tmp/fmq-repl-bench-XXXXXX)
pids=()
trap 'fmq_bench_cleanup apache-slave apache' EXIT
say() { echo "[repl-bench $(date +%T)] $*" >&2; }

fmq_bench_build_release
bash "$APACHE" fetch >/dev/null
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; ${SECS}s per load"

# produce <name>: warm-up, measured run; prints ferrymq-bench's JSON line.
produce() {
  local name=$1
  "$BENCH" produce -n "$NS" -t "$TOPIC" -s 1024 -c 64 --threads 64 -d 5 >"$work/$name-warmup.log" 2>&1 || true
  "$BENCH" produce -n "$NS" -t "$TOPIC" -s 1024 -c 64 --threads 64 -d "$SECS" >"$work/$name-produce.log" 2>&1 || true
  grep '^{' "$work/$name-produce.log" | tail -1
}

ferrymq_conf() {  # ferrymq_conf <dir> <role> <id> <port>
  mkdir -p "$1"
  cat >"$1/broker.conf" <<CONF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=$3
brokerRole=$2
namesrvAddr=$NS
brokerIP1=127.0.0.1
listenPort=$4
storePathRootDir=$1/store
flushDiskType=ASYNC_FLUSH
$FMQ_BENCH_HOST_DISK_CONF
CONF
}

run_ferrymq() {  # run_ferrymq <ASYNC_MASTER|SYNC_MASTER>
  local role=$1 name dir
  name="ferrymq-$(tr 'A-Z_' 'a-z-' <<<"${role%_MASTER}")"
  dir="$work/$name"
  mkdir -p "$dir"
  FMQ_LOG_LEVEL=warn "$FERRYMQ" namesrv -p "$NS_PORT" >"$dir/namesrv.log" 2>&1 &
  pids+=($!)
  ferrymq_conf "$dir/master" "$role" 0 "$MASTER_PORT"
  ferrymq_conf "$dir/slave" SLAVE 1 "$SLAVE_PORT"
  FMQ_LOG_LEVEL=warn "$FERRYMQ" broker -c "$dir/master/broker.conf" >"$dir/master.log" 2>&1 &
  local master=$!
  pids+=("$master")
  FMQ_LOG_LEVEL=warn "$FERRYMQ" broker -c "$dir/slave/broker.conf" >"$dir/slave.log" 2>&1 &
  local slave=$!
  pids+=("$slave")
  local i
  for i in $(seq 200); do  # the slave is in sync: the master counts 2 copies
    "$FERRYCTL" -n "$NS" -o json ha status broker-a 2>/dev/null | grep -q '"inSyncCopies":2' && break
    sleep 0.1
  done
  "$FERRYCTL" -n "$NS" topic create "$TOPIC" -c DefaultCluster -q 8 >"$dir/topic.log" 2>&1 || { cat "$dir/topic.log" >&2; exit 1; }
  sleep 1
  say "$name: ferrymq-bench produce (${SECS}s)"
  local json
  json=$(produce "$name")  # (ferrymq-bench only: no process of the cleanup list starts in there)
  say "$name: $json"
  # The slave holds everything afterwards.
  local caught=false
  for i in $(seq 100); do
    if "$FERRYCTL" -n "$NS" -o json ha status broker-a | python3 -c 'import json,sys
st=json.load(sys.stdin); m=[s for s in st if s.get("role","").endswith("MASTER")][0]; s=[s for s in st if s.get("role")=="SLAVE"][0]
sys.exit(0 if m["maxOffset"]==s["maxOffset"] else 1)'; then caught=true; break; fi
    sleep 0.2
  done
  kill -9 "$master" "$slave" "${pids[0]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  printf '{"config":"%s","produce":%s,"slave_caught_up":%s}\n' "$name" "${json:-null}" "$caught"
}

run_apache() {  # run_apache <ASYNC_MASTER|SYNC_MASTER>
  local role=$1 name
  name="apache-$(tr 'A-Z_' 'a-z-' <<<"${role%_MASTER}")"
  rm -rf "$work/apache" "$work/apache-slave"
  FMQ_APACHE_BROKER_CONF_EXTRA="brokerRole=$role" bash "$APACHE" start "$work/apache" "$NS_PORT" "$MASTER_PORT" \
    >"$work/$name-start.log" 2>&1 || { cat "$work/$name-start.log" >&2; exit 1; }
  FMQ_APACHE_BROKER_CONF_EXTRA=$'brokerId=1\nbrokerRole=SLAVE\nhaMasterAddress=127.0.0.1:'"$((MASTER_PORT + 1))" \
    bash "$APACHE" start-broker "$work/apache-slave" "$NS" "$SLAVE_PORT" >"$work/$name-slave.log" 2>&1 ||
    { cat "$work/$name-slave.log" >&2; exit 1; }
  bash "$APACHE" mqadmin "$NS" updateTopic -c DefaultCluster -t "$TOPIC" -r 8 -w 8 >"$work/$name-topic.log" 2>&1
  grep -q "create topic to .* success" "$work/$name-topic.log" || { cat "$work/$name-topic.log" >&2; exit 1; }
  sleep 6  # an Apache slave sends its first report one heartbeat interval (5 s) after it connects
  say "$name: ferrymq-bench produce (${SECS}s)"
  local json
  json=$(produce "$name")  # (ferrymq-bench only: no process of the cleanup list starts in there)
  say "$name: $json"
  local caught=false master_max slave_max i
  for i in $(seq 50); do
    master_max=$(bash "$APACHE" mqadmin "$NS" brokerStatus -b "127.0.0.1:$MASTER_PORT" 2>/dev/null |
      awk '/commitLogMaxOffset/ {print $NF}')
    slave_max=$(bash "$APACHE" mqadmin "$NS" brokerStatus -b "127.0.0.1:$SLAVE_PORT" 2>/dev/null |
      awk '/commitLogMaxOffset/ {print $NF}')
    if [[ -n "$master_max" && "$master_max" == "$slave_max" ]]; then caught=true; break; fi
    sleep 0.5
  done
  bash "$APACHE" stop "$work/apache-slave" >/dev/null 2>&1 || true
  bash "$APACHE" stop "$work/apache" >/dev/null 2>&1 || true
  printf '{"config":"%s","produce":%s,"slave_caught_up":%s}\n' "$name" "${json:-null}" "$caught"
}

# Not in command substitutions: the cleanup trap must see every process started.
run_ferrymq ASYNC_MASTER >>"$work/results.jsonl"
run_ferrymq SYNC_MASTER >>"$work/results.jsonl"
run_apache ASYNC_MASTER >>"$work/results.jsonl"
run_apache SYNC_MASTER >>"$work/results.jsonl"

python3 - "$OUT_MD" "$OUT_JSON" "$SECS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$work/results.jsonl" <<'PY'
import json, sys
md, js, secs, load, results = sys.argv[1:6]
runs = {r["config"]: r for r in (json.loads(x) for x in open(results) if x.strip())}
def g(c, k):
    p = (runs.get(c) or {}).get("produce") or {}
    return p.get(k)
def ratio(a, b):
    return round(a / b, 2) if a and b else None
rows = []
for c in ("ferrymq-async", "ferrymq-sync", "apache-async", "apache-sync"):
    rows.append("| %s | %s | %s | %s | %s | %s |" % (c, g(c, "tps"), g(c, "p50_ms"), g(c, "p99_ms"), g(c, "p999_ms"),
                                                     (runs.get(c) or {}).get("slave_caught_up")))
f_sync_async = ratio(g("ferrymq-sync", "tps"), g("ferrymq-async", "tps"))
a_sync_async = ratio(g("apache-sync", "tps"), g("apache-async", "tps"))
f_over_a_sync = ratio(g("ferrymq-sync", "tps"), g("apache-sync", "tps"))
out = ["# Replication benchmark (%s s per load; load average at the end %s)" % (secs, load), "",
       "Master + one slave on 127.0.0.1, ASYNC_FLUSH, ferrymq-bench produce: 1 KiB, 64 concurrent synchronous senders.",
       "", "| configuration | TPS | p50 ms | p99 ms | p999 ms | slave caught up |", "| --- | ---: | ---: | ---: | ---: | --- |"]
out += rows
out += ["", "FerryMQ sync / async throughput: %s (goal: at least 0.70)." % f_sync_async,
        "Apache sync / async throughput: %s." % a_sync_async,
        "FerryMQ sync / Apache sync throughput: %s (goal: at least 1.5)." % f_over_a_sync]
open(md, "w").write("\n".join(out) + "\n")
json.dump({"runs": runs, "ferrymq_sync_over_async": f_sync_async, "apache_sync_over_async": a_sync_async,
           "ferrymq_sync_over_apache_sync": f_over_a_sync}, open(js, "w"), indent=2)
print("\n".join(out))
PY

#!/usr/bin/env bash
# TLS next to plaintext on one FerryMQ standalone: the same ferrymq-bench produce load (1 KiB bodies, 64 synchronous
# senders on 16 connections, ASYNC_FLUSH), once over plaintext and once over TLS (tls.server.mode=permissive, so
# the same ports serve both; TLS 1.3, P-256 certificate from scripts/make_test_pki.sh), alternating for
# ROUNDS rounds so both see the same machine state; medians per transport and the TLS/plaintext ratio.
# Writes bench/results/tls-<date>.md and .json.
#
#   bench/run_tls_bench.sh [seconds per run, default 15] [rounds, default 3]
#
# Not a test: run it when nothing else is busy.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SECS=${1:-15}
ROUNDS=${2:-3}
NS_PORT=${FMQ_BENCH_NS_PORT:-19876}
BROKER_PORT=${FMQ_BENCH_BROKER_PORT:-20911}
NS="127.0.0.1:$NS_PORT"
DATE=$(date +%F)
OUT_MD=bench/results/tls-$DATE.md
OUT_JSON=bench/results/tls-$DATE.json
APACHE=tests/compat/apache_rocketmq.sh
work=$(mktemp -d /tmp/fmq-tls-bench-XXXXXX)
pids=()
trap 'fmq_bench_cleanup none' EXIT
say() { echo "[bench $(date +%T)] $*" >&2; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
field() { grep -oE "\"$1\":[0-9.]+" | head -1 | cut -d: -f2; }

fmq_bench_build_release
bash scripts/make_test_pki.sh "$work/pki"
# One standalone (name server and broker in one process), both ports permissive: clients that ask for TLS get it
# everywhere, name server included.
cat >"$work/broker.conf" <<CONF
flushDiskType=ASYNC_FLUSH
tls.server.mode=permissive
tls.server.certPath=$work/pki/server.pem
tls.server.keyPath=$work/pki/server.key
$FMQ_BENCH_HOST_DISK_CONF
CONF
FMQ_LOG_LEVEL=warn "$FERRYMQ" standalone -d "$work/data" -c "$work/broker.conf" --namesrv-port "$NS_PORT" \
  --broker-port "$BROKER_PORT" >"$work/standalone.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "ferrymq standalone: name server" "$work/standalone.log" && break; sleep 0.1; done
grep -q "ferrymq standalone: name server" "$work/standalone.log" || { cat "$work/standalone.log"; exit 1; }
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; ${SECS}s per run, $ROUNDS rounds"
"$FERRYCTL" -n "$NS" topic create TlsBench --queues 8 >/dev/null

declare -A tps p99
for r in $(seq "$ROUNDS"); do
  for t in plaintext tls; do
    flags=()
    [[ $t == tls ]] && flags=(--tls)
    "$BENCH" produce -n "$NS" -t TlsBench -s 1024 -c 64 --threads 16 -d "$SECS" "${flags[@]}" >"$work/$t-$r.log" 2>&1 || true
    line=$(grep '^{' "$work/$t-$r.log" | tail -1 || true)
    [[ -n "$line" ]] || { tail -20 "$work/$t-$r.log"; echo "ferrymq-bench printed no summary ($t, round $r)" >&2; exit 1; }
    tps[$t]+="$(field tps <<<"$line") "
    p99[$t]+="$(field p99_ms <<<"$line") "
    say "round $r $t: $line"
  done
done
med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
plain_tps=$(med "${tps[plaintext]}"); tls_tps=$(med "${tps[tls]}")
plain_p99=$(med "${p99[plaintext]}"); tls_p99=$(med "${p99[tls]}")
ratio=$(awk -v a="$tls_tps" -v b="$plain_tps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
cat >"$OUT_JSON" <<JSON
{"date":"$DATE","seconds":$SECS,"rounds":$ROUNDS,"load":"produce 1KiB, 64 senders, 16 connections, ASYNC_FLUSH",
 "plaintext":{"tps_samples":"${tps[plaintext]% }","p99_ms_samples":"${p99[plaintext]% }","tps_median":$plain_tps,"p99_ms_median":$plain_p99},
 "tls":{"tps_samples":"${tps[tls]% }","p99_ms_samples":"${p99[tls]% }","tps_median":$tls_tps,"p99_ms_median":$tls_p99},
 "tls_over_plaintext":$ratio}
JSON
cat >"$OUT_MD" <<MD
# TLS next to plaintext ($DATE)

\`bench/run_tls_bench.sh $SECS $ROUNDS\`: one \`ferrymq standalone\` (release build, ASYNC_FLUSH, \`tls.server.mode=permissive\`),
ferrymq-bench produce with 1 KiB bodies, 64 synchronous senders on 16 connections, plaintext and TLS runs
alternating; medians of $ROUNDS runs of ${SECS} s. $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg).

| Transport | Send TPS (median) | p99 ms (median) | TPS samples |
| --- | --- | --- | --- |
| plaintext | $plain_tps | $plain_p99 | ${tps[plaintext]% } |
| TLS 1.3 | $tls_tps | $tls_p99 | ${tps[tls]% } |

TLS / plaintext throughput: **$ratio**.
MD
cat "$OUT_MD"

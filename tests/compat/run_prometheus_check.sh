#!/usr/bin/env bash
# A real Prometheus (Debian's package, scripts/setup.sh) scrapes `ferrymq standalone` with
# metricsExporterType=PROM (docs/metrics.md) every second; ferryctl sends 30 messages and a consumer group reads
# and commits 12; then Prometheus' query API must answer: up 1, rocketmq_messages_in_total 30 (= sent),
# rocketmq_consumer_lag_messages 18 (= backlog), rocketmq_rpc_latency_milliseconds_count of send_message_v2 30,
# rocketmq_broker_permission 6.
#
#   tests/compat/run_prometheus_check.sh <path to ferrymq>
#
# Prints PASS/FAIL lines and "prometheus: N passed, M failed"; exit status 0 only when all passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/compat/lib.sh
source tests/compat/lib.sh
ferrymq=${1:?usage: tests/compat/run_prometheus_check.sh <path to ferrymq>}
ferryctl="${FMQ_FERRYCTL:-$(dirname "$ferrymq")/../cli/ferryctl}"
command -v prometheus >/dev/null || die "prometheus is not installed (scripts/setup.sh installs Debian's package)"
work=$(mktemp -d /tmp/fmq-prom-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

printf 'metricsExporterType=PROM\nmetricsPromExporterHost=127.0.0.1\nmetricsPromExporterPort=0\n%s\n' \
  "${FMQ_HOST_DISK_CONF:-}" >"$work/broker.conf"
# Info level whatever the caller's FMQ_LOG_LEVEL (scripts/test.sh exports warn): the metrics address is an info line.
FMQ_LOG_LEVEL=info "$ferrymq" standalone -d "$work/data" -c "$work/broker.conf" --namesrv-port 0 --broker-port 0 \
  >"$work/standalone.log" 2>&1 &
pids+=($!)
compat_wait_for_line "$work/standalone.log" "ferrymq standalone: name server" "${pids[0]}" 60 ||
  { cat "$work/standalone.log"; exit 1; }
namesrv=$(sed -nE 's/.*name server (127\.0\.0\.1:[0-9]+),.*/\1/p' "$work/standalone.log" | head -1)
metrics=$(sed -nE 's/.*metrics: Prometheus \/metrics on (127\.0\.0\.1:[0-9]+).*/\1/p' "$work/standalone.log" | head -1)
[[ -n $namesrv && -n $metrics ]] || { cat "$work/standalone.log"; die "no name server or metrics address logged"; }
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: ferrymq
    static_configs: [{targets: ['$metrics']}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

"$ferryctl" -n "$namesrv" send --count 30 promcheck "hello prometheus" >/dev/null
"$ferryctl" -n "$namesrv" consume -g promcheck_cg --count 12 --from-beginning --timeout 60 promcheck >/dev/null

# query <PromQL>: the value of its single series, or "none".
query() {
  curl -s --get --data-urlencode "query=$1" "http://127.0.0.1:$prom_port/api/v1/query" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if len(r) == 1 else ("none" if not r else "%d series" % len(r)))
except Exception as e:
    print("unreadable answer: %s" % e)'
}
passed=0 failed=0
expect() {  # expect <what> <PromQL> <value>: polls for up to 30 s (a scrape a second)
  local got deadline=$(($(date +%s) + 30))
  while :; do
    got=$(query "$2")
    [[ $got == "$3" ]] && break
    (($(date +%s) < deadline)) || break
    sleep 0.5
  done
  if [[ $got == "$3" ]]; then
    passed=$((passed + 1)); echo "PASS $1: $2 = $got"
  else
    failed=$((failed + 1)); echo "FAIL $1: $2 = $got, expected $3"
  fi
}
expect "Prometheus scrapes the broker" 'up{job="ferrymq"}' 1
expect "messages in = messages sent" 'rocketmq_messages_in_total{topic="promcheck",message_type="normal"}' 30
expect "lag = backlog (30 sent, 12 committed)" \
  'rocketmq_consumer_lag_messages{topic="promcheck",consumer_group="promcheck_cg"}' 18
expect "every send answered once in the RPC latency histogram" \
  'sum(rocketmq_rpc_latency_milliseconds_count{request_code="send_message_v2",response_code="success"})' 30
expect "the broker is read-write" 'rocketmq_broker_permission' 6
echo "prometheus: $passed passed, $failed failed"
((failed == 0))

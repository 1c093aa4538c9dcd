#!/usr/bin/env bash
# A real Prometheus (Debian's package, scripts/setup.sh) scrapes `ferrymq standalone` with
# metricsExporterType=PROM (docs/metrics.md) every second, both families: /metrics (RocketMQ 5's names) and
# /metrics/exporter (rocketmq-exporter's). ferryctl sends 30 messages and a consumer group reads and commits 12;
# a real Java consumer (SemanticsCheck dead-letters, maxReconsumeTimes 1) fails every delivery of 5 more
# messages until all 5 are dead letters. Then Prometheus' query API must answer, native family: up 1,
# rocketmq_messages_in_total 30 (= sent), rocketmq_consumer_lag_messages 18 (= backlog),
# rocketmq_rpc_latency_milliseconds_count of send_message_v2 35 (every send), rocketmq_broker_permission 6,
# rocketmq_send_to_dlq_messages_total 5 (= dead letters); exporter family: producer offset 30, consumer offset
# 12, group diff 18, DLQ offset and dlqdiff 5, and every rocketmq-exporter name Grafana dashboard 10477 queries
# (but rocketmq_client_*, docs/metrics.md) has a series; and every query of the chart's cluster, broker, topic and
# consumer-group dashboards returns a series (tests/prometheus/check_dashboards.py).
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
cp=$(compat_java_classpath)
levels=$(sed -nE 's/.*static final String LEVELS = "([^"]+)".*/\1/p' \
  "$COMPAT_DIR/java/src/main/java/io/ferrymq/compat/SemanticsCheck.java")
[[ -n "$levels" ]] || die "cannot read SemanticsCheck.LEVELS"
work=$(mktemp -d /tmp/fmq-prom-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The short delay levels make a retry come back within seconds.
printf 'metricsExporterType=PROM\nmetricsPromExporterHost=127.0.0.1\nmetricsPromExporterPort=0\nmessageDelayLevel=%s\n%s\n' \
  "$levels" "${FMQ_HOST_DISK_CONF:-}" >"$work/broker.conf"
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
  - job_name: ferrymq-exporter
    metrics_path: /metrics/exporter
    static_configs: [{targets: ['$metrics']}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

"$ferryctl" -n "$namesrv" send --count 30 promcheck "hello prometheus" >/dev/null
"$ferryctl" -n "$namesrv" consume -g promcheck_cg --count 12 --from-beginning --timeout 60 promcheck >/dev/null
java $(compat_client_jvm_opts) -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$cp" io.ferrymq.compat.SemanticsCheck \
  dead-letters "$namesrv" promdead promdead_cg 5 >"$work/dead-letters.log" 2>&1 ||
  { cat "$work/dead-letters.log"; die "the failing consumer did not turn 5 messages into dead letters"; }

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
expect "every send (30 by ferryctl, 5 by Java) answered once in the RPC latency histogram" \
  'sum(rocketmq_rpc_latency_milliseconds_count{request_code="send_message_v2",response_code="success"})' 35
expect "the broker is read-write" 'rocketmq_broker_permission' 6
expect "DLQ count = dead letters" 'sum(rocketmq_send_to_dlq_messages_total{consumer_group="promdead_cg"})' 5
expect "Prometheus scrapes the exporter family" 'up{job="ferrymq-exporter"}' 1
expect "exporter: producer offset = sent" 'rocketmq_producer_offset{topic="promcheck"}' 30
expect "exporter: consumer offset = committed" 'rocketmq_consumer_offset{topic="promcheck",group="promcheck_cg"}' 12
expect "exporter: group diff = backlog" 'rocketmq_group_diff{topic="promcheck",group="promcheck_cg"}' 18
expect "exporter: DLQ offset = dead letters" 'rocketmq_topic_dlq_offset{group="promdead_cg"}' 5
expect "exporter: dlqdiff = dead letters" 'rocketmq_group_dlqdiff{group="promdead_cg"}' 5
# Every rocketmq-exporter name Grafana 10477 (the exporter's rocketmq_exporter_overview.json) queries, but the
# rocketmq_client_* family (per client id: not rendered, docs/metrics.md).
for name in rocketmq_broker_tps rocketmq_broker_qps rocketmq_producer_tps rocketmq_producer_message_size \
  rocketmq_producer_offset rocketmq_consumer_tps rocketmq_consumer_message_size rocketmq_consumer_offset \
  rocketmq_group_get_latency_by_storetime rocketmq_brokeruntime_commitlog_disk_ratio \
  rocketmq_brokeruntime_commitlog_maxoffset rocketmq_brokeruntime_commitlog_minoffset \
  rocketmq_brokeruntime_commitlogdir_capacity_free rocketmq_brokeruntime_commitlogdir_capacity_total \
  rocketmq_brokeruntime_consumequeue_disk_ratio rocketmq_brokeruntime_dispatch_behind_bytes \
  rocketmq_brokeruntime_getfound_tps10 rocketmq_brokeruntime_getmiss_tps10 rocketmq_brokeruntime_gettotal_tps10 \
  rocketmq_brokeruntime_gettransfered_tps10 rocketmq_brokeruntime_msg_gettotal_today_now \
  rocketmq_brokeruntime_msg_gettotal_todaymorning rocketmq_brokeruntime_msg_gettotal_yesterdaymorning \
  rocketmq_brokeruntime_msg_put_total_today_now rocketmq_brokeruntime_msg_puttotal_todaymorning \
  rocketmq_brokeruntime_msg_puttotal_yesterdaymorning rocketmq_brokeruntime_pmdt_0ms \
  rocketmq_brokeruntime_pmdt_0to10ms rocketmq_brokeruntime_pmdt_10to50ms rocketmq_brokeruntime_pmdt_50to100ms \
  rocketmq_brokeruntime_pmdt_100to200ms rocketmq_brokeruntime_pmdt_200to500ms rocketmq_brokeruntime_pmdt_500to1s \
  rocketmq_brokeruntime_pmdt_1to2s rocketmq_brokeruntime_pmdt_2to3s rocketmq_brokeruntime_pmdt_3to4s \
  rocketmq_brokeruntime_pmdt_4to5s rocketmq_brokeruntime_pmdt_5to10s rocketmq_brokeruntime_pmdt_10stomore \
  rocketmq_brokeruntime_pull_threadpoolqueue_headwait_timemills rocketmq_brokeruntime_put_message_average_size \
  rocketmq_brokeruntime_put_message_size_total rocketmq_brokeruntime_put_tps10 \
  rocketmq_brokeruntime_query_threadpoolqueue_headwait_timemills \
  rocketmq_brokeruntime_send_threadpoolqueue_headwait_timemills; do
  expect "exporter name present" "count($name) > bool 0" 1
done
# Every query of the broker dashboards (the chart's Grafana JSON) returns series from this Prometheus.
if python3 tests/prometheus/check_dashboards.py --prometheus "http://127.0.0.1:$prom_port" --uid ferrymq-cluster \
  --uid ferrymq-broker --uid ferrymq-topic --uid ferrymq-consumer-group >"$work/dashboards.log" 2>&1; then
  passed=$((passed + 1)); echo "PASS dashboards: $(tail -1 "$work/dashboards.log")"
else
  failed=$((failed + 1)); grep FAIL "$work/dashboards.log" || true; echo "FAIL dashboards: $(tail -1 "$work/dashboards.log")"
fi
echo "prometheus: $passed passed, $failed failed"
((failed == 0))

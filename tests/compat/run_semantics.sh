#!/usr/bin/env bash
# RocketMQ message semantics with the real Java client 4.9.7 against a real FerryMQ broker (SemanticsCheck, java/):
#   retry      a concurrent consumer's failures are redelivered through %RETRY%<group> at delay levels
#              3, 4, 5 (reconsume times 1..3, a new commit-log record each, no earlier than due), then land in
#              %DLQ%<group>; an orderly consumer's local retries end in %DLQ%<group> and its queue moves on;
#              delay levels 1..5 and 99 (clamped) are delivered no earlier than due and within 1.5 s.
#   sql92      SQL92 selectors: each push consumer gets exactly what Apache's own evaluator (rocketmq-filter)
#              accepts; a selector the broker cannot compile fails the consumer's start() with code 23.
#   reset      mqadmin 4.9.7 resetOffsetByTime to an offline group (kept across a kill -9) and to a group whose
#              consumer is online, and skipAccumulatedMessage: exactly the messages stored after the time are
#              consumed again, nothing else.
#   limits     compressed bodies stored compressed and delivered intact; maxMessageSize applies to the stored
#              body (a 6 MiB compressible one is accepted, an incompressible one refused with Apache's remark).
#   trace      message trace: a producer and a consumer with enableMsgTrace; mqadmin queryMsgTraceById and
#              ferryctl message trace show the send and the consumption.
#   timers     timer messages (TIMER_DELIVER_MS / TIMER_DELAY_MS / TIMER_DELAY_SEC) at arbitrary times, on time
#              (never early, at most 1.5 s late), a past time at once, bad times refused; 200 pending timers
#              across a SIGTERM and a kill -9 restart: none lost, early or delivered twice.
#   tx         transactions: committed delivered once, rolled back never, lost commits checked back and
#              delivered, never-answered ones discarded after transactionCheckMax, a 4,000,000-byte one;
#              unended half messages across a kill -9, committed by check-back after the restart.
#   restart    delayed messages pending across a clean restart (SIGTERM) and across kill -9: every one is
#              delivered, none early, nothing unexpected; no duplicate after the clean restart.
# Its own name server and broker (`ferrymq namesrv`, `ferrymq broker`) with a short delay table
# (SemanticsCheck.LEVELS), so the whole check takes about five minutes. ferryctl: $FMQ_FERRYCTL, else
# <dir of ferrymq>/../cli/ferryctl.
#
#   tests/compat/run_semantics.sh <path to ferrymq>
#
# Prints "[PASS]/[FAIL]" lines and "semantics: N passed, M failed"; exit 0 only when all passed.
# FMQ_SEMANTICS_KEEP=1 keeps the work directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ferrymq=$(realpath "$1")
[[ -x "$ferrymq" ]] || die "not an executable: $1"
ferryctl=$(realpath "${FMQ_FERRYCTL:-$(dirname "$ferrymq")/../cli/ferryctl}")
[[ -x "$ferryctl" ]] || die "no ferryctl next to $ferrymq (set FMQ_FERRYCTL)"
levels=$(sed -nE 's/.*static final String LEVELS = "([^"]+)".*/\1/p' \
  "$COMPAT_DIR/java/src/main/java/io/ferrymq/compat/SemanticsCheck.java")
[[ -n "$levels" ]] || die "cannot read SemanticsCheck.LEVELS"

cp=$(compat_java_classpath)
jvm=($(compat_client_jvm_opts) -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
work=$(mktemp -d /tmp/fmq-semantics-XXXXXX)
pids=()
broker_pid=""
cleanup() {
  local p
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  if [[ -z "${FMQ_SEMANTICS_KEEP:-}" ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

passed=0
failed=0
verdict() {  # verdict <name> <log>: counts SemanticsCheck's PASS/FAIL lines
  local p f
  p=$(grep -c '^\[PASS\]' "$2" || true); f=$(grep -c '^\[FAIL\]' "$2" || true)
  grep -E '^\[(PASS|FAIL)\]' "$2" | sed "s/^/  $1 /" || true
  if ! grep -q '^RESULT: PASS' "$2"; then
    ((f > 0)) || f=1
    echo "---- $2:"; tail -40 "$2"
  fi
  passed=$((passed + p)); failed=$((failed + f))
}

printf 'listenPort=0\nkvConfigPath=%s/kv.json\n' "$work" >"$work/namesrv.conf"
FMQ_LOG_LEVEL=info "$ferrymq" namesrv -c "$work/namesrv.conf" >"$work/namesrv.log" 2>&1 &
ns_pid=$!; pids+=("$ns_pid")
compat_wait_for_line "$work/namesrv.log" 'ferrymq namesrv listening on' "$ns_pid" 30 || die "the name server did not start"
namesrv="127.0.0.1:$(sed -nE 's/.*ferrymq namesrv listening on [0-9.]+:([0-9]+).*/\1/p' "$work/namesrv.log" | head -1)"
cat >"$work/broker.conf" <<CONF
brokerClusterName=SemCluster
brokerName=broker-sem
listenAddress=127.0.0.1
brokerIP1=127.0.0.1
listenPort=0
fastListenPort=0
storePathRootDir=$work/store
namesrvAddr=$namesrv
mappedFileSizeCommitLog=67108864
messageDelayLevel=$levels
flushDelayOffsetInterval=1000
registerNameServerPeriod=2000
transactionCheckInterval=1000
transactionTimeOut=1000
transactionCheckMax=5
$FMQ_HOST_DISK_CONF
CONF

start_broker() {
  FMQ_LOG_LEVEL=info "$ferrymq" broker -c "$work/broker.conf" >>"$work/broker.log" 2>&1 &
  broker_pid=$!; pids+=("$broker_pid")
  local n; n=$(grep -c 'ferrymq broker .* listening on' "$work/broker.log" 2>/dev/null || true)
  local deadline=$(($(date +%s) + 60))
  until (($(grep -c 'ferrymq broker .* listening on' "$work/broker.log" 2>/dev/null || true) > n)); do
    kill -0 "$broker_pid" 2>/dev/null || die "the broker exited: $(tail -5 "$work/broker.log")"
    (($(date +%s) <= deadline)) || die "the broker did not start within 60 s"
    sleep 0.1
  done
}
: >"$work/broker.log"
start_broker
# Restarts keep the address, as a broker behind a stable address does: clients that know it reconnect.
port=$(sed -nE 's/.*ferrymq broker .* listening on [0-9.]+:([0-9]+),.*/\1/p' "$work/broker.log" | head -1)
sed -i "s/^listenPort=0$/listenPort=$port/" "$work/broker.conf"
java_check() { java "${jvm[@]}" -cp "$cp" io.ferrymq.compat.SemanticsCheck "$@"; }

echo "== semantics: retry, DLQ, ordered retry, delay levels (name server $namesrv, messageDelayLevel=$levels)"
java_check retry "$namesrv" sem >"$work/retry.log" 2>&1 || true
verdict retry "$work/retry.log"

java_check sql92 "$namesrv" sem >"$work/sql92.log" 2>&1 || true
verdict sql92 "$work/sql92.log"

# Reset offset with mqadmin 4.9.7 unchanged: by time for an offline group (the reset survives a kill -9), then
# skipAccumulatedMessage, then by time for a group whose consumer stays online.
"$COMPAT_DIR/apache_rocketmq.sh" fetch >/dev/null
output_check() {  # output_check <phase> <name> <pattern> <command...>: the command's output must match
  local phase=$1 name=$2 pattern=$3 out; shift 3
  out=$("$@" 2>&1) || true
  if grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1)); echo "  $phase [PASS] $name"
  else
    failed=$((failed + 1)); echo "  $phase [FAIL] $name"; printf '%s\n' "$out" | tail -20
  fi
}
mqadmin_check() {  # mqadmin_check <name> <pattern> <mqadmin args...>
  local name=$1 pattern=$2; shift 2
  output_check reset "mqadmin $name" "$pattern" "$COMPAT_DIR/apache_rocketmq.sh" mqadmin "$namesrv" "$@"
}
rt="SemReset_$(date +%s%3N)"
r() { java_check "$@" >>"$work/reset.log" 2>&1 || true; verdict reset "$work/reset.log"; : >"$work/reset.log"; }
: >"$work/reset.log"
r reset-send "$namesrv" "$rt" A 10 "$work/ra"
r reset-send "$namesrv" "$rt" B 10 "$work/rb"
{ head -1 "$work/ra"; tail -n +2 "$work/ra"; tail -n +2 "$work/rb"; } >"$work/rab"
r reset-consume "$namesrv" "$rt" "${rt}_off" "$work/rab" "offline group consumed A and B"
mqadmin_check "resetOffsetByTime (offline group, to B's time)" 'rollback consumer offset' \
  resetOffsetByTime -g "${rt}_off" -t "$rt" -s "$(head -1 "$work/rb")"
kill -KILL "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
start_broker
r reset-consume "$namesrv" "$rt" "${rt}_off" "$work/rb" "after the reset and a kill -9, B again and only B"
r reset-send "$namesrv" "$rt" C 10 "$work/rc"
mqadmin_check "skipAccumulatedMessage (offline group)" '^broker-sem +0 +[0-9]+' \
  skipAccumulatedMessage -g "${rt}_off" -t "$rt"
r reset-send "$namesrv" "$rt" D 10 "$work/rd"
r reset-consume "$namesrv" "$rt" "${rt}_off" "$work/rd" "after skipAccumulatedMessage, D only"
{ head -1 "$work/ra"; for f in ra rb rc rd; do tail -n +2 "$work/$f"; done; } >"$work/rall"
java_check reset-online "$namesrv" "$rt" "${rt}_on" "$work/rall" "$work/ragain" "online group reset to C's time" \
  >"$work/reset-online.log" 2>&1 &
ron_pid=$!; pids+=("$ron_pid")
deadline=$(($(date +%s) + 150))
until [[ -f "$work/rall.ready" ]] || (($(date +%s) > deadline)) || ! kill -0 "$ron_pid" 2>/dev/null; do sleep 0.1; done
mqadmin_check "resetOffsetByTime (online group, to C's time)" 'rollback consumer offset' \
  resetOffsetByTime -g "${rt}_on" -t "$rt" -s "$(head -1 "$work/rc")"
# Renamed into place: the consumer reads the file as soon as it exists (a plain redirect creates it empty first,
# and a loaded machine once let the consumer read it then: "expected 0").
{ tail -n +2 "$work/rc"; tail -n +2 "$work/rd"; } >"$work/ragain.tmp"
mv "$work/ragain.tmp" "$work/ragain"
wait "$ron_pid" || true
verdict reset "$work/reset-online.log"

java_check tx "$namesrv" sem >"$work/tx.log" 2>&1 || true
verdict tx "$work/tx.log"

# Half messages across a kill -9: the producer stays up and answers the checks of the restarted broker.
java_check tx-restart "$namesrv" "$work" x >"$work/tx-restart.log" 2>&1 &
txr_pid=$!; pids+=("$txr_pid")
deadline=$(($(date +%s) + 120))
until [[ -f "$work/tx-sent" ]] || (($(date +%s) > deadline)) || ! kill -0 "$txr_pid" 2>/dev/null; do sleep 0.05; done
kill -KILL "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
start_broker
touch "$work/tx-restarted"
wait "$txr_pid" || true
verdict tx-restart "$work/tx-restart.log"

# Delayed messages across restarts: level 18 (2 s) is too short to outlive a restart, so level 5 (3 s) with the
# stop 1 s after the sends; the broker is down for 2 s, so most messages are already due when it is back.
for how in TERM KILL; do
  topic="SemDelay${how}_$(date +%s%3N)"
  java_check send-delayed "$namesrv" "$topic" 5 200 "$work/$topic.keys" >"$work/$topic.send.log" 2>&1 || true
  verdict "restart-$how" "$work/$topic.send.log"
  sleep 1
  kill -"$how" "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
  sleep 2
  start_broker
  allow_dup=false; [[ $how == KILL ]] && allow_dup=true
  java_check verify-delayed "$namesrv" "$topic" 3000 "$work/$topic.keys" "$allow_dup" >"$work/$topic.verify.log" 2>&1 || true
  verdict "restart-$how" "$work/$topic.verify.log"
done

java_check limits "$namesrv" sem >"$work/limits.log" 2>&1 || true
verdict limits "$work/limits.log"

# Message trace: the Java client's trace records, read back by mqadmin 4.9.7 and by ferryctl.
java_check trace "$namesrv" sem "$work/trace.ids" >"$work/trace.log" 2>&1 || true
verdict trace "$work/trace.log"
trace_id=$(head -1 "$work/trace.ids" 2>/dev/null || true)
trace_check() { output_check trace "$@"; }
trace_check "mqadmin queryMsgTraceById shows the send" '^Pub ' \
  "$COMPAT_DIR/apache_rocketmq.sh" mqadmin "$namesrv" queryMsgTraceById -i "$trace_id"
trace_check "mqadmin queryMsgTraceById shows the consumption" '^Sub ' \
  "$COMPAT_DIR/apache_rocketmq.sh" mqadmin "$namesrv" queryMsgTraceById -i "$trace_id"
trace_check "ferryctl message trace prints the timeline" 'consumed by' \
  "$ferryctl" -n "$namesrv" message trace "$trace_id"

java_check timers "$namesrv" sem >"$work/timers.log" 2>&1 || true
verdict timers "$work/timers.log"

# Pending timers across restarts: 200 timers 3 s ahead, the broker stopped 1 s later (SIGTERM, then kill -9) and
# down for 2 s. Every one is delivered, none early, and none twice even after the kill.
for how in TERM KILL; do
  topic="SemTimer${how}_$(date +%s%3N)"
  java_check send-timers "$namesrv" "$topic" 3000 200 "$work/$topic.keys" >"$work/$topic.send.log" 2>&1 || true
  verdict "timer-restart-$how" "$work/$topic.send.log"
  sleep 1
  kill -"$how" "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
  sleep 2
  start_broker
  java_check verify-delayed "$namesrv" "$topic" 3000 "$work/$topic.keys" false >"$work/$topic.verify.log" 2>&1 || true
  verdict "timer-restart-$how" "$work/$topic.verify.log"
done

if grep -qE '\] \[(error|critical)\]| E \[' "$work/broker.log"; then
  echo "== errors logged by the broker:"; grep -E '\] \[(error|critical)\]| E \[' "$work/broker.log" | head -20
fi
echo "semantics: $passed passed, $failed failed"
((failed == 0 && passed > 0))

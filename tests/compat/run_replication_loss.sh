#!/usr/bin/env bash
# Replication loss test: a SYNC_MASTER with two slaves, 8 Java-client producers sending unique ids without pause,
# SIGKILL of the master, `ferryctl ha promote`, producers go on after their route refresh, then a fresh consumer
# group drains the topic and ReplicationLossCheck (java/) counts with Jepsen's total-queue accounting:
#   lost        acknowledged (SEND_OK) and never read           must be 0
#   recovered   send reported failed, read anyway                reported
#   duplicated  read more than once                              reported
#   unexpected  read but never sent                              must be 0
# plus "unavailable", the longest gap between two consecutive SEND_OK acknowledgements from the last one before
# the kill on (the time without a writable master), and "promote", how long `ferryctl ha promote` took.
#
#   tests/compat/run_replication_loss.sh <path to ferrymq> <path to ferryctl> [repetitions]   (default 5)
#
# Every repetition runs a fresh name server and three `ferrymq broker` processes on 127.0.0.2-4 (ports chosen by
# the kernel) in a work directory under /tmp, removed afterwards (kept with FMQ_LOSS_KEEP=1). Prints a line per
# repetition and "replication loss: N passed, M failed" last; exit status 0 only when every repetition passed
# (lost 0, unexpected 0, the drain complete, and a send acknowledged by the new master). On a failure it prints
# the producer's, the check's and the brokers' logs.
#
# Environment: FMQ_LOSS_BEFORE_KILL (seconds of producing before the kill, 5), FMQ_LOSS_AFTER_PROMOTE (seconds of
# producing after the failover, 5), FMQ_LOSS_THREADS (producer threads, 8), FMQ_LOSS_LOG_LINES (lines of each
# broker log printed on failure, 400), FMQ_LOSS_KEEP, plus lib.sh's FMQ_CACHE_DIR and FMQ_COMPAT_LOG_DIR.
set -euo pipefail
# shellcheck source=tests/compat/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 2 && $# -le 3 ]] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
ferrymq=$(realpath "$1")
ferryctl=$(realpath "$2")
reps=${3:-5}
[[ -x "$ferrymq" ]] || die "not an executable: $1"
[[ -x "$ferryctl" ]] || die "not an executable: $2"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "repetitions must be a positive number, got '$reps'"
before_kill=${FMQ_LOSS_BEFORE_KILL:-5}
after_promote=${FMQ_LOSS_AFTER_PROMOTE:-5}
threads=${FMQ_LOSS_THREADS:-8}
log_lines=${FMQ_LOSS_LOG_LINES:-400}

cluster=LossCluster
group=broker-loss
ips=(127.0.0.2 127.0.0.3 127.0.0.4)

cp=$(compat_java_classpath)
# shellcheck disable=SC2207
jvm=($(compat_client_jvm_opts) -XX:+UseSerialGC -XX:TieredStopAtLevel=1)

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, ms / 1000 }'; }

# State of the current repetition; cleanup() stops what it started (by pid) and removes its work directory.
work=""
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  pids=()
  if [[ -n "$work" && -d "$work" && -z "${FMQ_LOSS_KEEP:-}" ]]; then rm -rf "$work"; fi
  work=""
}
trap cleanup EXIT

# compat_wait_for_line <file> <pattern> <pid> <seconds>: until the file has a line matching the pattern; fails when the
# process exits or the time is up.
ctl() { "$ferryctl" -n "$namesrv" "$@"; }
# mark <event>: the repetition's timeline (ms since it started), printed with the logs on failure.
mark() { echo "$(($(now_ms) - t_start)) ms $*" >>"$work/timeline.log"; }

dump_logs() {
  local f
  for f in "$work/timeline.log" "$work/producer.log" "$work/promote.log" "$work/verify.log" "$work/ha-status.log"; do
    [[ -s "$f" ]] || continue
    echo "---- $(basename "$f"):"; grep -v '^progress ' "$f" | tail -n 200 || true
    # progress lines from 3 s before the kill to 12 s after it (all of them when there was no kill)
    grep '^progress ' "$f" | awk -v k="${kill_ms:-0}" '{ t = ($2 - k) / 1000; if (k == 0 || (t > -3 && t < 12)) print }' |
      sed 's/^/  /' || true
  done
  for f in "$work"/namesrv.log "$work"/b*/broker.log; do
    [[ -f "$f" ]] || continue
    echo "---- $f (last $log_lines lines of $(wc -l <"$f")):"; tail -n "$log_lines" "$f"
  done
}

# One repetition; prints its summary line, returns 0 when it passed.
run_once() {
  local rep=$1
  t_start=$(now_ms)
  work=$(mktemp -d /tmp/fmq-loss-XXXXXX)
  local topic="LossTopic_${rep}_$t_start"
  kill_ms=0
  fail_reason=""

  printf 'listenPort=0\nkvConfigPath=%s/kv.json\n' "$work" >"$work/namesrv.conf"
  "$ferrymq" namesrv -c "$work/namesrv.conf" >"$work/namesrv.log" 2>&1 &
  local ns_pid=$!; pids+=("$ns_pid")
  compat_wait_for_line "$work/namesrv.log" 'ferrymq namesrv listening on' "$ns_pid" 30 || { fail_reason="name server did not start"; return 1; }
  namesrv="127.0.0.1:$(sed -nE 's/.*ferrymq namesrv listening on [0-9.]+:([0-9]+).*/\1/p' "$work/namesrv.log" | head -1)"

  # The master first, registered with the name server before the slaves start: a slave learns its master from
  # the answer to its registration, and registers again only every registerNameServerPeriod (10 s).
  local i role addrs=() bpids=() deadline
  for i in 0 1 2; do
    role=SLAVE; ((i == 0)) && role=SYNC_MASTER
    mkdir -p "$work/b$i"
    cat >"$work/b$i/broker.conf" <<EOF
brokerClusterName=$cluster
brokerName=$group
brokerId=$i
brokerRole=$role
listenAddress=${ips[$i]}
brokerIP1=${ips[$i]}
listenPort=0
storePathRootDir=$work/b$i/store
namesrvAddr=$namesrv
mappedFileSizeCommitLog=67108864
haSlaveReportInterval=100
haMaxTimeSlaveNotCatchup=3000
slaveTimeout=2000
haSyncMetadataInterval=500
registerNameServerPeriod=10000
$FMQ_HOST_DISK_CONF
EOF
    "$ferrymq" broker -c "$work/b$i/broker.conf" >"$work/b$i/broker.log" 2>&1 &
    bpids[i]=$!; pids+=("${bpids[i]}")
    compat_wait_for_line "$work/b$i/broker.log" 'ferrymq broker .* listening on' "${bpids[i]}" 30 ||
      { fail_reason="broker $i did not start"; return 1; }
    addrs[i]=$(sed -nE 's/.*ferrymq broker .* listening on ([0-9.]+:[0-9]+),.*/\1/p' "$work/b$i/broker.log" | head -1)
    if ((i == 0)); then
      deadline=$(($(date +%s) + 30))
      until ctl cluster list 2>/dev/null | grep -qE "^$cluster +$group +0 +${addrs[0]} "; do
        (($(date +%s) <= deadline)) || { fail_reason="the master did not register within 30 s"; return 1; }
        sleep 0.1
      done
    fi
  done
  local master=${addrs[0]}
  mark "brokers started: master $master, slaves ${addrs[1]} ${addrs[2]}"
  deadline=$(($(date +%s) + 30))
  until ctl ha status "$group" >"$work/ha-status.log" 2>&1 &&
      grep -qE "^$group +0 +$master +SYNC_MASTER .* 3/2 in sync" "$work/ha-status.log"; do
    (($(date +%s) <= deadline)) || { fail_reason="the slaves did not get in sync within 30 s"; return 1; }
    sleep 0.2
  done
  mark "master has 3 of 2 copies in sync"
  ctl topic create "$topic" -c "$cluster" -q 8 >"$work/topic.log" 2>&1 ||
    { cat "$work/topic.log"; fail_reason="ferryctl topic create failed"; return 1; }

  java "${jvm[@]}" -Dloss.threads="$threads" -cp "$cp" io.ferrymq.compat.ReplicationLossCheck produce \
    "$namesrv" "$topic" "r$rep" "$work/sent.tsv" "$work/stop" >"$work/producer.log" 2>&1 &
  mark "topic $topic created with 8 queues; producers starting"
  local prod_pid=$!; pids+=("$prod_pid")
  compat_wait_for_line "$work/producer.log" '^producing: first SEND_OK' "$prod_pid" 60 ||
    { fail_reason="producers never got a SEND_OK"; return 1; }
  mark "producing"
  sleep "$before_kill"

  kill_ms=$(now_ms)
  kill -9 "${bpids[0]}"
  wait "${bpids[0]}" 2>/dev/null || true
  mark "master killed (SIGKILL)"

  # Failover: ferryctl fences the slaves, promotes the longest log, re-points the other one.
  local p0 p1 promoted="" attempt
  p0=$(now_ms)
  for attempt in 1 2 3; do
    if ctl ha promote "$group" --member "$master" >>"$work/promote.log" 2>&1; then promoted=yes; break; fi
    sleep 1
  done
  p1=$(now_ms)
  mark "ferryctl ha promote ${promoted:-failed} after $attempt attempt(s)"
  if [[ -z "$promoted" ]]; then
    ctl ha status "$group" >"$work/ha-status.log" 2>&1 || true
    fail_reason="ferryctl ha promote failed $attempt times"
    return 1
  fi
  local new_master
  new_master=$(sed -nE 's/^promoted: ([0-9.]+:[0-9]+) is master of epoch ([0-9]+).*/\1 (epoch \2)/p' "$work/promote.log")

  sleep "$after_promote"
  touch "$work/stop"
  mark "producers told to stop"
  local status=0
  wait "$prod_pid" || status=$?
  ((status == 0)) || { fail_reason="producer exited with status $status"; return 1; }
  mark "producers stopped (status $status)"
  ctl ha status "$group" >"$work/ha-status.log" 2>&1 || true

  java "${jvm[@]}" -cp "$cp" io.ferrymq.compat.ReplicationLossCheck verify \
    "$namesrv" "$topic" "$work/sent.tsv" "$work/read.txt" "$kill_ms" >"$work/verify.log" 2>&1 || status=$?
  mark "drained and checked (status $status)"
  local result
  result=$(grep -E '^RESULT ' "$work/verify.log" | tail -1 || true)
  [[ -n "$result" ]] || { fail_reason="the check printed no RESULT line"; return 1; }
  # RESULT PASS sent=.. acked=.. lost=.. recovered=.. duplicated=.. unexpected=.. unavailable=..s ...
  summary=$(sed -E 's/^RESULT [A-Z]+ (sent=[0-9]+ acked=[0-9]+ lost=[0-9]+ recovered=[0-9]+ duplicated=[0-9]+ unexpected=[0-9]+ unavailable=[^ ]+) .*/\1/' <<<"$result")
  summary="$summary promote=$(secs $((p1 - p0)) 2)s new master ${new_master:-?} wall=$(secs $(($(now_ms) - t_start)))s"
  if ((status != 0)); then
    fail_reason="check failed: $(sed 's/^RESULT //' <<<"$result")"
    return 1
  fi
  return 0
}

passed=0
failed=0
t_all=$(date +%s)
echo "== replication loss: $reps repetition(s), $threads producers, kill after ${before_kill}s, ${after_promote}s after the failover"
for rep in $(seq 1 "$reps"); do
  summary=""
  fail_reason=""
  set +e
  run_once "$rep"
  rc=$?
  set -e
  if ((rc == 0)); then
    passed=$((passed + 1))
    echo "replication loss run $rep/$reps: $summary"
  else
    failed=$((failed + 1))
    echo "replication loss run $rep/$reps FAILED: ${fail_reason:-unknown} ${summary:+($summary)}"
    dump_logs
    [[ -n "${FMQ_LOSS_KEEP:-}" ]] && echo "work directory kept: $work"
  fi
  cleanup
done
echo "== replication loss took $(($(date +%s) - t_all))s"
echo "replication loss: $passed passed, $failed failed"
((failed == 0))

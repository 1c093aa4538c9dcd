#!/usr/bin/env bash
# mqadmin compatibility check: runs Apache RocketMQ's own mqadmin (rocketmq-tools from Maven Central) against a
# name server and asserts on what each command prints. mqadmin exits 0 even when a command throws, so every
# verdict comes from the output.
#
#   tests/compat/run_mqadmin_compat.sh <namesrvAddr> <clusterName> <brokerName>
#
# Commands, in order: clusterList (the broker and its address), updateTopic (a fresh topic, 4+4 queues, on the
# cluster), topicList (lists it), topicRoute (its queue counts), topicStatus (4 queue rows), consumerProgress
# (after SeedGroup from tests/compat/java consumed 40 messages with a fresh group: 4 rows, Diff Total 0) and
# brokerStatus (runtime keys). Prints each command's output and [PASS]/[FAIL]; exits 1 if any failed.
# Environment: FMQ_CACHE_DIR (default ~/.cache/ferrymq), FMQ_COMPAT_PHASE_TIMEOUT (seconds for SeedGroup, 120),
# FMQ_COMPAT_PROGRESS_TIMEOUT (seconds to wait for consumerProgress to show the committed offsets, 30).
set -euo pipefail
# shellcheck source=tests/compat/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 ]] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
namesrv=$1 cluster=$2 broker=$3
timeout_s=${FMQ_COMPAT_PHASE_TIMEOUT:-120}
host=${namesrv%%;*}; host=${host%:*}; port=${namesrv%%;*}; port=${port##*:}
compat_port_open "$host" "$port" || die "nothing listens on name server $host:$port"

run_id=$(date +%s%N | cut -c1-13)
topic="mqadmin_compat_$run_id"
group="mqadmin_compat_cg_$run_id"
seed_count=40
passed=0 failed=0 failures=()
out=""

"$COMPAT_DIR/apache_rocketmq.sh" fetch >/dev/null

mqadmin() {  # mqadmin <command> [args...]: runs it, shows and keeps its output in $out
  echo
  echo "== mqadmin $* (-n $namesrv)"
  out=$("$COMPAT_DIR/apache_rocketmq.sh" mqadmin "$namesrv" "$@" 2>&1) || true
  printf '%s\n' "$out"
}

verdict() {  # verdict <ok 0|1> <command> <detail>
  if [[ $1 == 0 ]]; then
    passed=$((passed + 1)); echo "[PASS] $2: $3"
  else
    failed=$((failed + 1)); failures+=("$2"); echo "[FAIL] $2: $3"
  fi
}

has() { grep -qE -- "$1" <<<"$out"; }
count() { grep -cE -- "$1" <<<"$out" || true; }
re_escape() { sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"; }
b_re=$(re_escape "$broker")

# 1. clusterList: the broker, id 0, with an address.
mqadmin clusterList
broker_addr=$(awk -v c="$cluster" -v b="$broker" '$1 == c && $2 == b && $3 == "0" { print $4; exit }' <<<"$out")
if [[ "$broker_addr" =~ ^[^:]+:[0-9]+$ ]]; then
  verdict 0 clusterList "cluster $cluster lists master $broker at $broker_addr"
else
  verdict 1 clusterList "no row '$cluster $broker 0 <addr>'"
fi
a_re=$(re_escape "${broker_addr:-none}")

# 2. updateTopic on the cluster.
mqadmin updateTopic -c "$cluster" -t "$topic" -r 4 -w 4
if has "create topic to $a_re success" && has "topicName=$topic, readQueueNums=4, writeQueueNums=4"; then
  verdict 0 updateTopic "created $topic with 4 read / 4 write queues on $broker_addr"
else
  verdict 1 updateTopic "no 'create topic to ${broker_addr:-<addr>} success.' with readQueueNums=4, writeQueueNums=4"
fi

# 3. topicList shows it.
mqadmin topicList
if has "^$topic\$"; then
  verdict 0 topicList "lists $topic among $(wc -l <<<"$out") names"
else
  verdict 1 topicList "$topic not listed"
fi

# 4. topicRoute: the broker and its queue counts (mqadmin prints fastjson, whose map keys are not quoted).
mqadmin topicRoute -t "$topic"
if has "\"brokerName\":\"$b_re\"" && has "\"$a_re\"" && has '"readQueueNums":4' && has '"writeQueueNums":4' &&
   has '"perm":6'; then
  verdict 0 topicRoute "route has $broker at $broker_addr with readQueueNums 4, writeQueueNums 4, perm 6"
else
  verdict 1 topicRoute "route lacks $broker/$broker_addr or readQueueNums/writeQueueNums 4 or perm 6"
fi

# 5. topicStatus: four queue rows of the broker.
mqadmin topicStatus -t "$topic"
rows=$(count "^$b_re +[0-3] +[0-9]+ +[0-9]+")
if has '^#Broker Name +#QID +#Min Offset +#Max Offset +#Last Updated' && [[ $rows -eq 4 ]]; then
  verdict 0 topicStatus "4 queue rows (min/max offsets) for $broker"
else
  verdict 1 topicStatus "$rows queue rows for $broker (want 4) or header missing"
fi

# 6. consumerProgress of a group that has consumed everything in the topic. The consumer commits its offsets as
#    it shuts down, with oneway requests, so the progress is polled until it shows them.
echo
echo "== SeedGroup $namesrv $topic $group $seed_count"
cp=$(compat_java_classpath)
# shellcheck disable=SC2046
if java $(compat_client_jvm_opts) -Dcompat.phaseTimeoutSec="$timeout_s" -cp "$cp" io.ferrymq.compat.SeedGroup \
     "$namesrv" "$topic" "$group" "$seed_count"; then
  progress_timeout=${FMQ_COMPAT_PROGRESS_TIMEOUT:-30}
  deadline=$(($(date +%s) + progress_timeout))
  while :; do
    mqadmin consumerProgress -g "$group"
    rows=$(count "^$topic +$b_re +[0-3] +[0-9]+ +[0-9]+ +0 ")
    if has '^#Topic +#Broker Name +#QID +#Broker Offset +#Consumer Offset +#Diff +#LastTime' &&
       [[ $rows -eq 4 ]] && has '^Diff Total: 0$'; then
      verdict 0 consumerProgress "group $group: 4 queues of $topic, each diff 0, Diff Total: 0"
      break
    fi
    if (($(date +%s) >= deadline)); then
      verdict 1 consumerProgress "group $group: $rows queue rows with diff 0 (want 4) or no 'Diff Total: 0' within ${progress_timeout}s"
      break
    fi
    echo "(not caught up yet, asking again)"
  done
else
  verdict 1 consumerProgress "SeedGroup could not send and consume $seed_count messages with group $group"
fi

# 7. brokerStatus: runtime keys of the broker found in clusterList.
if [[ -n "$broker_addr" ]]; then
  mqadmin brokerStatus -b "$broker_addr"
  max_offset=$(awk -F': *' '/^commitLogMaxOffset +:/ { print $2; exit }' <<<"$out")
  missing=()
  for key in commitLogMaxOffset commitLogMinOffset brokerVersionDesc brokerVersion msgPutTotalTodayNow \
             msgGetTotalTodayNow putTps runtime bootTimestamp; do
    has "^$key +:" || missing+=("$key")
  done
  if ((${#missing[@]} == 0)) && [[ "$max_offset" =~ ^[0-9]+$ && "$max_offset" -gt 0 ]]; then
    verdict 0 brokerStatus "runtime keys present; commitLogMaxOffset $max_offset, $(grep -E '^brokerVersionDesc' <<<"$out" | tr -s ' ')"
  else
    verdict 1 brokerStatus "missing keys: ${missing[*]:-none}; commitLogMaxOffset '${max_offset:-}' (want > 0)"
  fi
else
  verdict 1 brokerStatus "skipped: clusterList gave no broker address"
fi

# 8. Message queries: printMsg lists what SeedGroup sent; its first message is then found by key, by offset id,
#    by unique key and by queue offset.
mqadmin printMsg -t "$topic" -d true
first=$(grep -m1 '^MSGID: ' <<<"$out" || true)
uniq=$(awk '{print $2}' <<<"$first")
offset_id=$(sed -nE 's/.* msgId=([0-9A-F]+),.*/\1/p' <<<"$first")
key=$(sed -nE 's/.*KEYS=([^,}]+).*/\1/p' <<<"$first")
qid=$(sed -nE 's/.*queueId=([0-9]+),.*/\1/p' <<<"$first")
qoff=$(sed -nE 's/.*queueOffset=([0-9]+),.*/\1/p' <<<"$first")
if [[ -n "$uniq" && -n "$offset_id" && -n "$key" && -n "$qid" && -n "$qoff" ]]; then
  verdict 0 printMsg "$(count '^MSGID: ') messages printed; first $uniq key $key queue $qid offset $qoff"
  mqadmin queryMsgByKey -t "$topic" -k "$key"
  if has "^$uniq +$qid +$qoff\$"; then verdict 0 queryMsgByKey "key $key -> $uniq"; else verdict 1 queryMsgByKey "no row '$uniq $qid $qoff'"; fi
  mqadmin queryMsgById -i "$offset_id"
  if has "^OffsetID: +$offset_id" && has "^Topic: +$topic" && has "^Keys: +\\[?$key"; then
    verdict 0 queryMsgById "offset id $offset_id -> topic $topic, keys $key"
  else
    verdict 1 queryMsgById "no OffsetID/Topic/Keys lines for $offset_id"
  fi
  mqadmin queryMsgByUniqueKey -i "$uniq" -t "$topic"
  if has "^Topic: +$topic" && has "^Keys: +\\[?$key"; then verdict 0 queryMsgByUniqueKey "$uniq found"; else verdict 1 queryMsgByUniqueKey "$uniq not found"; fi
  mqadmin queryMsgByOffset -t "$topic" -b "$broker" -i "$qid" -o "$qoff"
  if has "^OffsetID: +$offset_id"; then verdict 0 queryMsgByOffset "$broker:$qid:$qoff -> $offset_id"; else verdict 1 queryMsgByOffset "no OffsetID $offset_id"; fi
else
  verdict 1 printMsg "could not read a message id, key and queue offset from printMsg"
fi

# 9. getBrokerConfig / updateBrokerConfig: maxMessageSize changed at once, then put back.
if [[ -n "$broker_addr" ]]; then
  mqadmin getBrokerConfig -b "$broker_addr"
  orig=$(sed -nE 's/^maxMessageSize +=  ([0-9]+)$/\1/p' <<<"$out")
  if [[ -n "$orig" ]] && has '^fileReservedTime +=  [0-9]+$'; then
    verdict 0 getBrokerConfig "maxMessageSize $orig, $(count ' =  ') keys"
  else
    verdict 1 getBrokerConfig "no maxMessageSize / fileReservedTime lines"
  fi
  mqadmin updateBrokerConfig -b "$broker_addr" -k maxMessageSize -v 1048576
  ok_update=$(count "update broker config success, $a_re")
  mqadmin getBrokerConfig -b "$broker_addr"
  if [[ $ok_update -eq 1 ]] && has '^maxMessageSize +=  1048576$'; then
    verdict 0 updateBrokerConfig "maxMessageSize 1048576 applied at once"
  else
    verdict 1 updateBrokerConfig "no success line, or getBrokerConfig does not show 1048576"
  fi
  [[ -n "$orig" ]] && mqadmin updateBrokerConfig -b "$broker_addr" -k maxMessageSize -v "$orig"
fi

# 10. deleteTopic: from the brokers and the name servers.
mqadmin updateTopic -c "$cluster" -t "${topic}_del" -r 1 -w 1
mqadmin deleteTopic -c "$cluster" -t "${topic}_del"
if has "delete topic \\[${topic}_del\\] from cluster \\[$cluster\\] success" && has "from NameServer success"; then
  mqadmin topicList
  if has "^${topic}_del\$"; then verdict 1 deleteTopic "still listed"; else verdict 0 deleteTopic "${topic}_del deleted"; fi
else
  verdict 1 deleteTopic "no success lines"
fi

echo
echo "run_mqadmin_compat: $passed passed, $failed failed"
if ((failed > 0)); then
  echo "failed commands: ${failures[*]}"
  echo "RESULT: FAIL"
  exit 1
fi
echo "RESULT: PASS"
